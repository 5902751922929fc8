"""Which alerts a decision step produces, and where they go (pure).

Alerts follow incidents, not observations: one ``down`` when an item goes bad
(after ``confirm`` consecutive bad observations), one ``changed`` per change
between problem statuses, one ``recovered`` when it is ok again, an optional
reminder every ``remind_every``, one ``escalated`` when its restart budget is
spent, and a periodic ``summary``. Nothing is announced for a problem that
recovered before it was confirmed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from supervisor.core.budget import format_duration
from supervisor.core.incident import IncidentPolicy
from supervisor.core.model import Status
from supervisor.core.runs import Run
from supervisor.core.state import ItemState, State, Transition
from supervisor.core.status import Assessment
from supervisor.core.times import iso as _iso

RECHECK_S = 5.0  # how soon an unconfirmed problem is looked at again


class AlertEvent(StrEnum):
    """The kinds of message; the words are part of the webhook payload."""

    DOWN = "down"
    RECOVERED = "recovered"
    CHANGED = "changed"
    ESCALATED = "escalated"
    ANOMALY = "anomaly"
    SUMMARY = "summary"


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Alert semantics from the registry."""

    confirm: int = 1
    remind_every_s: float = 0.0
    summary_every_s: float = 0.0
    host: str = "localhost"
    incident: IncidentPolicy = field(default_factory=IncidentPolicy)  # settling and flapping


@dataclass(frozen=True, slots=True)
class Alert:
    """One message to deliver, identical on every channel it is routed to."""

    id: str
    event: AlertEvent
    item: str | None
    kind: str | None
    status: str | None
    previous_status: str | None
    reason: str
    critical: bool
    at: datetime
    host: str
    since: datetime | None = None
    reminder: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    output: str | None = None  # the journal excerpt of the run this alert is about

    def payload(self) -> dict[str, Any]:
        """The JSON body of webhooks (and what the outbox stores)."""
        return {
            "id": self.id,
            "event": self.event.value,
            "item": self.item,
            "kind": self.kind,
            "status": self.status,
            "previous_status": self.previous_status,
            "reason": self.reason,
            "critical": self.critical,
            "at": _iso(self.at),
            "host": self.host,
            "since": _iso(self.since),
            "reminder": self.reminder,
            "details": dict(self.details),
            "output": self.output,
        }


def alert_id(*parts: object) -> str:
    """A delivery id derived from what the alert is about: the same on a replayed step."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What an alert about one item says besides its status."""

    kind: str
    critical: bool
    details: Mapping[str, Any]
    output: str | None = None  # the excerpt of the failed or hung run, when known


def item_alerts(
    name: str,
    found: Assessment,
    memory: ItemState,
    change: Transition | None,
    *,
    observed: bool,
    escalate: bool,
    facts: ItemFacts,
    policy: AlertPolicy,
    now: datetime,
    grace: bool = False,
    flapping: bool = False,
    hold: bool = False,
    released: bool = False,
) -> tuple[ItemState, list[Alert]]:
    """The alerts of one item in one step, and its updated alerting memory.

    ``grace``: a cleanly stopped item within ``restart.after`` is not counted towards
    ``confirm`` yet. ``flapping``: a flapping item is announced without waiting for ``confirm``.
    ``hold``: the item is silenced or blocked: its memory counts on as usual but nothing is
    sent (a problem is announced, or a recovery told, once it is no longer held).
    ``released``: it was held until this step (a problem that changed meanwhile says so).
    """
    alerts: list[Alert] = []
    mem = memory

    def emit(event: AlertEvent, previous: Status | None, *, reminder: bool = False) -> None:
        nonlocal mem
        seq = mem.seq + 1
        alerts.append(
            Alert(
                id=alert_id(policy.host, name, mem.incident, seq),
                event=event,
                item=name,
                kind=facts.kind,
                status=found.status.value,
                previous_status=previous.value if previous else None,
                reason=found.reason,
                critical=facts.critical,
                at=now,
                host=policy.host,
                since=mem.since,
                reminder=reminder,
                details=facts.details,
                output=facts.output if found.status.is_problem else None,
            )
        )
        mem = replace(mem, seq=seq, last_alert_at=now)

    if found.status.is_problem:
        if not mem.announced and change is not None and (change.old is None or not change.old.is_problem):
            mem = replace(mem, incident=mem.incident + 1, streak=0)
        if (observed or change is not None) and not grace:
            mem = replace(mem, streak=mem.streak + 1)
        if hold:
            pass  # counted, not sent
        elif not mem.announced and not grace and (mem.streak >= policy.confirm or flapping):
            # an incident found at start-up has no previous status ("unknown")
            emit(AlertEvent.DOWN, None if change is not None and change.old is None else Status.OK)
            mem = replace(mem, announced=True, problem=found.status)
        elif mem.announced and (change is not None or released) and found.status is not mem.problem:
            emit(AlertEvent.CHANGED, mem.problem)
            mem = replace(mem, problem=found.status)
        elif (
            mem.announced
            and policy.remind_every_s > 0
            and mem.last_alert_at is not None
            and now - mem.last_alert_at >= timedelta(seconds=policy.remind_every_s)
        ):
            emit(AlertEvent.DOWN, Status.OK, reminder=True)
    elif mem.announced and hold:
        pass  # its recovery is told when the silence ends
    elif mem.announced:
        emit(AlertEvent.RECOVERED, mem.problem)
        mem = replace(mem, streak=0, announced=False, problem=None)
    elif mem.streak:
        mem = replace(mem, streak=0)
    if escalate:
        emit(AlertEvent.ESCALATED, change.old if change else None)
    return mem, alerts


