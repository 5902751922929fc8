"""The output of one run, read from the journal with systemd's own library (blocking; run off the loop).

A run is found by its invocation id (``_SYSTEMD_INVOCATION_ID`` on what the
service printed, ``INVOCATION_ID``/``USER_INVOCATION_ID`` on what the manager
said about it); when nothing carries the id, by unit and the run's time range.
The excerpt is the last ``lines`` lines, at most ``MAX_BYTES``. Anything that
prevents reading (no library, no journald, no permission) is reported as a
reason, never raised.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_BYTES = 4096
#: The manager's own messages that close a run: once one is in, the run's lines are too.
_CLOSING = {
    "7ad2d189f7e94e70a38c781354912448",  # unit succeeded ("Deactivated successfully")
    "d9b373ed55a64feb8242e02dbe79a49c",  # unit failed ("Failed with result ...")
    "98e322203f7a4ed290d09fe03c09fe15",  # process exited
    "9d1aaa27d60140bd96365438aad20286",  # unit stopped
}
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
    for field in ("_SYSTEMD_INVOCATION_ID", "INVOCATION_ID", "USER_INVOCATION_ID"):
        reader.add_match(**{field: run_id})
        reader.add_disjunction()
    return _tail(reader, lines)


def _by_time(
    reader: Any, unit: str, started_at: datetime, finished_at: datetime | None, lines: int
) -> list[dict[str, Any]]:
    reader.flush_matches()
    for field in ("_SYSTEMD_UNIT", "UNIT", "_SYSTEMD_USER_UNIT", "USER_UNIT"):
        reader.add_match(**{field: unit})
        reader.add_disjunction()
    lo = started_at - timedelta(seconds=1)
    hi = (finished_at + timedelta(seconds=1)) if finished_at else None
    found = []
    for entry in _tail(reader, lines * 4):
        at = entry.get("__REALTIME_TIMESTAMP")
        if isinstance(at, datetime):
            at = at.astimezone(started_at.tzinfo)
            if at < lo or (hi is not None and at > hi):
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
