"""What an item's status is, from one observation, its policy and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from supervisor.core.budget import Budget, budget_for, format_duration
from supervisor.core.model import (
    DaemonObservation,
    ItemPolicy,
    Kind,
    Observation,
    Status,
    TimerObservation,
)

_INACTIVE = {"inactive", "failed"}


@dataclass(frozen=True, slots=True)
class Assessment:
    """An item's status with the facts that led to it."""

    status: Status
    reason: str
    kind: Kind
    budget: Budget | None = None
    age_s: float | None = None


def assess(policy: ItemPolicy, obs: Observation | None, now: datetime) -> Assessment:
    """Status of one item; ``obs`` is None when systemd does not know the unit."""
    if isinstance(obs, TimerObservation):
        return assess_timer(policy, obs, now)
    if isinstance(obs, DaemonObservation):
        return assess_daemon(obs)
    return Assessment(Status.MISSING, "unit not loaded", policy.kind)


def assess_daemon(obs: DaemonObservation) -> Assessment:
    """A daemon is ok while active; down when failed, inactive or crash-looping."""
    if not obs.loaded:
        return Assessment(Status.MISSING, f"unit {obs.load_state}", Kind.DAEMON)
    if obs.active_state in _INACTIVE:
        why = f"service {obs.active_state}"
        if obs.result and obs.result != "success":
            why += f" ({obs.result})"
        return Assessment(Status.DOWN, why, Kind.DAEMON)
    if obs.sub_state == "auto-restart":
        return Assessment(Status.DOWN, "service crash-looping (auto-restart)", Kind.DAEMON)
    return Assessment(Status.OK, f"service {obs.active_state}", Kind.DAEMON)


def assess_timer(policy: ItemPolicy, obs: TimerObservation, now: datetime) -> Assessment:
    """Timer status, in order of precedence: missing, dead, never-triggered, stale, failed, ok."""
    if not obs.loaded:
        return Assessment(Status.MISSING, f"unit {obs.load_state}", Kind.TIMER)
    budget = budget_for(policy, obs, now)
    age = (now - obs.last_trigger).total_seconds() if obs.last_trigger else None

    def result(status: Status, reason: str) -> Assessment:
        return Assessment(status, reason, Kind.TIMER, budget, age)

    if obs.active_state in _INACTIVE:
        return result(Status.DEAD, f"timer {obs.active_state}")
    running = obs.service is not None and obs.service.running
    if obs.next_elapse is None and obs.recurring and not running:
        return result(Status.DEAD, "timer active but nothing scheduled")
    if age is None:
        waited = (now - obs.active_enter).total_seconds() if obs.active_enter else None
        if budget.seconds is not None and waited is not None and waited > budget.seconds:
            return result(
                Status.NEVER_TRIGGERED,
                f"never triggered in {format_duration(waited)} > {format_duration(budget.seconds)}",
            )
        return result(Status.OK, "waiting for first trigger")
    if budget.seconds is not None and age > budget.seconds:
        return result(Status.STALE, f"stale {format_duration(age)} > {format_duration(budget.seconds)}")
    service = obs.service
    if service is not None and service.has_run and not service.running and service.result != "success":
        return result(Status.FAILED, _failure(service.result, service.exit_code, service.exit_status))
    return result(Status.OK, "last run succeeded" if service and service.has_run else "triggered")


def _failure(result: str, code: str | None, status: int | None) -> str:
    if code == "exited" and status is not None:
        return f"last run failed: {result}, exit status {status}"
    if code in {"killed", "dumped"} and status is not None:
        return f"last run failed: {result}, signal {status}"
    return f"last run failed: {result}"
