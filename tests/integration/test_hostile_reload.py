"""Every hostile registry, sent to a running daemon by SIGHUP: it stays up, on its old configuration."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from tests.config.hostile import write_corpus
from tests.harness.lab import Lab, wait_until


def put(source: Path, name: str, target: Path) -> None:
    """Make ``target`` (the registry path) what ``source`` is: file content, a FIFO, a device, a directory..."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    if name == "fifo":
        os.mkfifo(target)
    elif name in ("dev-zero", "symlink-to-dev-zero"):
        target.symlink_to("/dev/zero")
    elif name == "directory":
        target.mkdir()
    elif name in ("missing", "below-a-file"):
        pass
    else:
        shutil.copyfile(source, target)


def test_a_daemon_survives_every_hostile_registry_by_sighup(lab: Lab) -> None:
    t = lab.timer("steady", "OnActiveSec=0\nOnUnitActiveSec=1h")
    good = lab.write_registry(f"  {t}: {{}}\n").read_bytes()
    proc = lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    corpus = write_corpus(lab.dir / "hostile")
    assert len(corpus) >= 50
    for i, (name, source) in enumerate(corpus, start=1):
        put(source, name, lab.registry)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda n=i: len(lab.events("registry_rejected")) >= n, timeout=15, what=f"{name} rejected")
        assert proc.poll() is None, (name, lab.log_text()[-2000:])
    rejected = lab.events("registry_rejected")
    assert len(rejected) == len(corpus) and all(e["kept"] == "running configuration" for e in rejected)
    assert "Traceback" not in lab.log_text()
    if lab.registry.is_dir():
        shutil.rmtree(lab.registry)
    else:
        lab.registry.unlink(missing_ok=True)
    lab.registry.write_bytes(good)
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: lab.events("registry_reloaded"), what="the good file accepted again")
    assert lab.status_of(t) == "ok" and proc.poll() is None
    assert lab.stop_daemon(proc) == 0
