"""What an item's status is, from one observation, its policy and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from supervisor.core.budget import Budget, budget_for, format_duration
from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import (
    DaemonObservation,
    ItemPolicy,
    Kind,
    Observation,
    ProbeSpec,
    Status,
    TimerObservation,
)
from supervisor.core.probes import Outcome, ProbeState, describe
from supervisor.core.runs import Limit, RunMemory, RunStats, max_runtime

_NO_RUNS = RunMemory()
_NO_STATS = RunStats()

_INACTIVE = {"inactive", "failed"}


class Cause(StrEnum):
    """Who is in charge of a unit that is not running: it decides whether the supervisor may act."""

    STOPPED = "stopped"  # inactive after a clean stop: an admin, a package upgrade (given restart.after)
    RESTARTING = "restarting"  # systemd is restarting it itself (Restart=): watched, never restarted by us
    GAVE_UP = "gave-up"  # failed: systemd will not bring it back (no Restart=, or its start limit was hit)
    PROBE = "probe"  # the unit is active but its probe finds it down (``probe.on_down`` decides)


@dataclass(frozen=True, slots=True)
class Assessment:
    """An item's status with the facts that led to it."""

    status: Status
    reason: str
    kind: Kind
    budget: Budget | None = None
    age_s: float | None = None
    max_runtime: Limit | None = None
    cause: Cause | None = None
    next_at: datetime | None = None  # a push heartbeat: when the next run is due


def assess(
    policy: ItemPolicy,
    obs: Observation | None,
    now: datetime,
    runs: RunMemory = _NO_RUNS,
    stats: RunStats = _NO_STATS,
    between_runs: bool = False,
    probe: ProbeState | None = None,
    held: Status | None = None,
) -> Assessment:
    """Status of one timer or daemon; ``obs`` is None when systemd does not know the unit.

    ``runs`` is what the supervisor remembers of a timer's runs (``core.runs.track``
    has already taken this observation into account): the last finished run decides
    ``failed``/``ok``, a run in progress never does.
    """
    if isinstance(obs, TimerObservation):
        return assess_timer(policy, obs, now, runs, stats, between_runs)
    if isinstance(obs, DaemonObservation):
        found = assess_daemon(obs)
        if found.status is Status.OK and policy.probe is not None:
            return with_probe(found, policy.probe, probe, held)
        return found
    return Assessment(Status.MISSING, "unit not loaded", policy.kind)


def assess_daemon(obs: DaemonObservation) -> Assessment:
    """A daemon is ok while active; down when failed, stopped, or being restarted by systemd."""
    if not obs.loaded:
        return Assessment(Status.MISSING, f"unit {obs.load_state}", Kind.DAEMON)
    if obs.active_state == "failed":
        if obs.result == "start-limit-hit":
            why = f"systemd gave up: start limit hit after {obs.n_restarts} automatic restarts"
        else:
            why = f"service failed ({obs.result or 'unknown'})"
            if obs.restart != "no":
                why += f", not restarted by systemd (Restart={obs.restart})"
        return Assessment(Status.DOWN, why, Kind.DAEMON, cause=Cause.GAVE_UP)
    if obs.active_state == "inactive":
        return Assessment(Status.DOWN, "service stopped (inactive)", Kind.DAEMON, cause=Cause.STOPPED)
    if obs.systemd_restarting:
        why = f"crashed ({obs.result}); systemd is restarting it (Restart={obs.restart}, {obs.n_restarts} so far)"
        return Assessment(Status.DOWN, why, Kind.DAEMON, cause=Cause.RESTARTING)
    return Assessment(Status.OK, f"service {obs.active_state}", Kind.DAEMON)


