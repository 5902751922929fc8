"""The state file: atomic writes, and a corrupt file moved aside instead of crashing."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from supervisor.core.state import MAPS, State, StateFormatError, document_head, from_document

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


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


class Encoder:
    """A state as ``json.dumps(to_document(state), separators=(",", ":"), sort_keys=True)``, byte for byte.

    Each per-item entry (``MAPS``) is encoded again only when its value changed since the
    last call (equal values encode alike: every time in the state is UTC). A step changes
    a few items of a thousand, and encoding the whole document each time cost 13-15 ms of
    CPU and a ~5 MB transient at 1,000 timers, at every alert, restart and finished run.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, tuple[Any, bytes]]] = {key: {} for key in MAPS}  # (value, its piece)

    def __call__(self, state: State) -> bytes:
        """The document's bytes."""
        parts = {key: _dumps(value) for key, value in document_head(state).items()}
        for key, (of, entry) in MAPS.items():
            parts[key] = self._map(key, of(state), entry)
        return b"{" + b",".join(_dumps(key) + b":" + parts[key] for key in sorted(parts)) + b"}"

    def _map(self, key: str, values: Mapping[str, Any], entry: Callable[[Any], object]) -> bytes:
        known, kept = self._entries[key], {}
        for name in sorted(values):
            value = values[name]
            cached = known.get(name)
            if cached is not None and (cached[0] is value or cached[0] == value):
                kept[name] = cached
            else:
                kept[name] = (value, _dumps(name) + b":" + _dumps(entry(value)))
        self._entries[key] = kept  # entries of items gone since are dropped
        return b"{" + b",".join(piece for _value, piece in kept.values()) + b"}"


class StateStore:
    """``state_dir/state.json``: load (tolerating corruption) and save atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._encode = Encoder()

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
        atomic_write(self.path, self._encode(state))

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
