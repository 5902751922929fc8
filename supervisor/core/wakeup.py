"""When to look again with no event: the earliest moment a status can change, or a restart or alert become due.

Budgets expiring, runs becoming hung, restarts becoming allowed, alerts and summaries
falling due, pauses and silences ending, incidents settling, push heartbeats becoming
late: the daemon sleeps until the earliest of them (or a signal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta

from supervisor.core import ratelimit, silences
from supervisor.core.alerts import AlertPolicy, alert_wakeups
from supervisor.core.decide import UNSCHEDULED_SETTLE, Decision
from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import RESTARTABLE, ItemPolicy, Kind, Observation, OnHung, OnStale, Status, TimerObservation
from supervisor.core.silences import Window
from supervisor.core.status import Cause


def next_wakeup(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    decision: Decision,
    now: datetime,
    alerting: AlertPolicy | None = None,
    only: Set[str] | None = None,
    windows: Sequence[Window] = (),
) -> datetime | None:
    """Earliest future moment a status can change, or a restart or alert become due, with no event.

    ``only``: the moments of these items alone (a step that decided only them; the others'
    moments are those of the step before).
    """
    moments: list[datetime] = alert_wakeups(decision.state, alerting, now, only) if alerting else []
    moments += [u for n, u in decision.state.paused.items() if u is not None and (only is None or n in only)]
    moments += silences.boundaries(decision.state.silences, windows, now)  # a silence begins or ends: judged then
    for name in policies if only is None else [n for n in only if n in policies]:
        policy = policies[name]
        found = decision.assessments.get(name)
        obs = observations.get(name)
        if found is None:
            continue
        if isinstance(obs, TimerObservation) and found.budget and found.budget.seconds is not None:
            anchor = obs.last_trigger or obs.active_enter
            if anchor is not None:
                moments.append(anchor + timedelta(seconds=found.budget.seconds))
        memory = decision.state.runs.get(name)
        limit = found.max_runtime
        current = memory.current if memory and memory.phase is RunPhase.RUNNING else None
        if current and current.started_at and limit is not None and limit.seconds is not None:
            moments.append(current.started_at + timedelta(seconds=limit.seconds))  # the run becomes hung then
        item = decision.state.items.get(name)
        if item is not None and item.unscheduled_since is not None and found.status is not Status.DEAD:
            moments.append(item.unscheduled_since + UNSCHEDULED_SETTLE)  # look again: does it still hold?
        if item is not None and item.ok_since is not None:  # an incident settling
            moments.append(item.ok_since + timedelta(seconds=(alerting or AlertPolicy()).incident.settle_s))
        if found.next_at is not None and policy.ping is not None:  # a push heartbeat becomes late then
            moments.append(found.next_at + timedelta(seconds=policy.ping.grace_s))
        stoppable = found.status is Status.HUNG and policy.on_hung is OnHung.STOP
        acts = policy.kind in (Kind.TIMER, Kind.DAEMON)
        if acts and (stoppable or (found.status in RESTARTABLE and policy.on_stale is OnStale.RESTART)):
            attempts = decision.state.restarts.get(name, ())
            moments.append(ratelimit.next_allowed(attempts, policy.restart, now))
            if item is not None and found.status in (Status.DEAD, Status.DOWN):
                moments.append(item.since + timedelta(seconds=policy.restart.after_s))
            verdict = decision.state.probes.get(name)
            if found.cause is Cause.PROBE and verdict is not None and verdict.since is not None:
                moments.append(verdict.since + timedelta(seconds=policy.restart.after_s))
    future = [m for m in moments if m > now]
    return min(future) if future else None
