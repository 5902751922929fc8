"""The secrets file (``missionctl.env``, systemd ``EnvironmentFile=`` syntax) read by the process itself.

systemd reads the file only when the service starts; re-reading it here on SIGHUP
is what lets ``systemctl reload missionctl`` pick up a secret added to it. The
CLI reads the same file, so ``missionctl alerts test`` from a root shell sees the
secrets the service sees. Values are never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def parse(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#``/``;`` comments and blank lines skipped; one level of quotes removed."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        match = _LINE.match(raw)
        if match is None:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key] = value
    return found


def read(path: Path) -> dict[str, str] | None:
    """The file's variables; None when it does not exist or cannot be read (not an error)."""
    try:
        return parse(path.read_text(errors="replace"))
    except OSError:
        return None


class EnvFile:
    """Applies one file to an environment and remembers which keys came from it."""

    def __init__(self, path: Path, environ: MutableMapping[str, str] | None = None) -> None:
        self.path = path
        self.environ = os.environ if environ is None else environ
        self.keys: set[str] = set()

    def fill(self) -> None:
        """Set the file's variables that the environment does not have yet (what the CLI does)."""
        found = read(self.path) or {}
        for key, value in found.items():
            if key not in self.environ:
                self.environ[key] = value
        self.keys = set(found)

    def reload(self) -> tuple[set[str], set[str]]:
        """Make the environment match the file again; returns the (changed, removed) key names."""
        found = read(self.path)
        if found is None:
            return set(), set()
        changed = {k for k, v in found.items() if self.environ.get(k) != v}
        removed = self.keys - set(found)
        for key in removed:
            self.environ.pop(key, None)
        self.environ.update(found)
        self.keys = set(found)
        return changed, removed
