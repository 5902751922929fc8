"""Push heartbeats: runs from start and finish pings, and the status of a job that lives elsewhere (pure).

A job pings ``start`` when it begins and ``success``, ``fail`` or its exit code when
it ends; a finish without a start is a run of unknown duration. The statuses are
the timers' words:

* ``hung``: started and not finished within ``max_runtime``;
* ``never-triggered``: no ping at all by the first expected moment + grace;
* ``stale``: nothing finished by the next expected moment after the last finish
  (or after the start of a run still in progress) + grace;
* ``failed``: the last finished run failed (``fail``, or an exit code other than 0);
* ``ok``.

The expected moment is the last finish + ``period``, or the schedule's next elapse
after it (what healthchecks.io does); a failing job is ``failed``, not ``stale``,
for as long as it keeps reporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from supervisor.core.budget import Budget, format_duration
from supervisor.core.calendar import next_elapse
from supervisor.core.lifecycle import RunEvent, RunPhase, run_step
from supervisor.core.model import ItemPolicy, Kind, PingSchedule, Status, Trigger
from supervisor.core.runs import Run, RunFact, RunFinished, RunMemory, RunOverdue, RunStarted, RunStats, anomaly
from supervisor.core.runs import max_runtime as runtime_limit
from supervisor.core.status import Assessment
from supervisor.core.times import iso

#: The output kept per run: the tail of what the job sent.
OUTPUT_KEEP = 10 * 1024


class PingKind(StrEnum):
    """What a ping says (the last segment of its URL)."""

    START = "start"
    SUCCESS = "success"
    FAIL = "fail"
    LOG = "log"
    EXIT = "exit"  # /{exit_code}: success when 0


@dataclass(frozen=True, slots=True)
class PingEvent:
    """One accepted ping; ``id`` is unique (a start's id becomes its run's id)."""

    item: str
    id: str
    kind: PingKind
    at: datetime
    exit_status: int | None = None
    body: str | None = None


def track_pings(
    policy: ItemPolicy, memory: RunMemory, events: Sequence[PingEvent], stats: RunStats, now: datetime
) -> tuple[RunMemory, list[RunFact]]:
    """Fold this step's pings into the item's runs, and notice a run that outlived ``max_runtime``."""
    facts: list[RunFact] = []
    if memory.expected_since is None:
        memory = replace(memory, expected_since=now)
    for event in events:
        memory, found = _apply(policy, memory, event, stats)
        facts.extend(found)
    current = memory.current
    limit = runtime_limit(policy, None, stats)
    started = current.started_at if current is not None and memory.phase is RunPhase.RUNNING else None
    if current and started and limit.seconds is not None and (now - started).total_seconds() > limit.seconds:
        memory = replace(memory, phase=run_step(memory.phase, RunEvent.OVERDUE))
        facts.append(RunOverdue(policy.name, policy.name, current, limit))
    return memory, facts


def _apply(policy: ItemPolicy, memory: RunMemory, event: PingEvent, stats: RunStats) -> tuple[RunMemory, list[RunFact]]:
    facts: list[RunFact] = []
    if event.kind is PingKind.LOG:
        if memory.current is not None:
            current = replace(memory.current, output=_append(memory.current.output, event.body))
            memory = replace(memory, current=current)
        return memory, facts
    if event.kind is PingKind.START:
        if memory.current is not None:  # the previous run never reported its end
            lost = _finish(policy, memory.current, event.at, "", None, "started again before it reported an end", stats)
            memory = replace(memory, last=lost, current=None, phase=run_step(memory.phase, RunEvent.FINISHED))
            facts.append(RunFinished(policy.name, policy.name, lost))
        started = Run(event.id, Trigger.PING, event.at, output=_append(None, event.body))
        memory = replace(memory, current=started, phase=run_step(memory.phase, RunEvent.STARTED))
        facts.append(RunStarted(policy.name, policy.name, started))
        return memory, facts
    failed = event.kind is PingKind.FAIL or (event.kind is PingKind.EXIT and event.exit_status != 0)
    if event.kind is PingKind.EXIT:
        result, failure = "exit-code", f"exit status {event.exit_status}" if failed else None
    else:
        result, failure = ("failure", "reported failure") if failed else ("success", None)
    running = memory.current
    done = Run(
        running.id if running else event.id,
        Trigger.PING,
        running.started_at if running else None,
        finished_at=event.at,
        result=result,
        exit_status=event.exit_status,
        failure=failure,
        output=_append(running.output if running else None, event.body),
    )
    done = _judge(policy, done, stats)
    memory = RunMemory(
        last=done,
        current=None,
        phase=run_step(memory.phase, RunEvent.FINISHED),
        anomaly_alert_at=memory.anomaly_alert_at,
        last_success_at=event.at if done.succeeded else memory.last_success_at,
        expected_since=memory.expected_since,
    )
    facts.append(RunFinished(policy.name, policy.name, done))
    return memory, facts


def _finish(
    policy: ItemPolicy,
    run: Run,
    at: datetime,
    result: str,
    status: int | None,
    failure: str | None,
    stats: RunStats,
) -> Run:
    done = replace(run, finished_at=at, result=result or "unfinished", exit_status=status, failure=failure)
    return _judge(policy, done, stats)


def _judge(policy: ItemPolicy, done: Run, stats: RunStats) -> Run:
    """min_runtime and anomalies, for a run that reported success."""
    if done.failure is not None:
        return done
    duration = done.duration_s
    if duration is None:
        return done
    least = policy.min_runtime_s
    if least is not None and duration < least:
        why = f"finished in {format_duration(duration)} < min_runtime {format_duration(least)}"
        return replace(done, failure=why)
    odd = anomaly(duration, policy, stats)
    return replace(done, anomaly=odd) if odd else done


def _append(text: str | None, more: str | None) -> str | None:
    if not more:
        return text
    joined = more if not text else f"{text}\n{more}"
    return joined[-OUTPUT_KEEP:]


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def expected_after(schedule: PingSchedule, anchor: datetime) -> datetime | None:
    """The moment the next run is due after ``anchor``: ``anchor + period``, or the schedule's next elapse."""
    if schedule.period_s is not None:
        return anchor + timedelta(seconds=schedule.period_s)
    if schedule.calendar is not None:
        return next_elapse(schedule.calendar, anchor, _zone(schedule.timezone))
    return None


