"""Runs as first-class facts: which run is in progress, which one finished last, and its verdict.

systemd forgets a run as soon as the next one starts (``Result`` goes back to
``success``), so the verdict of an item comes from the last *finished* run the
supervisor remembers, never from a run in progress. A run is attributed to its
trigger here, judged once when it finishes (result, ``min_runtime``, anomaly),
and watched against ``max_runtime`` while it runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from supervisor.core.budget import format_duration
from supervisor.core.lifecycle import RunEvent, RunPhase, run_step
from supervisor.core.model import ItemPolicy, ServiceRun, TimerObservation, Trigger

#: A run starting this long after the timer's last trigger still counts as triggered by it.
TRIGGER_WINDOW_S = 60.0
#: A timer-triggered run this soon after a supervisor restart of the timer counts as the restart's.
RESTART_WINDOW_S = 10.0
#: Derived max_runtime: HUNG_FACTOR × the longest of the last HUNG_WINDOW successful runs, at least HUNG_FLOOR_S,
#: once HUNG_MIN_RUNS runs have finished.
HUNG_FACTOR, HUNG_WINDOW, HUNG_FLOOR_S, HUNG_MIN_RUNS = 3.0, 20, 600.0, 5
#: A service's own RuntimeMaxSec= plus this: systemd stops the run itself, we only step in when it could not.
RUNTIME_MAX_GRACE_S = 120.0
#: Anomalies: outside median ± max(K × 1.4826 × MAD, FLOOR_FRACTION × median, FLOOR_S), from ≥ MIN_RUNS runs.
ANOMALY_MIN_RUNS, ANOMALY_K, ANOMALY_FLOOR_FRACTION, ANOMALY_FLOOR_S = 10, 5.0, 0.5, 1.0
#: How many successful durations are kept per item to judge anomalies.
STATS_WINDOW = 50
ANOMALY_ALERT_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Run:
    """One invocation of a timer's service."""

    id: str  # systemd's invocation id (or "start:<time>" when it gives none)
    trigger: Trigger
    started_at: datetime | None
    finished_at: datetime | None = None
    result: str = ""  # systemd's Result of the finished run
    exit_code: str | None = None
    exit_status: int | None = None
    failure: str | None = None  # why the finished run counts as failed; None: it succeeded
    anomaly: str | None = None  # "slow" | "fast", compared with the item's own history
    trigger_at: datetime | None = None  # the timer's LastTrigger this run was attributed to
    stopped: bool = False  # the supervisor stopped it (on_hung: stop)
    output: str | None = None  # the journal excerpt (failed, hung or anomalous runs)

    @property
    def duration_s(self) -> float | None:
        """How long the run took (finished runs)."""
        return _duration(self.started_at, self.finished_at)

    @property
    def succeeded(self) -> bool:
        """Whether the finished run counts as a success."""
        return self.failure is None


@dataclass(frozen=True, slots=True)
class RunMemory:
    """What the supervisor remembers of an item's runs (persisted: systemd forgets)."""

    last: Run | None = None  # the last finished run: it decides failed/ok
    current: Run | None = None  # the run in progress
    phase: RunPhase = RunPhase.IDLE
    anomaly_alert_at: datetime | None = None  # at most one anomaly alert per item per day
    last_success_at: datetime | None = None  # push heartbeats: when the last run succeeded
    expected_since: datetime | None = None  # push heartbeats: first expected from this moment (never pinged)


@dataclass(frozen=True, slots=True)
class RunStats:
    """The item's recent history (from the history database; an input, not persisted state)."""

    finished: int = 0  # finished runs known
    durations: tuple[float, ...] = ()  # successful runs' durations, oldest first (last STATS_WINDOW)

    def add(self, run: Run) -> RunStats:
        """The stats with one more finished run."""
        durations = self.durations
        if run.succeeded and run.duration_s is not None:
            durations = (*durations, run.duration_s)[-STATS_WINDOW:]
        return RunStats(self.finished + 1, durations)


@dataclass(frozen=True, slots=True)
class Limit:
    """A run-time bound and where it comes from (like a staleness budget)."""

    seconds: float | None
    source: str


@dataclass(frozen=True, slots=True)
class RunFinished:
    """Fact: ``run`` of ``item`` (service ``service``) finished and was judged."""

    item: str
    service: str
    run: Run


@dataclass(frozen=True, slots=True)
class RunStarted:
    """Fact: a run of ``item`` started."""

    item: str
    service: str
    run: Run


@dataclass(frozen=True, slots=True)
class RunOverdue:
    """Fact: the run in progress outlived its ``max_runtime``."""

    item: str
    service: str
    run: Run
    limit: Limit


