"""Maintenance windows and silences: which items are quiet now, and until when (pure).

A silenced item is observed, assessed and recorded as usual — its status stays
truthful — but it is neither restarted nor alerted. Its alert memory keeps
counting, so when the silence ends it is judged once: what is still a problem
sends one ``down``; what broke and recovered inside the window sends nothing; an
incident announced before the window that ended inside it sends its ``recovered``.

Two sources: recurring **windows** from the registry (an ``OnCalendar=`` spec in a
time zone and a duration) and ad-hoc **silences** (a glob, an end, a reason),
persisted in the state.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from supervisor.core import calendar

#: A window's elapses are searched this far back for one still open (the longest window allowed).
MAX_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Window:
    """A recurring maintenance window: ``items`` globs, quiet from each elapse of ``calendar`` for ``duration_s``."""

    items: tuple[str, ...]
    calendar: str  # normalized OnCalendar= spec
    duration_s: float
    timezone: str = "UTC"
    reason: str = ""

    def open_until(self, now: datetime) -> datetime | None:
        """The end of the occurrence open at ``now`` (the latest end when occurrences overlap), else None."""
        zone = ZoneInfo(self.timezone)
        length = timedelta(seconds=self.duration_s)
        start = calendar.next_elapse(self.calendar, now - length - timedelta(microseconds=1), zone)
        until = None
        while start is not None and start <= now:
            until = start + length
            start = calendar.next_elapse(self.calendar, start, zone)
        return until if until is not None and until > now else None

    def next_start(self, now: datetime) -> datetime | None:
        """When the next occurrence begins."""
        return calendar.next_elapse(self.calendar, now, ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True)
class Silence:
    """An ad-hoc silence: items matching ``pattern`` are quiet until ``until``."""

    id: str
    pattern: str
    until: datetime
    reason: str
    created_at: datetime
    created_by: str = ""

    def matches(self, name: str) -> bool:
        """Whether ``name`` is covered (a glob, case-sensitive like unit names)."""
        return fnmatch.fnmatchcase(name, self.pattern)


def silence_id(pattern: str, created_at: datetime, taken: Iterable[str] = ()) -> str:
    """A short id, distinct from those ``taken``."""
    used = set(taken)
    salt = 0
    while True:
        digest = hashlib.sha256(f"{pattern}|{created_at.isoformat()}|{salt}".encode()).hexdigest()[:10]
        if digest not in used:
            return digest
        salt += 1


def add(silences: tuple[Silence, ...], silence: Silence) -> tuple[Silence, ...]:
    """The silences with ``silence`` added."""
    return (*silences, silence)


def remove(silences: tuple[Silence, ...], silence_id: str) -> tuple[Silence, ...]:
    """The silences without the one named ``silence_id``."""
    return tuple(s for s in silences if s.id != silence_id)


def current(silences: Iterable[Silence], now: datetime) -> tuple[Silence, ...]:
    """The silences not yet expired."""
    return tuple(s for s in silences if s.until > now)


@dataclass(frozen=True, slots=True)
class Quiet:
    """Why and until when an item is quiet."""

    until: datetime
    reason: str


def quiet(
    names: Iterable[str], silences: Iterable[Silence], windows: Iterable[Window], now: datetime
) -> dict[str, Quiet]:
    """The items silenced at ``now``, with the latest end among what covers them."""
    active: list[tuple[tuple[str, ...], Quiet]] = [
        ((s.pattern,), Quiet(s.until, s.reason or f"silence {s.id}")) for s in silences if s.until > now
    ]
    for window in windows:
        until = window.open_until(now)
        if until is not None:
            active.append((window.items, Quiet(until, window.reason or "maintenance window")))
    if not active:
        return {}
    out: dict[str, Quiet] = {}
    for name in names:
        for patterns, q in active:
            if (name not in out or q.until > out[name].until) and any(fnmatch.fnmatchcase(name, p) for p in patterns):
                out[name] = q
    return out


def boundaries(silences: Iterable[Silence], windows: Iterable[Window], now: datetime) -> list[datetime]:
    """Moments a silence begins or ends (a decision step is due then, with no event)."""
    moments = [s.until for s in silences if s.until > now]
    for window in windows:
        until = window.open_until(now)
        if until is not None:
            moments.append(until)
        start = window.next_start(now)
        if start is not None:
            moments.append(start)
    return moments
