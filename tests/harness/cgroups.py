"""Cgroups the harnesses create for their managers, and their removal."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def remove_cgroup(cg: Path, timeout: float = 10.0) -> None:
    """Kill whatever is still in ``cg`` (cgroup.kill where there is one), then remove it, deepest first."""
    if not cg.exists():
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(p.read_text().strip() for p in cg.rglob("cgroup.procs")):
            break
        kill = cg / "cgroup.kill"
        if kill.exists():
            kill.write_text("1")
        time.sleep(0.1)
    for sub in sorted((p for p in cg.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        cg.rmdir()