RunFact = RunFinished | RunStarted | RunOverdue


def max_runtime(policy: ItemPolicy, service: ServiceRun | None, stats: RunStats) -> Limit:
    """How long a run may take before it is hung: explicit, the service's own, derived, or none."""
    if policy.max_runtime_s is not None:
        return Limit(policy.max_runtime_s, "explicit")
    if service is not None and service.runtime_max_s:
        grace = format_duration(RUNTIME_MAX_GRACE_S)
        return Limit(
            service.runtime_max_s + RUNTIME_MAX_GRACE_S,
            f"RuntimeMaxSec={format_duration(service.runtime_max_s)} + {grace} for systemd to stop it",
        )
    recent = stats.durations[-HUNG_WINDOW:]
    if stats.finished >= HUNG_MIN_RUNS and recent:
        longest = max(recent)
        return Limit(
            max(HUNG_FLOOR_S, HUNG_FACTOR * longest),
            f"derived: {HUNG_FACTOR:g} × longest of last {len(recent)} successful runs "
            f"({format_duration(longest)}), at least {format_duration(HUNG_FLOOR_S)}",
        )
    return Limit(None, f"none: fewer than {HUNG_MIN_RUNS} finished runs")


def anomaly(duration: float, policy: ItemPolicy, stats: RunStats) -> str | None:
    """``slow`` or ``fast`` when a successful run is far outside the item's usual duration."""
    if len(stats.durations) < ANOMALY_MIN_RUNS:
        return None
    median = statistics.median(stats.durations)
    mad = statistics.median(abs(d - median) for d in stats.durations) * 1.4826
    margin = max(ANOMALY_K * mad, ANOMALY_FLOOR_FRACTION * median, ANOMALY_FLOOR_S)
    if policy.max_runtime_s is None and duration > median + margin:
        return "slow"
    if policy.min_runtime_s is None and duration < median - margin:
        return "fast"
    return None


def usual(stats: RunStats) -> str:
    """``usually 1m2s`` from the item's history (for messages)."""
    return f"usually {format_duration(statistics.median(stats.durations))}" if stats.durations else ""


def track(
    policy: ItemPolicy,
    obs: TimerObservation,
    memory: RunMemory,
    stats: RunStats,
    restarts: Sequence[datetime],
    now: datetime,
) -> tuple[RunMemory, list[RunFact]]:
    """Follow the item's runs through one observation of its service."""
    svc = obs.service
    running = svc is not None and svc.running
    if svc is None or not (running or svc.has_run) or not (svc.invocation_id or svc.started_at):
        if memory.current is not None:  # systemd lost the run in progress (a reboot): no verdict
            return replace(memory, current=None, phase=run_step(memory.phase, RunEvent.LOST)), []
        return memory, []
    key = svc.invocation_id or f"start:{svc.started_at.isoformat() if svc.started_at else ''}"
    facts: list[RunFact] = []
    if _torn(svc, key, running, memory.last):
        return memory, facts  # the look caught a start half-way: the next one will be whole
    if running:
        if memory.current is None or memory.current.id != key:
            trigger, trigger_at = _trigger(obs, svc, memory, restarts, now)
            started = Run(key, trigger, _main_start(svc) or now, trigger_at=trigger_at)
            memory = replace(memory, current=started, phase=run_step(memory.phase, RunEvent.STARTED))
            facts.append(RunStarted(policy.name, svc.name, started))
        current = memory.current
        assert current is not None and current.started_at is not None
        limit = max_runtime(policy, svc, stats)
        overdue = limit.seconds is not None and (now - current.started_at).total_seconds() > limit.seconds
        if overdue and memory.phase is RunPhase.RUNNING:
            memory = replace(memory, phase=run_step(memory.phase, RunEvent.OVERDUE))
            facts.append(RunOverdue(policy.name, svc.name, current, limit))
        return memory, facts
    last = memory.last
    if last is not None and last.id == key:
        if memory.current is not None:  # a run we saw start is unknown again
            memory = replace(memory, current=None, phase=run_step(memory.phase, RunEvent.LOST))
        if svc.result not in ("", "success") and svc.result != last.result:
            # systemd failed the unit again without a new invocation (e.g. a start refused with
            # "start-limit-hit"): that is the verdict now. The way back is never a reset: an admin's
            # `reset-failed` (result "success" again) is not a successful run.
            again = judge(last, svc, policy, stats)
            memory = replace(memory, last=again)
            facts.append(RunFinished(policy.name, svc.name, again))
        return memory, facts
    if memory.current is not None and memory.current.id == key:
        base = replace(memory.current, started_at=svc.started_at or memory.current.started_at)
    else:
        trigger, trigger_at = _trigger(obs, svc, memory, restarts, now)
        base = Run(key, trigger, svc.started_at, trigger_at=trigger_at)
    finished = judge(base, svc, policy, stats)
    memory = replace(memory, last=finished, current=None, phase=run_step(memory.phase, RunEvent.FINISHED))
    facts.append(RunFinished(policy.name, svc.name, finished))
    return memory, facts


