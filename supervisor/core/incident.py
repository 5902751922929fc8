"""One incident, not every blink: settling, flapping, and the grace given to a deliberate stop (pure).

What an item *is* at one look (its raw assessment) and what is published (the
status in the API, the dashboard, /metrics, transitions and alerts) differ in two
cases, both stated here:

* **Settling.** An announced problem of a daemon is recovered only once the daemon
  has stayed ok for ``settle`` (a crash-looping service is briefly ``active`` after
  every restart; those moments are not recoveries). Until then it is published as
  the problem, with the reason ``recovering: ok for 12s of 1m``.
* **Flapping.** An item whose raw status changed more than ``flap_changes`` times
  within ``flap_within`` is flapping: held as the problem it keeps returning to
  (timers too), announced at once even before ``confirm``, and recovered only after
  ``settle`` of ok.

A daemon or timer that was *stopped cleanly* (inactive, not failed) is given
``restart.after`` before it is restarted or alerted: that is what a deliberate
``systemctl stop``, a package upgrade or a daemon-reload storm looks like.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from supervisor.core.budget import format_duration
from supervisor.core.model import Kind, Status
from supervisor.core.state import ItemState
from supervisor.core.status import Assessment, Cause


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    """How long ok must last to end an incident, and what counts as flapping."""

    settle_s: float = 60.0
    flap_changes: int = 6
    flap_within_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Tracking:
    """What the item's memory keeps about raw statuses (see ItemState)."""

    raw: Status
    changes: tuple[datetime, ...]
    ok_since: datetime | None
    bad: Status | None
    bad_reason: str
    flapping: bool


def publish(
    kind: Kind, found: Assessment, memory: ItemState | None, policy: IncidentPolicy, now: datetime
) -> tuple[Assessment, Tracking]:
    """The assessment to publish for this look, and the raw-status memory to keep."""
    raw = found.status
    window = timedelta(seconds=policy.flap_within_s)
    changes = memory.changes if memory else ()
    if memory is not None and memory.raw is not None and memory.raw is not raw and raw is not Status.PAUSED:
        changes = (*changes, now)
    changes = tuple(t for t in changes if now - t <= window)[-(policy.flap_changes + 1) :]
    flapping = len(changes) > policy.flap_changes
    bad = memory.bad if memory else None
    bad_reason = memory.bad_reason if memory else ""
    if raw.is_problem:
        tracking = Tracking(raw, changes, None, raw, found.reason, flapping)
        if flapping:
            found = replace(found, reason=f"flapping: {_changes(changes, window)}; now {found.reason}")
        return found, tracking
    announced = memory is not None and memory.announced
    if raw is Status.OK and bad is not None and ((announced and kind is Kind.DAEMON) or flapping):
        ok_since = (memory.ok_since if memory else None) or now
        lasted = (now - ok_since).total_seconds()
        if lasted < policy.settle_s:
            why = f"recovering: ok for {format_duration(lasted)} of {format_duration(policy.settle_s)}"
            if flapping:
                why = f"flapping: {_changes(changes, window)}; {why}"
            held = replace(found, status=bad, reason=f"{why} (was: {bad_reason})", cause=None)
            return held, Tracking(raw, changes, ok_since, bad, bad_reason, flapping)
    return found, Tracking(raw, changes, None, None if raw is Status.OK else bad, bad_reason, flapping)


def in_stop_grace(found: Assessment, since: datetime, after_s: float, now: datetime) -> bool:
    """Whether a cleanly stopped item is still left alone (no alert yet): stopped less than ``after_s`` ago."""
    return found.cause is Cause.STOPPED and now < since + timedelta(seconds=after_s)


def _changes(changes: tuple[datetime, ...], window: timedelta) -> str:
    return f"{len(changes)} status changes in {format_duration(window.total_seconds())}"