def with_probe(found: Assessment, spec: ProbeSpec, probe: ProbeState | None, held: Status | None = None) -> Assessment:
    """An active daemon as its probe sees it: down or degraded by the probe's verdict, ok otherwise.

    With no verdict yet (the unit has just come back), a daemon that was ``held`` down or
    degraded stays so until its probe says otherwise; it is coming back, not to be restarted.
    """
    if probe is None or probe.verdict is None:
        why = f"{found.reason}; waiting for the first probe result"
        if held in (Status.DOWN, Status.DEGRADED):
            return Assessment(held, f"{why} since it came back", Kind.DAEMON, cause=Cause.RESTARTING)
        return Assessment(Status.OK, why, Kind.DAEMON)
    text = describe(probe, spec)
    if probe.verdict is Outcome.DOWN:
        return Assessment(Status.DOWN, f"{found.reason} but probe down: {text}", Kind.DAEMON, cause=Cause.PROBE)
    if probe.verdict is Outcome.DEGRADED:
        return Assessment(Status.DEGRADED, f"probe degraded: {text}", Kind.DAEMON)
    return Assessment(Status.OK, f"{found.reason}; probe: {text}", Kind.DAEMON)


def assess_check(spec: ProbeSpec, probe: ProbeState | None) -> Assessment:
    """A probe with no unit: its verdict is the status."""
    if probe is None or probe.verdict is None:
        return Assessment(Status.OK, "waiting for the first probe result", Kind.CHECK)
    text = describe(probe, spec)
    status = {Outcome.OK: Status.OK, Outcome.DEGRADED: Status.DEGRADED, Outcome.DOWN: Status.DOWN}[probe.verdict]
    return Assessment(status, text, Kind.CHECK)


UNSCHEDULED = "timer active but nothing scheduled"


def unscheduled(obs: TimerObservation) -> bool:
    """Active, recurring, idle, and no next elapse: a timer that will never fire again, *if it lasts*.

    systemd computes a timer's next elapse only once the run it triggered has ended: a
    timer firing every second is briefly in this state between two runs. A timer whose
    triggered unit is still running (sub-state ``running``) is never in it.
    """
    running = obs.service is not None and obs.service.running
    return obs.next_elapse is None and obs.recurring and not running and obs.sub_state != "running"


def assess_timer(
    policy: ItemPolicy,
    obs: TimerObservation,
    now: datetime,
    runs: RunMemory = _NO_RUNS,
    stats: RunStats = _NO_STATS,
    between_runs: bool = False,
) -> Assessment:
    """Timer status, in order of precedence: missing, dead, hung, never-triggered, stale, failed, ok.

    ``between_runs``: "nothing scheduled" was first seen only just now; it is not a status
    until it has held for a moment (``decide`` looks again).
    """
    if not obs.loaded:
        return Assessment(Status.MISSING, f"unit {obs.load_state}", Kind.TIMER)
    budget = budget_for(policy, obs, now)
    age = (now - obs.last_trigger).total_seconds() if obs.last_trigger else None
    limit = max_runtime(policy, obs.service, stats)

    def result(status: Status, reason: str, cause: Cause | None = None) -> Assessment:
        return Assessment(status, reason, Kind.TIMER, budget, age, limit, cause)

    if obs.active_state in _INACTIVE:
        cause = Cause.STOPPED if obs.active_state == "inactive" else Cause.GAVE_UP
        return result(Status.DEAD, f"timer {obs.active_state}", cause)
    if unscheduled(obs) and not between_runs:
        return result(Status.DEAD, UNSCHEDULED)
    current, last = runs.current, runs.last
    if runs.phase is RunPhase.HUNG and current is not None and current.started_at and limit.seconds is not None:
        took = (now - current.started_at).total_seconds()
        return result(
            Status.HUNG,
            f"running for {format_duration(took)} > max_runtime {format_duration(limit.seconds)} ({limit.source})",
        )
    if age is None:
        waited = (now - obs.active_enter).total_seconds() if obs.active_enter else None
        if budget.seconds is not None and waited is not None and waited > budget.seconds:
            return result(
                Status.NEVER_TRIGGERED,
                f"never triggered in {format_duration(waited)} > {format_duration(budget.seconds)}",
            )
    elif budget.seconds is not None and age > budget.seconds:
        return result(Status.STALE, f"stale {format_duration(age)} > {format_duration(budget.seconds)}")
    if last is not None and last.failure is not None:
        return result(Status.FAILED, f"last run failed: {last.failure}")
    if age is None:
        return result(Status.OK, "waiting for first trigger" + (f"; last {last.trigger} run succeeded" if last else ""))
    return result(Status.OK, "last run succeeded" if last is not None else "triggered")
