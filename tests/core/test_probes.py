"""Probe results, verdicts with confirm/recover, and what a probe makes of a daemon or a check (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from supervisor.core.decide import Restart, decide
from supervisor.core.model import (
    DaemonObservation,
    ItemPolicy,
    Kind,
    OnDown,
    ProbeKind,
    ProbeSpec,
    RestartPolicy,
    Status,
)
from supervisor.core.probes import (
    Outcome,
    ProbeResult,
    ProbeState,
    classify_connect,
    classify_http,
    matters,
    shown_target,
    split_host_port,
    step,
)
from supervisor.core.state import State
from supervisor.core.status import Cause
from supervisor.core.wakeup import next_wakeup

from .factories import NOW

OK, DOWN, DEGRADED = Outcome.OK, Outcome.DOWN, Outcome.DEGRADED

SPEC = ProbeSpec(ProbeKind.HTTP, "http://127.0.0.1:8080/health", degraded_status=((429, 429),), confirm=2, recover=1)


def result(outcome: Outcome, at: float = 0.0, reason: str = "") -> ProbeResult:
    return ProbeResult("api.service", NOW + timedelta(seconds=at), outcome, reason or outcome.value)


@pytest.mark.parametrize(
    ("code", "ms", "outcome", "reason"),
    [
        (200, 12.0, OK, "HTTP 200 in 12 ms"),
        (302, 5.0, OK, "HTTP 302 in 5 ms"),
        (500, 12.4, DOWN, "HTTP 500 in 12 ms (expected 200-399)"),
        (404, 3.0, DOWN, "HTTP 404 in 3 ms (expected 200-399)"),
        (429, 3.0, DEGRADED, "HTTP 429 in 3 ms (listed as degraded)"),
        (200, 1500.0, DEGRADED, "HTTP 200 in 1.5 s (slower than 1.0 s)"),
    ],
)
def test_it_classifies_an_http_answer(code: int, ms: float, outcome: Outcome, reason: str) -> None:
    assert classify_http(SPEC, code, ms) == (outcome, reason)


def test_it_classifies_a_tcp_connect() -> None:
    tcp = ProbeSpec(ProbeKind.TCP, "127.0.0.1:5432", degraded_ms=100.0)
    assert classify_connect(tcp, 3.0) == (OK, "port open, connected in 3 ms")
    assert classify_connect(tcp, 250.0)[0] is DEGRADED


def test_it_settles_a_first_good_answer_at_once_and_confirms_a_bad_one() -> None:
    first = step(SPEC, ProbeState(), result(OK))
    assert first.verdict is OK and first.since == NOW
    one = step(SPEC, ProbeState(), result(DOWN))
    assert one.verdict is None and one.streak == 1  # a first bad answer is not yet a verdict
    assert step(SPEC, one, result(DOWN, 1)).verdict is DOWN


@pytest.mark.parametrize(
    ("results", "verdict", "streak"),
    [
        ([OK, DOWN], OK, 1),
        ([OK, DOWN, DOWN], DOWN, 0),
        ([OK, DOWN, OK, DOWN], OK, 1),  # a blip between good answers never confirms
        ([OK, DEGRADED, DOWN], DOWN, 0),  # worse is worse: degraded then down confirms as down
        ([OK, DOWN, DOWN, OK], OK, 0),  # recover: 1
        ([OK, DOWN, DOWN, DEGRADED], DEGRADED, 0),  # better is better
        ([OK, DEGRADED, DEGRADED], DEGRADED, 0),
    ],
)
def test_it_changes_the_verdict_after_confirm_worse_or_recover_better_results(
    results: list[Outcome], verdict: Outcome, streak: int
) -> None:
    state = ProbeState()
    for i, outcome in enumerate(results):
        state = step(SPEC, state, result(outcome, i))
    assert (state.verdict, state.streak) == (verdict, streak)


def test_it_needs_recover_good_answers_to_come_back() -> None:
    spec = replace(SPEC, recover=3)
    state = ProbeState(DOWN, "HTTP 500", NOW)
    for i in range(2):
        state = step(spec, state, result(OK, i))
        assert state.verdict is DOWN
    assert step(spec, state, result(OK, 3)).verdict is OK


def test_a_steady_answer_does_not_matter_and_a_different_one_does() -> None:
    ok = ProbeState(OK, "HTTP 200", NOW)
    assert not matters(ok, result(OK))
    assert matters(ok, result(DOWN))
    assert matters(replace(ok, streak=1, pending=DOWN), result(OK))
    assert matters(None, result(OK))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("127.0.0.1:5432", ("127.0.0.1", 5432)),
        ("db.internal:6379", ("db.internal", 6379)),
        ("[::1]:8080", ("::1", 8080)),
    ],
)
def test_it_splits_host_and_port(target: str, expected: tuple[str, int]) -> None:
    assert split_host_port(target) == expected


@pytest.mark.parametrize("target", ["5432", "host:", ":80", "host:0", "host:70000", "::1:80", "[::1:80", "[zz]:80"])
def test_it_refuses_a_bad_host_port(target: str) -> None:
    with pytest.raises(ValueError):
        split_host_port(target)


def test_it_never_shows_credentials_or_a_query() -> None:
    assert (
        shown_target("http", "https://user:pw@example.com:8443/health?token=abc") == "https://example.com:8443/health?…"
    )
    assert shown_target("tcp", "127.0.0.1:5432") == "127.0.0.1:5432"


API = "api.service"


def daemon_policy(**kw: object) -> ItemPolicy:
    restart = RestartPolicy(max=3, per_s=3600, backoff_s=60, after_s=30)
    return ItemPolicy(name=API, kind=Kind.DAEMON, restart=restart, probe=SPEC, **kw)  # type: ignore[arg-type]


ACTIVE = DaemonObservation(API, "loaded", "active", "running")


def run_steps(pol: ItemPolicy, obs: DaemonObservation | None, outcomes: list[tuple[float, Outcome]], state: State):  # type: ignore[no-untyped-def]
    decision = None
    for at, outcome in outcomes:
        now = NOW + timedelta(seconds=at)
        decision = decide({API: pol}, {API: obs} if obs else {}, state, now, probes={API: [result(outcome, at)]})
        state = decision.state
    return decision


def test_an_active_daemon_whose_probe_is_down_is_down_by_the_probe_and_restarted_after_the_grace() -> None:
    pol = daemon_policy()
    d = run_steps(pol, ACTIVE, [(0, OK), (10, DOWN), (20, DOWN)], State())
    assert d.assessments[API].status is Status.DOWN and d.assessments[API].cause is Cause.PROBE
    assert "probe down" in d.assessments[API].reason and d.actions == []  # the verdict is 0 s old
    assert next_wakeup({API: pol}, {API: ACTIVE}, d, NOW + timedelta(seconds=20)) == NOW + timedelta(seconds=50)
    later = decide({API: pol}, {API: ACTIVE}, d.state, NOW + timedelta(seconds=50))
    assert later.actions == [Restart(API, API, 1)]


def test_a_probe_with_on_down_alert_is_never_restarted() -> None:
    pol = replace(daemon_policy(), probe=replace(SPEC, on_down=OnDown.ALERT))
    d = run_steps(pol, ACTIVE, [(0, DOWN), (10, DOWN), (100, DOWN)], State())
    assert d.assessments[API].status is Status.DOWN and d.actions == []


def test_a_degraded_probe_is_degraded_and_never_restarted() -> None:
    d = run_steps(daemon_policy(), ACTIVE, [(0, DEGRADED), (10, DEGRADED), (500, DEGRADED)], State())
    assert d.assessments[API].status is Status.DEGRADED and d.actions == []


def test_a_unit_that_systemd_stopped_forgets_the_probe_and_is_held_until_the_first_answer_after() -> None:
    pol = daemon_policy()
    down = run_steps(pol, ACTIVE, [(0, DOWN), (1, DOWN)], State())
    stopped = DaemonObservation(API, "loaded", "inactive", "dead")
    gone = decide({API: pol}, {API: stopped}, down.state, NOW + timedelta(seconds=2))
    assert API not in gone.state.probes  # answers from before it came back are not held against it
    back = decide({API: pol}, {API: ACTIVE}, gone.state, NOW + timedelta(seconds=100))
    found = back.assessments[API]
    assert (found.status, found.cause) == (Status.DOWN, Cause.RESTARTING)  # coming back: not restarted
    assert back.actions == []
    healthy = decide({API: pol}, {API: ACTIVE}, back.state, NOW + timedelta(seconds=101), probes={API: [result(OK)]})
    assert healthy.assessments[API].status is Status.OK


def test_a_check_is_its_verdict_and_is_never_acted_on() -> None:
    check = ItemPolicy(name="site", kind=Kind.CHECK, probe=SPEC)
    state = State()
    for at in (0, 10, 20, 3600):
        d = decide({"site": check}, {}, state, NOW + timedelta(seconds=at), probes={"site": [result(DOWN, at)]})
        state = d.state
    assert d.assessments["site"].status is Status.DOWN and d.actions == []
    assert state.probes["site"].verdict is DOWN


def test_a_new_check_waits_for_its_first_answer_as_ok() -> None:
    check = ItemPolicy(name="site", kind=Kind.CHECK, probe=SPEC)
    d = decide({"site": check}, {}, State(), NOW)
    assert (d.assessments["site"].status, d.assessments["site"].reason) == (
        Status.OK,
        "waiting for the first probe result",
    )
