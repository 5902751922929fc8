"""Uptime over a window, from an item's status history (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def uptime(history: Sequence[tuple[datetime, str]], start: datetime, now: datetime) -> float | None:
    """Percent of ``[start, now]`` the item was ``ok`` (paused time is left out).

    ``history`` is (at, status) in time order and should include the last status
    change before ``start``; None when nothing is known about the window.
    """
    known = 0.0
    good = 0.0
    for i, (at, status) in enumerate(history):
        end = history[i + 1][0] if i + 1 < len(history) else now
        lo, hi = max(at, start), min(end, now)
        if hi <= lo or status == "paused":
            continue
        span = (hi - lo).total_seconds()
        known += span
        if status == "ok":
            good += span
    return round(100.0 * good / known, 3) if known > 0 else None
