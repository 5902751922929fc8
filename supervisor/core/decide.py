"""One decision step: (policies, observations, state, now) -> (state, transitions, actions)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from supervisor.core import ratelimit
from supervisor.core.alerts import Alert, AlertPolicy, ItemFacts, alert_wakeups, item_alerts, summary_alert
from supervisor.core.model import RESTARTABLE, ItemPolicy, Observation, OnStale, Status, TimerObservation
from supervisor.core.report import item_report
from supervisor.core.state import ItemState, State, Transition, is_paused
from supervisor.core.status import Assessment, assess


@dataclass(frozen=True, slots=True)
class Restart:
    """Restart ``unit`` on behalf of ``item`` (attempt ``attempt`` of the window)."""

    item: str
    unit: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Escalate:
    """The item's restart budget is spent: hand over to the recovery hook and humans."""

    item: str
    reason: str
    at: datetime


Action = Restart | Escalate


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one step. ``state`` must be persisted before ``actions`` run."""

    state: State
    assessments: Mapping[str, Assessment]
    transitions: list[Transition] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def decide(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    state: State,
    now: datetime,
    *,
    act: bool = True,
    alerting: AlertPolicy | None = None,
    observed: Set[str] | None = None,
) -> Decision:
    """Assess every item, record transitions, choose restarts within budget and alerts.

    With ``act=False`` nothing is restarted, escalated or alerted (a read-only look).
    ``observed`` names the items re-read for this step (None: all of them); only
    those count towards ``confirm``.
    """
    assessments: dict[str, Assessment] = {}
    items: dict[str, ItemState] = {}
    restarts = {
        u: ratelimit.in_window(ts, policies[u].restart, now) if u in policies else ts
        for u, ts in state.restarts.items()
    }
    transitions: list[Transition] = []
    actions: list[Action] = []
    alerts: list[Alert] = []
    for name, policy in policies.items():
        found = assess(policy, observations.get(name), now)
        paused = is_paused(state, name, now)
        if paused:
            until = state.paused[name]
            why = f"paused until {until.isoformat()}" if until else "paused"
            found = replace(found, status=Status.PAUSED, reason=f"{why} (would be {found.status}: {found.reason})")
        assessments[name] = found
        previous = state.items.get(name)
        current = _carry(previous, found, now)
        change = None
        if previous is None or previous.status is not found.status:
            old = previous.status if previous else None
            change = Transition(name, old, found.status, found.reason, now, initial=previous is None)
            transitions.append(change)
        escalate = False
        if act and found.status in RESTARTABLE and policy.on_stale is OnStale.RESTART:
            attempts = restarts.get(name, ())
            if ratelimit.exhausted(attempts, policy.restart, now):
                if not current.escalated:
                    current = replace(current, escalated=True)
                    actions.append(Escalate(name, found.reason, now))
                    escalate = True
            elif ratelimit.next_allowed(attempts, policy.restart, now) <= now:
                restarts[name] = (*attempts, now)
                actions.append(Restart(name, name, len(restarts[name])))
        if act and alerting is not None and not paused:  # a paused item keeps its alert memory as it was
            facts = ItemFacts(
                found.kind.value,
                policy.critical,
                _details(item_report(policy, observations.get(name), found, state, now), restarts.get(name, ())),
            )
            seen = observed is None or name in observed
            attempts = restarts.get(name, ())
            current, found_alerts = item_alerts(
                name,
                found,
                current,
                change,
                observed=seen,
                escalate=escalate,
                restarted_at=max(attempts) if attempts else None,
                facts=facts,
                policy=alerting,
                now=now,
            )
            alerts.extend(found_alerts)
        items[name] = current
    new_state = State(
        items=items,
        restarts={u: ts for u, ts in restarts.items() if ts and u in policies},
        transitions=state.transitions,
        last_summary_at=state.last_summary_at,
        paused={n: u for n, u in state.paused.items() if n in policies and (u is None or u > now)},
    ).with_transitions(transitions)
    if act and alerting is not None:
        new_state, summary = summary_alert(new_state, assessments, alerting, now)
        if summary is not None:
            alerts.append(summary)
    return Decision(new_state, assessments, transitions, actions, alerts)


def _details(report: Mapping[str, object], attempts: tuple[datetime, ...]) -> dict[str, object]:
    keys = ("last_trigger", "next_elapse", "age_s", "budget_s", "budget_source", "last_result", "last_exit_status")
    out = {k: report[k] for k in keys}
    out["restarts_in_window"] = len(attempts)
    return out


def _carry(previous: ItemState | None, found: Assessment, now: datetime) -> ItemState:
    if previous is None:
        return ItemState(found.status, now, found.reason)
    if previous.status is not found.status:
        # a new status; escalation lasts while the item stays in trouble
        escalated = previous.escalated and previous.status.is_problem and found.status.is_problem
        return replace(previous, status=found.status, since=now, reason=found.reason, escalated=escalated)
    return previous  # same status: keep the record as it was at the transition


def next_wakeup(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    decision: Decision,
    now: datetime,
    alerting: AlertPolicy | None = None,
) -> datetime | None:
    """Earliest future moment a status can change, or a restart or alert become due, with no event."""
    moments: list[datetime] = alert_wakeups(decision.state, alerting, now) if alerting else []
    moments += [u for u in decision.state.paused.values() if u is not None]
    for name, policy in policies.items():
        found = decision.assessments.get(name)
        obs = observations.get(name)
        if found is None:
            continue
        if isinstance(obs, TimerObservation) and found.budget and found.budget.seconds is not None:
            anchor = obs.last_trigger or obs.active_enter
            if anchor is not None:
                moments.append(anchor + timedelta(seconds=found.budget.seconds))
        if found.status in RESTARTABLE and policy.on_stale is OnStale.RESTART:
            attempts = decision.state.restarts.get(name, ())
            moments.append(ratelimit.next_allowed(attempts, policy.restart, now))
    future = [m for m in moments if m > now]
    return min(future) if future else None