def _torn(svc: ServiceRun, key: str, running: bool, last: Run | None) -> bool:
    """Whether a look mixes two runs: its properties are read one call after another, not at once.

    When a start begins between those calls, a look can show the new run's id with the last run's
    result and timestamps (a "finished" run that is the last one again), or the last run's id on a
    unit that is running again. Or a unit seen stopped whose main process has started and not
    exited: the next run began between reading the unit's state (and its result) and its
    timestamps. Neither is a run; the signals bring another look.
    """
    if not running and svc.started_at is not None and svc.exited_at is None:
        return True
    if last is None:
        return False
    if running:
        return key == last.id
    same_times = svc.started_at == last.started_at and svc.exited_at == last.finished_at
    return key != last.id and same_times and svc.started_at is not None


def _main_start(svc: ServiceRun) -> datetime | None:
    """When the run in progress started; None while ``ExecStartPre=`` runs (the fields are the last run's)."""
    if svc.active_state == "activating" and svc.exited_at is not None:
        return None
    return svc.started_at


def judge(run: Run, svc: ServiceRun, policy: ItemPolicy, stats: RunStats) -> Run:
    """The finished run with systemd's outcome and its verdict."""
    finished = svc.exited_at
    duration = _duration(run.started_at, finished)
    failure: str | None = None
    if run.stopped:
        failure = f"stopped by missionctl after {format_duration(duration or 0)}: it outlived max_runtime"
    elif svc.result != "success":
        failure = describe_failure(svc.result, svc.exit_code, svc.exit_status)
    elif policy.min_runtime_s is not None and duration is not None and duration < policy.min_runtime_s:
        failure = f"finished in {format_duration(duration)} < min_runtime {format_duration(policy.min_runtime_s)}"
    odd = anomaly(duration, policy, stats) if failure is None and duration is not None else None
    return replace(  # one copy: a cold step judges every item's last run
        run,
        finished_at=finished,
        result=svc.result,
        exit_code=svc.exit_code,
        exit_status=svc.exit_status,
        failure=failure,
        anomaly=odd,
    )


def _duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None or finished < started:
        return None
    return (finished - started).total_seconds()


def describe_failure(result: str, code: str | None, status: int | None) -> str:
    """``exit-code, exit status 2`` / ``signal, signal 9`` / ``timeout``."""
    if code == "exited" and status is not None:
        return f"{result}, exit status {status}"
    if code in {"killed", "dumped"} and status is not None:
        return f"{result}, signal {status}"
    return result


def mark_stopped(memory: RunMemory) -> RunMemory:
    """The run in progress is being stopped by the supervisor (its verdict will say so)."""
    if memory.current is None:
        return memory
    return replace(memory, current=replace(memory.current, stopped=True))


def with_output(memory: RunMemory, run_id: str, output: str) -> RunMemory:
    """The memory with ``output`` attached to the run ``run_id`` (last or current)."""
    if memory.last is not None and memory.last.id == run_id:
        return replace(memory, last=replace(memory.last, output=output))
    if memory.current is not None and memory.current.id == run_id:
        return replace(memory, current=replace(memory.current, output=output))
    return memory


def _trigger(
    obs: TimerObservation, svc: ServiceRun, memory: RunMemory, restarts: Sequence[datetime], now: datetime
) -> tuple[Trigger, datetime | None]:
    """A run is the timer's when the timer fired just before it and that firing is not another run's."""
    fired, started = obs.last_trigger, (_main_start(svc) or now) if svc.running else svc.started_at
    if fired is None or started is None:
        return Trigger.MANUAL, None
    taken = {r.trigger_at for r in (memory.last, memory.current) if r is not None}
    delay = (started - fired).total_seconds()
    if fired in taken or not -1.0 <= delay <= TRIGGER_WINDOW_S:
        return Trigger.MANUAL, None
    last = memory.last  # a stop of a hung run is in the budget too, but it restarts no timer
    ours = [r for r in restarts if not (last and last.stopped and last.started_at and last.started_at <= r)]
    if any(0 <= (fired - r).total_seconds() <= RESTART_WINDOW_S for r in ours):
        return Trigger.RESTART, fired
    return Trigger.TIMER, fired
