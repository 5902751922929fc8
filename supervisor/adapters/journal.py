"""The output of one run, read from the journal with systemd's own library (blocking; run off the loop).

A run is found by its invocation id (``_SYSTEMD_INVOCATION_ID`` on what the
service printed, ``INVOCATION_ID``/``USER_INVOCATION_ID`` on what the manager
said about it); when nothing carries the id, by unit and the run's time range.
The excerpt is the last ``lines`` lines, at most ``MAX_BYTES``. Anything that
prevents reading (no library, no journald, no permission) is reported as a
reason, never raised.

journald takes the id of what a service prints from the service's cgroup; when it
reads that output after the process is gone (a short run), the lines keep the unit
and lose the id: one failing run in ten had its excerpt read with the manager's lines
only (system manager, systemd 252). So the unit's lines without an id, from the
run's start until another run's first entry (or a second after the run ended), are
the run's too (``_with_strays``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_BYTES = 4096
#: The manager's own messages that close a run: once one is in, the run's lines are too.
_CLOSING = {
    "7ad2d189f7e94e70a38c781354912448",  # unit succeeded ("Deactivated successfully")
    "d9b373ed55a64feb8242e02dbe79a49c",  # unit failed ("Failed with result ...")
    "98e322203f7a4ed290d09fe03c09fe15",  # process exited
    "9d1aaa27d60140bd96365438aad20286",  # unit stopped
}
_INVOCATION_FIELDS = ("_SYSTEMD_INVOCATION_ID", "INVOCATION_ID", "USER_INVOCATION_ID")
_UNIT_FIELDS = ("_SYSTEMD_UNIT", "UNIT", "_SYSTEMD_USER_UNIT", "USER_UNIT")
SETTLE_S = 1.0  # how long to wait for journald to catch up with a run that just ended
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Excerpt:
    """The tail of a run's output, or why there is none."""

    text: str | None
    unavailable: str | None = None

    def render(self) -> str:
        """What is shown and stored: the text, or ``output unavailable: REASON``."""
        if self.text is not None:
            return self.text
        return f"output unavailable: {self.unavailable}"


def read_excerpt(
    unit: str,
    run_id: str,
    started_at: datetime | None,
    finished_at: datetime | None,
    lines: int,
    *,
    settle_s: float = SETTLE_S,
    path: str | None = None,
) -> Excerpt:
    """The last ``lines`` lines of run ``run_id`` of ``unit``; waits up to ``settle_s`` for a run that ended."""
    try:
        from systemd import journal
    except ImportError:
        return Excerpt(None, "the journal library (systemd-python) is not installed")
    deadline = time.monotonic() + (settle_s if finished_at is not None else 0.0)
    try:
        reader = journal.Reader(path=path) if path else journal.Reader()
    except OSError as exc:
        return Excerpt(None, f"cannot open the journal: {exc.strerror or exc}")
    try:
        if not (reader.has_runtime_files() or reader.has_persistent_files()):
            return Excerpt(None, "no journal files readable (is journald running, may this user read them?)")
        while True:
            entries = _by_invocation(reader, run_id, lines) if _is_invocation(run_id) else []
            if entries and started_at is not None:
                entries = _with_strays(reader, unit, run_id, entries, started_at, finished_at, lines)
            if not entries and started_at is not None:
                entries = _by_time(reader, unit, started_at, finished_at, lines)
            closed = any(str(e.get("MESSAGE_ID", "")).replace("-", "") in _CLOSING for e in entries)
            if closed or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
    except OSError as exc:
        return Excerpt(None, f"cannot read the journal: {exc.strerror or exc}")
    finally:
        reader.close()
    if not entries:
        return Excerpt("")
    return Excerpt(_format(entries, lines))


def _is_invocation(run_id: str) -> bool:
    return len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id)


def _tail(reader: Any, lines: int) -> list[dict[str, Any]]:
    reader.seek_tail()
    found: list[dict[str, Any]] = []
    while len(found) < lines * 4:  # a message can hold several lines; enough to fill the excerpt
        entry = reader.get_previous()
        if not entry:
            break
        found.append(entry)
    found.reverse()
    return found


def _by_invocation(reader: Any, run_id: str, lines: int) -> list[dict[str, Any]]:
    reader.flush_matches()
    for field in _INVOCATION_FIELDS:
        reader.add_match(**{field: run_id})
        reader.add_disjunction()
    return _tail(reader, lines)


def _with_strays(
    reader: Any,
    unit: str,
    run_id: str,
    entries: list[dict[str, Any]],
    started_at: datetime,
    finished_at: datetime | None,
    lines: int,
) -> list[dict[str, Any]]:
    """``entries`` (the run's, by its id) with the unit's lines that lost their id (module docstring)."""
    _match_unit(reader, unit)
    found = strays(_tail(reader, lines * 4), run_id, started_at, finished_at)
    if not found:
        return entries
    return sorted([*entries, *found], key=lambda e: _when(e) or started_at)


def strays(
    unit_entries: list[dict[str, Any]], run_id: str, started_at: datetime, finished_at: datetime | None
) -> list[dict[str, Any]]:
    """Of a unit's entries (oldest first), those without a run's id that are the run's (module docstring)."""
    hi = finished_at + timedelta(seconds=1) if finished_at else None
    found = []
    for entry in unit_entries:
        at = _when(entry)
        if at is not None and at < started_at:
            continue
        if at is not None and hi is not None and at > hi:
            break
        owner = _invocation(entry)
        if owner and owner != run_id:
            break  # another run began
        if not owner:
            found.append(entry)
    return found


def _invocation(entry: dict[str, Any]) -> str:
    """The run an entry names ("" when none)."""
    for field in _INVOCATION_FIELDS:
        value = entry.get(field)
        if value:
            return str(value).replace("-", "").lower()
    return ""


def _when(entry: dict[str, Any]) -> datetime | None:
    """When journald took the entry in (systemd-python gives local time without a zone: made aware)."""
    at = entry.get("__REALTIME_TIMESTAMP")
    return at.astimezone(UTC) if isinstance(at, datetime) else None


def _match_unit(reader: Any, unit: str) -> None:
    reader.flush_matches()
    for field in _UNIT_FIELDS:
        reader.add_match(**{field: unit})
        reader.add_disjunction()


def _by_time(
    reader: Any, unit: str, started_at: datetime, finished_at: datetime | None, lines: int
) -> list[dict[str, Any]]:
    _match_unit(reader, unit)
    lo = started_at - timedelta(seconds=1)
    hi = (finished_at + timedelta(seconds=1)) if finished_at else None
    found = []
    for entry in _tail(reader, lines * 4):
        at = _when(entry)
        if at is not None and (at < lo or (hi is not None and at > hi)):
            continue
        found.append(entry)
    return found


def _format(entries: list[dict[str, Any]], lines: int) -> str:
    out: list[str] = []
    for entry in entries:
        message = entry.get("MESSAGE", "")
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        out.extend(_CONTROL.sub("", line) for line in str(message).splitlines() or [""])
    text = "\n".join(out[-lines:])
    if len(text.encode()) > MAX_BYTES:
        tail = text.encode()[-MAX_BYTES:].decode("utf-8", "ignore")
        text = tail.split("\n", 1)[1] if "\n" in tail else tail
    return text