def anomaly_alert(
    name: str, run: Run, usual: str, memory: ItemState, facts: ItemFacts, policy: AlertPolicy, now: datetime
) -> tuple[ItemState, Alert]:
    """An ``anomaly`` message for a run unusually slow or fast (the item's status is unchanged)."""
    seq = memory.seq + 1
    took = format_duration(run.duration_s) if run.duration_s is not None else "?"
    alert = Alert(
        id=alert_id(policy.host, name, "anomaly", run.id),
        event=AlertEvent.ANOMALY,
        item=name,
        kind=facts.kind,
        status=memory.status.value,
        previous_status=None,
        reason=f"run {run.anomaly}: took {took}" + (f" ({usual})" if usual else ""),
        critical=facts.critical,
        at=now,
        host=policy.host,
        since=run.started_at,
        details=facts.details,
        output=run.output,
    )
    return replace(memory, seq=seq), alert


def summary_alert(
    state: State, assessments: Mapping[str, Assessment], policy: AlertPolicy, now: datetime
) -> tuple[State, Alert | None]:
    """The periodic summary, when one is due (the first comes one period after start)."""
    every = policy.summary_every_s
    if every <= 0:
        return state, None
    if state.last_summary_at is None:
        return replace(state, last_summary_at=now), None
    if now - state.last_summary_at < timedelta(seconds=every):
        return state, None
    problems = [
        {"item": n, "status": a.status.value, "reason": a.reason}
        for n, a in sorted(assessments.items())
        if a.status.is_problem
    ]
    counts: dict[str, int] = {}
    for a in assessments.values():
        counts[a.status.value] = counts.get(a.status.value, 0) + 1
    total, ok = len(assessments), counts.get("ok", 0)
    alert = Alert(
        id=alert_id(policy.host, "summary", now.isoformat()),
        event=AlertEvent.SUMMARY,
        item=None,
        kind=None,
        status="ok" if not problems else "problem",
        previous_status=None,
        reason=f"{ok}/{total} OK",
        critical=False,
        at=now,
        host=policy.host,
        details={"counts": counts, "total": total, "ok": ok, "problems": problems},
    )
    return replace(state, last_summary_at=now), alert


def alert_wakeups(state: State, policy: AlertPolicy, now: datetime, only: Set[str] | None = None) -> list[datetime]:
    """Moments an alert can become due without any systemd event (of the items ``only``, when given)."""
    moments: list[datetime] = []
    if policy.summary_every_s > 0 and state.last_summary_at is not None:
        moments.append(state.last_summary_at + timedelta(seconds=policy.summary_every_s))
    items = state.items if only is None else {n: state.items[n] for n in only if n in state.items}
    for mem in items.values():
        if not mem.status.is_problem or mem.silenced_until is not None or mem.blocked_by:
            continue  # a held item's moments are its silence's end or its root's recovery
        if not mem.announced:
            moments.append(now + timedelta(seconds=RECHECK_S))
        elif policy.remind_every_s > 0 and mem.last_alert_at is not None:
            moments.append(mem.last_alert_at + timedelta(seconds=policy.remind_every_s))
    return moments


def unconfirmed(state: State, only: Set[str] | None = None) -> list[str]:
    """Items to observe again soon: a problem not yet announced, or a timer that seemed unscheduled."""
    items = state.items if only is None else {n: state.items[n] for n in only if n in state.items}
    return [
        n
        for n, m in items.items()
        if (m.status.is_problem and not m.announced and m.silenced_until is None and not m.blocked_by)
        or (m.unscheduled_since is not None and m.status is not Status.DEAD)
    ]


RECOVERY_HOOK = "recovery_hook"


def route(
    alert: Alert,
    configured: Sequence[str],
    critical_route: Iterable[str] | None,
    default_route: Iterable[str] | None,
    has_hook: bool,
) -> list[str]:
    """Channel kinds for an alert: escalations go to the recovery hook, then the critical route."""
    critical = list(critical_route) if critical_route is not None else list(configured)
    default = list(default_route) if default_route is not None else ["discord", "webhook", "apprise"]
    if alert.event is AlertEvent.ESCALATED:
        chosen = ([RECOVERY_HOOK] if has_hook else []) + critical
    elif alert.critical:
        chosen = critical
    else:
        chosen = default
    out: list[str] = []
    for channel in chosen:
        if (channel == RECOVERY_HOOK or channel in configured) and channel not in out:
            out.append(channel)
    return out
