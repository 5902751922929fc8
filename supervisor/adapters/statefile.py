"""The state file: atomic writes, and a corrupt file moved aside instead of crashing."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import structlog

from supervisor.core.state import State, StateFormatError, from_document, to_document

log = structlog.get_logger("missionctl.state")


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateStore:
    """``state_dir/state.json``: load (tolerating corruption) and save atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> State:
        """The saved state; an empty one if there is none or it cannot be used."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            return self._set_aside(f"unreadable: {exc}")
        try:
            return from_document(json.loads(raw))
        except (ValueError, StateFormatError) as exc:
            return self._set_aside(str(exc))

    def save(self, state: State) -> None:
        """Persist ``state`` atomically."""
        data = json.dumps(to_document(state), separators=(",", ":"), sort_keys=True).encode()
        atomic_write(self.path, data)

    def _set_aside(self, why: str) -> State:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            log.error("state_file_corrupt", path=str(self.path), error=why, moved_to=None, move_error=str(exc))
        else:
            log.error("state_file_corrupt", path=str(self.path), error=why, moved_to=str(aside))
        return State()

    def peek(self) -> State:
        """Read-only load for tools (``status``): never moves anything aside."""
        try:
            return from_document(json.loads(self.path.read_bytes()))
        except (OSError, ValueError, StateFormatError):
            return State()
