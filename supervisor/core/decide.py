"""One decision step: (policies, observations, state, now) -> (state, transitions, actions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from supervisor.core import ratelimit
from supervisor.core.model import RESTARTABLE, ItemPolicy, Observation, OnStale, Status, TimerObservation
from supervisor.core.state import ItemState, State, Transition
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


def decide(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    state: State,
    now: datetime,
    *,
    act: bool = True,
) -> Decision:
    """Assess every item, record transitions and choose restarts within budget.

    With ``act=False`` nothing is restarted or escalated (a read-only look).
    """
    assessments: dict[str, Assessment] = {}
    items: dict[str, ItemState] = {}
    restarts = {
        u: ratelimit.in_window(ts, policies[u].restart, now) if u in policies else ts
        for u, ts in state.restarts.items()
    }
    transitions: list[Transition] = []
    actions: list[Action] = []
    for name, policy in policies.items():
        found = assess(policy, observations.get(name), now)
        assessments[name] = found
        previous = state.items.get(name)
        current = _carry(previous, found, now)
        if previous is None or previous.status is not found.status:
            transitions.append(
                Transition(
                    name,
                    previous.status if previous else None,
                    found.status,
                    found.reason,
                    now,
                    initial=previous is None,
                )
            )
        if act and found.status in RESTARTABLE and policy.on_stale is OnStale.RESTART:
            attempts = restarts.get(name, ())
            if ratelimit.exhausted(attempts, policy.restart, now):
                if not current.escalated:
                    current = replace(current, escalated=True)
                    actions.append(Escalate(name, found.reason, now))
            elif ratelimit.next_allowed(attempts, policy.restart, now) <= now:
                restarts[name] = (*attempts, now)
                actions.append(Restart(name, name, len(restarts[name])))
        items[name] = current
    new_state = State(
        items=items,
        restarts={u: ts for u, ts in restarts.items() if ts and u in policies},
        transitions=state.transitions,
    ).with_transitions(transitions)
    return Decision(new_state, assessments, transitions, actions)


def _carry(previous: ItemState | None, found: Assessment, now: datetime) -> ItemState:
    if previous is None or previous.status is not found.status:
        return ItemState(
            found.status,
            now,
            found.reason,
            escalated=False
            if found.status is Status.OK
            else bool(previous and previous.escalated and previous.status.is_problem),
        )
    return previous  # same status: keep the record as it was at the transition


def next_wakeup(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    decision: Decision,
    now: datetime,
) -> datetime | None:
    """Earliest future moment a status can change, or a restart become due, with no event."""
    moments: list[datetime] = []
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
