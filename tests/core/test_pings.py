"""Push heartbeats: runs from start/finish pings and the statuses of a job that lives elsewhere (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from supervisor.core.decide import decide
from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import ItemPolicy, Kind, PingSchedule, Status, Trigger
from supervisor.core.pings import PingEvent, PingKind, assess_ping, expected_after, track_pings
from supervisor.core.runs import RunFinished, RunMemory, RunOverdue, RunStarted, RunStats
from supervisor.core.state import State
from supervisor.core.wakeup import next_wakeup

from .factories import NOW

HOURLY = ItemPolicy(name="job", kind=Kind.PING, ping=PingSchedule(period_s=3600, grace_s=600))
NIGHTLY = ItemPolicy(name="job", kind=Kind.PING, ping=PingSchedule(calendar="*-*-* 03:00:00", timezone="UTC"))
STATS = RunStats()


def ev(kind: PingKind, at: float, code: int | None = None, body: str | None = None, id: str = "") -> PingEvent:
    return PingEvent("job", id or f"{kind.value}-{at}", kind, NOW + timedelta(seconds=at), code, body)


def fold(policy: ItemPolicy, *events: PingEvent, memory: RunMemory | None = None, at: float = 0):  # type: ignore[no-untyped-def]
    start = memory or RunMemory(expected_since=NOW)
    return track_pings(policy, start, list(events), STATS, NOW + timedelta(seconds=at))


def status(policy: ItemPolicy, memory: RunMemory, at: float) -> tuple[Status, str]:
    found = assess_ping(policy, memory, STATS, NOW + timedelta(seconds=at))
    return found.status, found.reason


def test_a_start_then_a_success_is_one_run_with_its_duration() -> None:
    memory, facts = fold(HOURLY, ev(PingKind.START, 0, id="r1"), ev(PingKind.SUCCESS, 42))
    assert [type(f) for f in facts] == [RunStarted, RunFinished]
    run = memory.last
    assert run is not None and (run.id, run.trigger, run.duration_s, run.failure) == ("r1", Trigger.PING, 42.0, None)
    assert memory.phase is RunPhase.IDLE and memory.last_success_at == NOW + timedelta(seconds=42)


@pytest.mark.parametrize(
    ("event", "failure", "result"),
    [
        (ev(PingKind.FAIL, 5, body="disk full"), "reported failure", "failure"),
        (ev(PingKind.EXIT, 5, code=3), "exit status 3", "exit-code"),
        (ev(PingKind.EXIT, 5, code=0), None, "exit-code"),
        (ev(PingKind.SUCCESS, 5), None, "success"),
    ],
)
def test_a_finish_says_success_or_failure(event: PingEvent, failure: str | None, result: str) -> None:
    memory, _ = fold(HOURLY, event)
    assert memory.last is not None and (memory.last.failure, memory.last.result) == (failure, result)
    assert memory.last.duration_s is None  # no start: the duration is unknown, not zero


def test_the_body_is_the_output_and_log_pings_add_to_the_run_in_progress() -> None:
    pings = [
        ev(PingKind.START, 0, body="starting"),
        ev(PingKind.LOG, 1, body="step 2"),
        ev(PingKind.FAIL, 2, body="boom"),
    ]
    memory, _ = fold(HOURLY, *pings)
    assert memory.last is not None and memory.last.output == "starting\nstep 2\nboom"


def test_a_second_start_ends_the_first_run_as_failed() -> None:
    memory, facts = fold(HOURLY, ev(PingKind.START, 0, id="a"), ev(PingKind.START, 60, id="b"))
    finished = [f.run for f in facts if isinstance(f, RunFinished)]
    assert [(r.id, r.failure) for r in finished] == [("a", "started again before it reported an end")]
    assert memory.current is not None and memory.current.id == "b"


def test_a_start_without_finish_is_hung_after_max_runtime() -> None:
    pol = replace(HOURLY, max_runtime_s=60)
    memory, _ = fold(pol, ev(PingKind.START, 0))
    assert status(pol, memory, 30)[0] is Status.OK
    memory, facts = track_pings(pol, memory, [], STATS, NOW + timedelta(seconds=61))
    assert [type(f) for f in facts] == [RunOverdue] and memory.phase is RunPhase.HUNG
    assert status(pol, memory, 61) == (Status.HUNG, "running for 1m1s > max_runtime 1m (explicit)")
    memory, _ = fold(pol, ev(PingKind.SUCCESS, 90), memory=memory, at=90)
    assert status(pol, memory, 90)[0] is Status.OK


@pytest.mark.parametrize(
    ("pings", "at", "expected"),
    [
        ([], 60, Status.OK),  # waiting for the first ping
        ([], 3600 + 601, Status.NEVER_TRIGGERED),
        ([(PingKind.SUCCESS, 10)], 3600 + 600, Status.OK),  # on time, to the second of the grace
        ([(PingKind.SUCCESS, 10)], 3600 + 611, Status.STALE),
        ([(PingKind.FAIL, 10)], 100, Status.FAILED),
        ([(PingKind.FAIL, 10)], 3600 + 611, Status.STALE),  # failed, then silent: it stopped running too
        ([(PingKind.SUCCESS, 10), (PingKind.FAIL, 3000)], 3600 + 611, Status.FAILED),  # still reporting: failed
        ([(PingKind.START, 10)], 3600 + 611, Status.STALE),  # started and never finished, no max_runtime
    ],
)
def test_the_status_of_a_heartbeat_with_a_period(
    pings: list[tuple[PingKind, float]], at: float, expected: Status
) -> None:
    memory, _ = fold(HOURLY, *(ev(k, t) for k, t in pings))
    assert status(HOURLY, memory, at)[0] is expected


def test_a_schedule_expects_the_next_elapse_after_the_last_finish() -> None:
    # NOW is 12:00 UTC; the run after 12:00 is due at 03:00 the next day, late after 03:15
    memory, _ = fold(NIGHTLY, ev(PingKind.SUCCESS, 0))
    due = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert expected_after(NIGHTLY.ping or PingSchedule(), NOW) == due
    assert status(NIGHTLY, memory, (due - NOW).total_seconds() + 899)[0] is Status.OK
    st, reason = status(NIGHTLY, memory, (due - NOW).total_seconds() + 901)
    assert st is Status.STALE and "expected by 2026-11-23T03:00:00Z + grace" in reason


def test_a_schedule_in_a_time_zone_follows_its_wall_clock() -> None:
    paris = PingSchedule(calendar="*-*-* 03:00:00", timezone="Europe/Paris")
    # 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer
    assert expected_after(paris, datetime(2026, 1, 10, 12, tzinfo=UTC)) == datetime(2026, 1, 11, 2, tzinfo=UTC)
    assert expected_after(paris, datetime(2026, 7, 10, 12, tzinfo=UTC)) == datetime(2026, 7, 11, 1, tzinfo=UTC)


def test_decide_folds_pings_alerts_once_and_wakes_when_the_heartbeat_becomes_late() -> None:
    from supervisor.core.alerts import AlertPolicy

    policies = {"job": HOURLY}
    d = decide(policies, {}, State(), NOW, alerting=AlertPolicy(), pings={"job": [ev(PingKind.SUCCESS, 0)]})
    assert d.assessments["job"].status is Status.OK and [type(f) for f in d.runs] == [RunFinished]
    wake = next_wakeup(policies, {}, d, NOW)
    assert wake == NOW + timedelta(seconds=3600 + 600)
    late = decide(policies, {}, d.state, wake + timedelta(seconds=1), alerting=AlertPolicy())
    assert late.assessments["job"].status is Status.STALE
    assert [(a.event.value, a.status) for a in late.alerts] == [("down", "stale")]
    again = decide(policies, {}, late.state, wake + timedelta(seconds=60), alerting=AlertPolicy())
    assert again.alerts == [] and again.actions == []  # nothing to restart: the job lives elsewhere


def test_a_step_for_a_few_pings_decides_only_them_and_carries_the_rest() -> None:
    other = replace(HOURLY, name="other")
    policies = {"job": HOURLY, "other": other}
    first = decide(policies, {}, State(), NOW)
    late = NOW + timedelta(seconds=3600 + 700)  # both would be never-triggered now
    step = decide(
        policies,
        {},
        first.state,
        late,
        pings={"job": [ev(PingKind.SUCCESS, 3600 + 700)]},
        only={"job"},
        carried=first.assessments,
    )
    assert step.assessments["job"].status is Status.OK
    assert step.assessments["other"] is first.assessments["other"]  # carried as it was, not re-judged
    assert step.state.items["other"] is first.state.items["other"] and step.transitions == []
    whole = decide(policies, {}, step.state, late)
    assert whole.assessments["other"].status is Status.NEVER_TRIGGERED
    assert next_wakeup(policies, {}, step, late, only={"job"}) == late + timedelta(seconds=3600 + 600)
