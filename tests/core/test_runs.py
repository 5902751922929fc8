"""Runs as first-class facts: the last finished run decides; hung, too short, anomalies; triggers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from supervisor.core.alerts import AlertPolicy
from supervisor.core.decide import Decision, Stop, decide, with_outputs
from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import Anomalies, OnHung, ServiceRun, Status, TimerObservation, Trigger
from supervisor.core.runs import Run, RunFinished, RunMemory, RunStarted, RunStats, anomaly, max_runtime, track
from supervisor.core.state import State, from_document, to_document
from supervisor.core.wakeup import next_wakeup

from .factories import NOW, ago, policy, run, timer

T = "job.timer"


def svc(inv: str, result: str = "success", status: int = 0, *, running: bool = False, **kw: object) -> ServiceRun:
    """Run ``inv`` of the job: finished (with ``result``), or in progress (systemd then says success)."""
    if running:
        return run("success", 0, active="activating", inv=inv, **kw)  # type: ignore[arg-type]
    return run(result, status, active="failed" if result != "success" else "inactive", inv=inv, **kw)  # type: ignore[arg-type]


def at(obs_service: ServiceRun, **kw: object) -> TimerObservation:
    return timer(service=obs_service, last_trigger=obs_service.started_at, **kw)


def replay(
    steps: list[TimerObservation],
    *,
    through_disk: bool = False,
    stats: RunStats | None = None,
    step_s: float = 1.0,
    **kw: object,
) -> tuple[list[str], list[Status], Decision]:
    """Feed observations one step apart (optionally saving and loading the state between steps)."""
    pol = {T: policy(**kw)}
    state, events, statuses = State(), [], []
    d: Decision | None = None
    for i, obs in enumerate(steps):
        now = NOW + timedelta(seconds=step_s * i)
        d = decide(pol, {T: obs}, state, now, alerting=AlertPolicy(), stats={T: stats or RunStats()})
        state = d.state
        if through_disk:  # a supervisor restart (or a reboot) between two looks
            state = from_document(json.loads(json.dumps(to_document(state))))
        events += [a.event.value for a in d.alerts]
        statuses.append(d.assessments[T].status)
    assert d is not None
    return events, statuses, d


FAILING = [
    at(svc("a" * 32)),
    at(svc("b" * 32, "exit-code", 4)),  # fails
    at(svc("c" * 32, running=True)),  # the next run starts: systemd says "success" again
    at(svc("c" * 32, "exit-code", 4)),  # and fails again
    at(svc("d" * 32, running=True)),
    at(svc("d" * 32)),  # then one run succeeds
]


@pytest.mark.parametrize("through_disk", [False, True], ids=["in-memory", "across-restarts"])
def test_it_keeps_a_failing_job_failed_while_its_next_run_is_in_progress(through_disk: bool) -> None:
    events, statuses, _ = replay(FAILING, through_disk=through_disk, on_stale="alert")
    assert statuses == [Status.OK, Status.FAILED, Status.FAILED, Status.FAILED, Status.FAILED, Status.OK]
    assert events == ["down", "recovered"]


def test_a_run_in_progress_is_shown_as_running_since_not_as_a_verdict() -> None:
    _, _, d = replay(FAILING[:3], on_stale="alert")
    memory = d.state.runs[T]
    assert memory.phase is RunPhase.RUNNING and memory.current is not None
    assert memory.last is not None and memory.last.failure == "exit-code, exit status 4"
    assert d.assessments[T].reason == "last run failed: exit-code, exit status 4"


def test_it_reports_each_run_once_as_started_and_finished() -> None:
    _, _, d = replay(FAILING[:3])
    assert [type(f).__name__ for f in d.runs] == ["RunStarted"]
    finished = [
        f
        for obs in FAILING
        for f in decide({T: policy()}, {T: obs}, State(), NOW).runs
        if isinstance(f, RunFinished)  # every look at a finished run from scratch reports it
    ]
    assert len(finished) == 4


def test_a_reboot_in_the_middle_of_a_run_changes_no_verdict() -> None:
    gone = timer(service=run(ran=False))  # systemd forgot the run (the timer's Persistent= stamp survives)
    events, statuses, d = replay([*FAILING[:3], gone], through_disk=True, on_stale="alert")
    assert statuses[-1] is Status.FAILED and events == ["down"]
    assert d.state.runs[T].phase is RunPhase.IDLE and d.state.runs[T].current is None


# --- triggers -----------------------------------------------------------------------------------------------


def test_it_tells_timer_manual_and_restart_runs_apart() -> None:
    memory = RunMemory()
    pol = policy()
    fired = timer(service=svc("a" * 32, started=60), last_trigger=ago(60))
    memory, [f1] = track(pol, fired, memory, RunStats(), (), NOW)
    assert f1.run.trigger is Trigger.TIMER
    # `systemctl start` of the service later: the timer did not fire again
    by_hand = timer(service=svc("b" * 32, started=30), last_trigger=ago(60))
    memory, [f2] = track(pol, by_hand, memory, RunStats(), (), NOW)
    assert f2.run.trigger is Trigger.MANUAL
    # the timer fired right after the supervisor restarted it
    after_restart = timer(service=svc("c" * 32, started=5), last_trigger=ago(5))
    memory, [f3] = track(pol, after_restart, memory, RunStats(), (ago(7),), NOW)
    assert f3.run.trigger is Trigger.RESTART


def test_a_failing_manual_run_of_a_never_triggered_timer_is_failed() -> None:
    never = timer(last_trigger=None, active_enter=ago(60), service=svc("a" * 32, "exit-code", 2))
    _, statuses, d = replay([never], max_stale_s=3600)
    assert statuses == [Status.FAILED]
    last = d.state.runs[T].last
    assert last is not None and last.trigger is Trigger.MANUAL


# --- hung ---------------------------------------------------------------------------------------------------


def stuck(minutes: float) -> TimerObservation:
    return at(svc("h" * 32, running=True, started=minutes * 60))


def test_a_run_past_its_max_runtime_is_hung_and_alerted_once() -> None:
    events, statuses, d = replay([stuck(5)] * 3, max_runtime_s=600, step_s=420)  # looks at 5, 12 and 19 minutes
    assert statuses == [Status.OK, Status.HUNG, Status.HUNG]
    assert events == ["down"]
    assert "running for 19m > max_runtime 10m (explicit)" in d.assessments[T].reason
    assert d.actions == []  # on_hung: alert (the default) only alerts
    assert [type(w).__name__ for w in replay([stuck(12)], max_runtime_s=600)[2].output] == ["OutputWanted"]


def test_on_hung_stop_stops_the_run_within_the_budget_and_judges_it_failed() -> None:
    pol = {T: policy(max_runtime_s=600, on_hung=OnHung.STOP)}
    d1 = decide(pol, {T: stuck(11)}, State(), NOW)
    assert d1.actions == [Stop(T, "job.service", 1)]
    assert d1.state.restarts[T] == (NOW,)  # counted in the restart budget, persisted before acting
    d2 = decide(pol, {T: stuck(11)}, d1.state, NOW + timedelta(seconds=1))
    assert d2.actions == []  # backoff
    ended = at(svc("h" * 32, "signal", 15, started=11 * 60, took=11 * 60))
    d3 = decide(pol, {T: replace(ended, service=replace(ended.service, exit_code="killed"))}, d2.state, NOW)  # type: ignore[arg-type]
    assert d3.assessments[T].status is Status.FAILED
    assert "stopped by missionctl after 11m" in d3.assessments[T].reason


def test_it_wakes_when_a_run_will_become_hung() -> None:
    pol = {T: policy(max_runtime_s=600)}
    obs = {T: stuck(4)}
    d = decide(pol, obs, State(), NOW)
    assert next_wakeup(pol, obs, d, NOW) == ago(240) + timedelta(seconds=600)


@pytest.mark.parametrize(
    ("kw", "runtime_max", "stats", "seconds", "source"),
    [
        ({"max_runtime_s": 900}, 60.0, RunStats(9, (1.0,)), 900, "explicit"),
        ({}, 300.0, RunStats(9, (1.0,)), 420, "RuntimeMaxSec=5m + 2m for systemd to stop it"),
        ({}, None, RunStats(5, (100.0, 400.0)), 1200, "derived: 3 × longest of last 2 successful runs (6m40s)"),
        ({}, None, RunStats(5, (10.0,)), 600, "at least 10m"),
        ({}, None, RunStats(4, (10.0,) * 4), None, "none: fewer than 5 finished runs"),
    ],
    ids=["explicit", "runtime-max-sec", "derived", "derived-floor", "none"],
)
def test_max_runtime_sources(
    kw: dict[str, object], runtime_max: float | None, stats: RunStats, seconds: float | None, source: str
) -> None:
    limit = max_runtime(policy(**kw), replace(run(), runtime_max_s=runtime_max), stats)
    assert limit.seconds == seconds and source in limit.source


def test_derived_max_runtime_looks_at_the_last_20_successful_runs_only() -> None:
    stats = RunStats(30, (5000.0,) + (100.0,) * 20)
    assert max_runtime(policy(), None, stats).seconds == 600


# --- too short, anomalies ----------------------------------------------------------------------------------


def test_a_run_shorter_than_min_runtime_failed() -> None:
    quick = at(svc("q" * 32, started=1, took=0.4))
    _, statuses, d = replay([quick], min_runtime_s=60)
    assert statuses == [Status.FAILED]
    assert d.assessments[T].reason == "last run failed: finished in 0.4s < min_runtime 1m"


USUAL = RunStats(12, (60.0, 62.0, 58.0, 61.0, 59.0, 60.0, 63.0, 57.0, 60.0, 61.0, 60.0, 59.0))


@pytest.mark.parametrize(
    ("duration", "stats", "kw", "expected"),
    [
        (61.0, USUAL, {}, None),
        (89.0, USUAL, {}, None),  # within the floor of half the median
        (95.0, USUAL, {}, "slow"),
        (25.0, USUAL, {}, "fast"),
        (95.0, RunStats(9, USUAL.durations[:9]), {}, None),  # fewer than 10 successful runs: no judgement
        (95.0, USUAL, {"max_runtime_s": 3600}, None),  # explicit bounds replace the history's
        (25.0, USUAL, {"min_runtime_s": 10}, None),
        (1.9, RunStats(10, (0.1,) * 10), {}, "slow"),  # the floor of 1 s keeps jitter of fast jobs quiet...
        (1.0, RunStats(10, (0.1,) * 10), {}, None),  # ...but not a run 19x its usual
    ],
)
def test_the_anomaly_rule(duration: float, stats: RunStats, kw: dict[str, object], expected: str | None) -> None:
    assert anomaly(duration, policy(**kw), stats) == expected


def test_anomalies_are_shown_and_alerted_only_when_asked_at_most_daily() -> None:
    slow = [at(svc(f"{i:032x}", started=200 - i, took=190)) for i in range(3)]
    _, statuses, d = replay(slow, stats=USUAL)
    assert statuses == [Status.OK] * 3 and d.alerts == []
    assert d.state.runs[T].last is not None and d.state.runs[T].last.anomaly == "slow"
    events, _, d = replay(slow, stats=USUAL, anomalies=Anomalies.ALERT)
    assert events == ["anomaly"]  # three slow runs in a day: one message
    pol = {T: policy(anomalies=Anomalies.ALERT, max_stale_s=7 * 86400)}
    later = decide(
        pol,
        {T: at(svc("e" * 32, started=200, took=190))},
        d.state,
        NOW + timedelta(days=1, seconds=5),
        alerting=AlertPolicy(),
        stats={T: USUAL},
    )
    assert [a.event.value for a in later.alerts] == ["anomaly"]
    assert "took 3m10s (usually 1m)" in later.alerts[0].reason


def test_outputs_are_attached_to_the_run_and_the_alert_about_it() -> None:
    _, _, d = replay(FAILING[:2], on_stale="alert")
    [want] = d.output
    assert want.run_id == "b" * 32 and want.lines == 20
    d = with_outputs(d, {want.run_id: "pg_dump: connection refused"})
    [alert] = d.alerts
    assert alert.output == "pg_dump: connection refused" and alert.payload()["output"] == alert.output
    last = d.state.runs[T].last
    assert last is not None and last.output == "pg_dump: connection refused"


def test_no_output_is_wanted_for_a_successful_usual_run_or_when_turned_off() -> None:
    assert replay(FAILING[:1])[2].output == []
    assert replay(FAILING[:2], output_lines=0)[2].output == []


def test_a_run_still_in_exec_start_pre_is_timed_from_when_it_was_first_seen() -> None:
    pre = replace(svc("p" * 32, running=True, started=3600), exited_at=ago(3590))  # the fields of the last run
    memory, [fact] = track(policy(), timer(service=pre, last_trigger=ago(1)), RunMemory(), RunStats(), (), NOW)
    assert isinstance(fact, RunStarted) and fact.run.started_at == NOW and fact.run.trigger is Trigger.TIMER
    assert isinstance(memory.current, type(fact.run))


def test_a_start_refused_by_the_start_limit_fails_the_item_without_a_new_run() -> None:
    ok = at(svc("a" * 32))
    limited = replace(ok, service=replace(ok.service, active_state="failed", result="start-limit-hit"))  # type: ignore[arg-type]
    reset = replace(ok, service=replace(ok.service, result="success"))  # type: ignore[arg-type]
    events, statuses, _ = replay([ok, limited, limited, reset], on_stale="alert")
    assert statuses == [Status.OK, Status.FAILED, Status.FAILED, Status.FAILED]  # reset-failed is not a good run
    assert events == ["down"]


def test_the_run_after_a_stopped_hung_run_is_the_timers_not_a_restarts() -> None:
    stopped = replace(
        RunMemory().last or Run("h" * 32, Trigger.TIMER, ago(700)),
        finished_at=ago(5),
        failure="stopped by missionctl after 11m",
        stopped=True,
        trigger_at=ago(700),
    )
    memory = RunMemory(last=stopped)
    nxt = timer(service=svc("n" * 32, started=2), last_trigger=ago(2))
    _, [fact] = track(policy(), nxt, memory, RunStats(), (ago(6),), NOW)  # the stop attempt, 6 s ago
    assert fact.run.trigger is Trigger.TIMER


def test_a_look_that_catches_a_start_half_way_is_not_a_run() -> None:
    failed = at(svc("a" * 32, "exit-code", 1))
    d = decide({T: policy()}, {T: failed}, State(), NOW)
    # "Run now": the new invocation id is read, but the state, result and times are still the last run's
    torn = replace(failed, service=replace(failed.service, invocation_id="b" * 32))  # type: ignore[arg-type]
    d2 = decide({T: policy()}, {T: torn}, d.state, NOW + timedelta(seconds=1))
    assert d2.runs == [] and d2.state.runs[T] == d.state.runs[T]
    # or the last run's id on a unit already running again
    rerun = replace(failed, service=replace(svc("a" * 32, running=True, started=1)))
    assert decide({T: policy()}, {T: rerun}, d.state, NOW + timedelta(seconds=1)).runs == []
    # or the last run's result on a unit seen failed, then the next run's fresh main process (no exit yet)
    mixed = replace(failed.service, invocation_id="c" * 32, exit_code=None, exit_status=0, started_at=ago(0.5))
    mixed = replace(mixed, exited_at=None)  # type: ignore[arg-type]
    for memory in (d.state, State()):  # with the last run known, and at a supervisor's first look
        assert decide({T: policy()}, {T: at(mixed)}, memory, NOW + timedelta(seconds=1)).runs == []
    # the whole look then shows the new run, which succeeds: ok
    good = at(svc("b" * 32, started=0.5, took=0.2))
    d3 = decide({T: policy()}, {T: good}, d2.state, NOW + timedelta(seconds=2))
    assert d3.assessments[T].status is Status.OK
