"""Staleness budgets: explicit, or derived from the timer's own schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from supervisor.core.calendar import CalendarError, max_interval_s
from supervisor.core.model import ItemPolicy, TimerObservation


@dataclass(frozen=True, slots=True)
class Budget:
    """How long a timer may go without firing, and how that was obtained."""

    seconds: float | None
    source: str


def format_duration(seconds: float) -> str:
    """Compact human duration: ``90s``, ``6m40s``, ``25h``, ``2d3h``."""
    if seconds < 10 and abs(seconds - round(seconds)) >= 0.05:
        return f"{seconds:.1f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, total = divmod(total, size)
        if n:
            parts.append(f"{n}{unit}")
        if len(parts) == 2:
            break
    return "".join(parts)


def budget_for(policy: ItemPolicy, obs: TimerObservation, now: datetime) -> Budget:
    """The staleness budget of a timer under its policy."""
    if policy.max_stale_s is not None:
        return Budget(policy.max_stale_s, "explicit")
    candidates: list[tuple[float, str]] = []
    for trig in obs.monotonic:
        if trig.recurring and trig.value_s > 0:
            candidates.append((trig.value_s, f"{trig.setting}={format_duration(trig.value_s)}"))
    unreadable: list[str] = []
    for spec in obs.calendar:
        try:
            interval = max_interval_s(spec, now.replace(tzinfo=None))
        except CalendarError:
            unreadable.append(spec)
            continue
        if interval:
            candidates.append((interval, f"OnCalendar={spec} every {format_duration(interval)}"))
    factor = policy.stale_factor
    if candidates:
        interval, how = min(candidates)
        return Budget(factor * interval, f"derived: {factor:g} × {how}")
    if unreadable and obs.last_trigger and obs.next_elapse and obs.next_elapse > obs.last_trigger:
        interval = (obs.next_elapse - obs.last_trigger).total_seconds()
        return Budget(factor * interval, f"derived: {factor:g} × next−last {format_duration(interval)}")
    return Budget(None, "none: no recurring trigger")