def assess_ping(policy: ItemPolicy, memory: RunMemory, stats: RunStats, now: datetime) -> Assessment:
    """The status of a push heartbeat (see the module's docstring)."""
    schedule = policy.ping or PingSchedule()
    limit = runtime_limit(policy, None, stats)
    current, last = memory.current, memory.last
    finished_at = last.finished_at if last else None
    anchor = max((t for t in (finished_at, current.started_at if current else None) if t), default=None)
    start = anchor or memory.expected_since or now
    due = expected_after(schedule, start)
    deadline = due + timedelta(seconds=schedule.grace_s) if due else None
    budget = Budget((deadline - start).total_seconds() if deadline else None, _source(schedule))
    age = (now - anchor).total_seconds() if anchor else None

    def result(status: Status, reason: str) -> Assessment:
        return Assessment(status, reason, Kind.PING, budget, age, limit, next_at=due)

    if memory.phase is RunPhase.HUNG and current is not None and current.started_at and limit.seconds is not None:
        took = (now - current.started_at).total_seconds()
        return result(
            Status.HUNG,
            f"running for {format_duration(took)} > max_runtime {format_duration(limit.seconds)} ({limit.source})",
        )
    late = deadline is not None and now > deadline
    if late and anchor is None:
        waited = format_duration((now - start).total_seconds())
        return result(Status.NEVER_TRIGGERED, f"no ping in {waited}: expected by {iso(due)} + grace")
    if late:
        what = "a run started" if current is not None and anchor != finished_at else "the last run finished"
        return result(
            Status.STALE,
            f"no finish ping since {what} {format_duration(age or 0)} ago: expected by {iso(due)} + grace",
        )
    if last is not None and last.failure is not None:
        return result(Status.FAILED, f"last run failed: {last.failure}")
    if last is None:
        return result(Status.OK, f"waiting for the first ping (expected by {iso(due)} + grace)")
    return result(Status.OK, "last run succeeded")


@lru_cache(maxsize=1024)
def _source(schedule: PingSchedule) -> str:
    grace = format_duration(schedule.grace_s)
    if schedule.period_s is not None:
        return f"period {format_duration(schedule.period_s)} + grace {grace}"
    return f"schedule {schedule.calendar} ({schedule.timezone}) + grace {grace}"
