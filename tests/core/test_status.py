"""Every status, from plain observations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supervisor.core.model import ItemPolicy, Kind, Observation, Status, TimerObservation
from supervisor.core.runs import RunMemory, RunStats, track
from supervisor.core.status import Assessment, assess

from .factories import NOW, ago, daemon, policy, run, timer


def look(pol: ItemPolicy, obs: Observation | None, memory: RunMemory | None = None) -> Assessment:
    """What one look at ``obs`` concludes: the runs it shows are followed first, as decide() does."""
    memory = memory or RunMemory()
    if isinstance(obs, TimerObservation):
        memory, _ = track(pol, obs, memory, RunStats(), (), NOW)
    return assess(pol, obs, NOW, memory)


CASES = [
    # (id, policy kwargs, observation, expected status, reason fragment)
    ("healthy", {}, timer(), Status.OK, "last run succeeded"),
    ("stale", {"max_stale_s": 300}, timer(last_trigger=ago(301)), Status.STALE, "stale 5m1s > 5m"),
    ("stale-derived", {}, timer(last_trigger=ago(3 * 3600)), Status.STALE, "> 2h30m"),
    ("just-within", {"max_stale_s": 300}, timer(last_trigger=ago(300)), Status.OK, ""),
    (
        "never-triggered",
        {"max_stale_s": 300},
        timer(last_trigger=None, active_enter=ago(301), service=run(ran=False)),
        Status.NEVER_TRIGGERED,
        "never",
    ),
    (
        "waiting-first",
        {"max_stale_s": 300},
        timer(last_trigger=None, active_enter=ago(299), service=run(ran=False)),
        Status.OK,
        "waiting",
    ),
    ("inactive", {}, timer(active_state="inactive", sub_state="dead"), Status.DEAD, "timer inactive"),
    ("timer-failed", {}, timer(active_state="failed"), Status.DEAD, "timer failed"),
    ("nothing-scheduled", {}, timer(next_elapse=None), Status.DEAD, "nothing scheduled"),
    ("unscheduled-while-running", {}, timer(next_elapse=None, service=run(active="activating")), Status.OK, ""),
    ("one-shot-done", {}, timer(next_elapse=None, monotonic=(), service=run()), Status.OK, ""),
    ("failed-run", {}, timer(service=run("exit-code", 1)), Status.FAILED, "exit status 1"),
    ("running-now", {}, timer(service=run(active="activating")), Status.OK, ""),
    ("stale-beats-failed", {"max_stale_s": 60}, timer(service=run("exit-code", 1)), Status.STALE, "stale"),
    ("dead-beats-stale", {"max_stale_s": 60}, timer(active_state="inactive"), Status.DEAD, ""),
    ("missing", {}, timer(load_state="not-found", active_state="inactive"), Status.MISSING, "not-found"),
]


@pytest.mark.parametrize(("kw", "obs", "expected", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_it_assesses_timers(kw: dict[str, object], obs: object, expected: Status, fragment: str) -> None:
    found = look(policy(**kw), obs)  # type: ignore[arg-type]
    assert found.status is expected
    assert fragment in found.reason
    assert found.kind is Kind.TIMER


def test_it_reports_age_and_budget() -> None:
    found = look(policy(max_stale_s=900), timer(last_trigger=ago(120)))
    assert found.age_s == 120
    assert found.budget is not None and found.budget.seconds == 900 and found.budget.source == "explicit"


def test_it_calls_an_unknown_unit_missing() -> None:
    assert look(policy("gw.service"), None).status is Status.MISSING


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        (daemon(), Status.OK),
        (daemon("reloading", "reload"), Status.OK),
        (daemon("failed", "failed", result="exit-code"), Status.DOWN),
        (daemon("inactive", "dead"), Status.DOWN),
        (daemon("activating", "auto-restart"), Status.DOWN),
        (daemon("inactive", "dead", load="not-found"), Status.MISSING),
    ],
)
def test_it_assesses_daemons(obs: object, expected: Status) -> None:
    assert look(policy("gw.service"), obs).status is expected  # type: ignore[arg-type]


def test_it_keeps_future_triggers_ok() -> None:
    obs = timer(last_trigger=NOW - timedelta(seconds=1))
    assert look(policy(), obs).status is Status.OK
