"""Refused requests (no or wrong token): rate-limited per remote address, audited as one row per window.

A flood of refused requests must neither grow the history without bound nor cost
a write per request. Per (address, result) and window: the first refusal creates
an audit row; the next ones update its count while under ``limit``, then only at
powers of two; the exact count is written when the window closes. Beyond ``limit``
a request is answered 429. Addresses are bounded too: past ``max_keys`` in a
window, refusals are counted under one ``*`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

WINDOW_S = 60.0
LIMIT = 30
MAX_KEYS = 100


class Write(StrEnum):
    """What the audit log needs for this refusal."""

    INSERT = "insert"  # a new row (count 1)
    UPDATE = "update"  # the row's count changed
    NONE = "none"


@dataclass
class Window:
    """One address's refusals in the current window."""

    start: float
    count: int = 0
    row: int | None = None  # the audit row, once written
    written: int = 0  # the count the row holds


@dataclass(frozen=True, slots=True)
class Verdict:
    """How to answer and what to write."""

    key: tuple[str, str]
    limited: bool  # answer 429
    write: Write
    count: int
    row: int | None = None  # the window's audit row, once written
    closed: tuple[tuple[Window, tuple[str, str]], ...] = ()  # ended windows whose final count to write


class Refusals:
    """The per-address windows (in memory; the audit rows are the durable part)."""

    def __init__(self, window_s: float = WINDOW_S, limit: int = LIMIT, max_keys: int = MAX_KEYS) -> None:
        self.window_s = window_s
        self.limit = limit
        self.max_keys = max_keys
        self.windows: dict[tuple[str, str], Window] = {}

    def note(self, remote: str, result: str, now: float) -> Verdict:
        """One more refused request from ``remote``."""
        stale = [(w, k) for k, w in self.windows.items() if now - w.start >= self.window_s]
        for _, k in stale:
            del self.windows[k]
        closed = tuple((w, k) for w, k in stale if w.row is not None and w.written != w.count)
        key = (remote, result)
        if key not in self.windows and len(self.windows) >= self.max_keys:
            key = ("*", result)
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = Window(start=now)
        window.count += 1
        if window.row is None:
            write = Write.INSERT
        elif window.count <= self.limit or window.count & (window.count - 1) == 0:
            write = Write.UPDATE
        else:
            write = Write.NONE
        return Verdict(key, window.count > self.limit, write, window.count, window.row, closed)

    def written(self, key: tuple[str, str], row: int | None, count: int) -> None:
        """The audit row of ``key``'s window now holds ``count``."""
        window = self.windows.get(key)
        if window is not None:
            if row is not None:
                window.row = row
            window.written = count

    def retry_after(self, key: tuple[str, str], now: float) -> float:
        """Seconds until ``key``'s window closes."""
        window = self.windows.get(key)
        return max(1.0, self.window_s - (now - window.start)) if window else 1.0
