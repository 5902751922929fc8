"""The restart budget: at most N attempts per rolling window, spaced by a backoff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from supervisor.core.model import RestartPolicy


def in_window(attempts: Sequence[datetime], policy: RestartPolicy, now: datetime) -> tuple[datetime, ...]:
    """The attempts that still count: those within ``per_s`` before ``now``."""
    start = now - timedelta(seconds=policy.per_s)
    return tuple(t for t in attempts if t > start)


def exhausted(attempts: Sequence[datetime], policy: RestartPolicy, now: datetime) -> bool:
    """Whether the window holds ``max`` attempts already."""
    return len(in_window(attempts, policy, now)) >= policy.max


def next_allowed(attempts: Sequence[datetime], policy: RestartPolicy, now: datetime) -> datetime:
    """Earliest moment a new attempt is allowed (``now`` if it is allowed already)."""
    live = sorted(in_window(attempts, policy, now))
    candidates = [now]
    if live:
        candidates.append(live[-1] + timedelta(seconds=policy.backoff_s))
    if len(live) >= policy.max:
        # the oldest attempts must leave the window until fewer than max remain
        candidates.append(live[len(live) - policy.max] + timedelta(seconds=policy.per_s))
    return max(candidates)
