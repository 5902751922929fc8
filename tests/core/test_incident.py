"""One incident per break: crash loops, flapping, never fighting systemd or the admin (pure, table-driven)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from supervisor.core.alerts import AlertPolicy
from supervisor.core.decide import Decision, Restart, decide
from supervisor.core.incident import IncidentPolicy
from supervisor.core.model import DaemonObservation, Kind, RestartPolicy, Status
from supervisor.core.state import State
from supervisor.core.wakeup import next_wakeup

from .factories import NOW, daemon, policy, run, timer

D = "gw.service"
T = "job.timer"
UP = daemon()
RESTARTING = DaemonObservation(D, "loaded", "activating", "auto-restart", "exit-code", "always", 3)
STARTING = DaemonObservation(D, "loaded", "activating", "start", "exit-code", "always", 4)
GAVE_UP = DaemonObservation(D, "loaded", "failed", "failed", "start-limit-hit", "always", 5)
CRASHED = DaemonObservation(D, "loaded", "failed", "failed", "exit-code", "no", 0)
STOPPED = DaemonObservation(D, "loaded", "inactive", "dead", "success", "always", 0)


def replay(
    steps: list[tuple[float, object]],
    item: str = D,
    alerting: AlertPolicy | None = None,
    **kw: object,
) -> tuple[list[tuple[float, str]], list[tuple[float, object]], list[Status], Decision]:
    """(at, observation) steps; returns (alerts, actions, published statuses, last decision)."""
    pol = {item: policy(item, **kw)}
    state, alerts, actions, statuses = State(), [], [], []
    d = None
    for at, obs in steps:
        d = decide(pol, {item: obs}, state, NOW + timedelta(seconds=at), alerting=alerting or AlertPolicy())  # type: ignore[dict-item]
        state = d.state
        alerts += [(at, a.event.value) for a in d.alerts]
        actions += [(at, a) for a in d.actions]
        statuses.append(d.assessments[item].status)
    assert d is not None
    return alerts, actions, statuses, d


def crash_loop(seconds: float, every: float = 2.0) -> list[tuple[float, object]]:
    """systemd restarting a service that crashes every ``every`` seconds: down, briefly up, down..."""
    steps: list[tuple[float, object]] = [(0.0, UP)]
    t = 1.0
    while t < seconds:
        steps += [(t, RESTARTING), (t + 0.1, STARTING), (t + 0.3, UP)]
        t += every
    return steps


def test_a_crash_loop_under_systemds_restart_is_one_down_and_nothing_else() -> None:
    alerts, actions, statuses, d = replay(crash_loop(60))
    assert alerts == [(1.0, "down")]
    assert actions == []  # systemd is restarting it: watched, never restarted by us
    assert set(statuses[1:]) == {Status.DOWN}  # the published status does not blink
    assert "flapping" in d.assessments[D].reason or "recovering" in d.assessments[D].reason
    assert len(d.transitions) == 0


def test_the_crash_loop_recovers_once_after_a_settled_minute() -> None:
    steps = [*crash_loop(20), *[(20 + t, UP) for t in (1, 30, 59, 60.2, 61, 90)]]  # last blink up at 19.3 s
    alerts, _, statuses, _ = replay(steps)
    assert alerts == [(1.0, "down"), (80.2, "recovered")]  # the first look once it was up for 60 s
    assert statuses[-1] is Status.OK


def test_one_crash_that_systemd_recovers_from_is_at_most_one_down_and_one_recovered() -> None:
    steps = [(0, UP), (1, RESTARTING), (1.2, UP), (30, UP), (62, UP)]
    alerts, actions, _, _ = replay(steps)
    assert alerts == [(1, "down"), (62, "recovered")] and actions == []
    down = decide({D: policy(D)}, {D: RESTARTING}, State(), NOW).assessments[D]
    assert "crash-loop" not in down.reason and "systemd is restarting it (Restart=always" in down.reason
    assert replay(steps, alerting=AlertPolicy(confirm=2))[0] == []  # with confirm: nothing at all


def test_a_daemon_systemd_gave_up_on_is_restarted_after_the_settle_delay_within_budget() -> None:
    steps = [(0, UP), (1, GAVE_UP), (30, GAVE_UP), (61, GAVE_UP)]
    alerts, actions, _, d = replay(steps)
    assert alerts == [(1, "down")]  # a failure is alerted at once
    assert [(at, type(a).__name__) for at, a in actions] == [(61, "Restart")]  # restarted only after restart.after
    assert "start limit hit after 5 automatic restarts" in d.assessments[D].reason


def test_a_restart_that_blinks_up_is_not_a_recovery_and_escalation_is_sent_once() -> None:
    budget = RestartPolicy(max=2, per_s=3600, backoff_s=1, after_s=0)
    steps = [(0, UP)] + [(i + 1 + dt, obs) for i in range(0, 12, 2) for dt, obs in ((0, CRASHED), (0.5, UP))]
    alerts, actions, statuses, d = replay(steps, restart=budget)
    assert [e for _, e in alerts] == ["down", "escalated"]
    assert len([a for _, a in actions if isinstance(a, Restart)]) == 2
    assert d.state.items[D].escalated and set(statuses[1:]) == {Status.DOWN}


@pytest.mark.parametrize("item", [T, D])
def test_a_deliberate_stop_then_start_within_the_settle_delay_is_neither_restarted_nor_alerted(item: str) -> None:
    stopped = timer(active_state="inactive", sub_state="dead") if item == T else STOPPED
    up = timer() if item == T else UP
    alerts, actions, statuses, _ = replay([(0, up), (1, stopped), (30, stopped), (59, stopped), (60, up)], item=item)
    assert (alerts, actions) == ([], [])
    assert Status.OK is statuses[-1]


@pytest.mark.parametrize("item", [T, D])
def test_a_stop_that_outlasts_the_settle_delay_is_alerted_and_restarted(item: str) -> None:
    stopped = timer(active_state="inactive", sub_state="dead") if item == T else STOPPED
    up = timer() if item == T else UP
    alerts, actions, _, _ = replay([(0, up), (1, stopped), (30, stopped), (61, stopped)], item=item)
    assert alerts == [(61, "down")]
    assert [(at, type(a).__name__) for at, a in actions] == [(61, "Restart")]


def test_the_loop_wakes_when_the_settle_delay_ends() -> None:
    pol = {T: policy()}
    stopped = {T: timer(active_state="inactive", sub_state="dead")}
    d0 = decide(pol, {T: timer()}, State(), NOW, alerting=AlertPolicy())
    d1 = decide(pol, stopped, d0.state, NOW + timedelta(seconds=1), alerting=AlertPolicy())
    assert next_wakeup(pol, stopped, d1, NOW + timedelta(seconds=1), AlertPolicy()) <= NOW + timedelta(seconds=61)  # type: ignore[operator]


def flappy_timer(n: int) -> list[tuple[float, object]]:
    good, bad = timer(service=run(inv="1" * 32)), timer(service=run("exit-code", 1, inv="2" * 32))
    return [
        (float(i * 10), good if i % 2 == 0 else replace(bad, service=run("exit-code", 1, inv=f"{i:032x}")))
        for i in range(n)
    ]


def test_a_flapping_timer_is_held_as_the_problem_it_keeps_returning_to() -> None:
    # every other run fails: more than 6 changes in 10 minutes
    steps = [
        (at, replace(obs, service=replace(obs.service, invocation_id=f"{int(at):032x}")))
        for at, obs in flappy_timer(12)
    ]  # type: ignore[attr-defined]
    alerts, _, statuses, d = replay(steps, item=T, on_stale="alert")
    events = [e for _, e in alerts]
    assert events.count("down") + events.count("recovered") < 12  # not a message per run
    assert statuses[-1] is Status.FAILED and "flapping: 7 status changes in 10m" in d.assessments[T].reason


def test_flapping_is_announced_even_before_confirm() -> None:
    ap = AlertPolicy(confirm=50, incident=IncidentPolicy(flap_changes=3))
    steps = [(0, UP)] + [(1 + i, CRASHED if i % 2 == 0 else UP) for i in range(6)]
    alerts, _, _, d = replay(steps, alerting=ap, restart=RestartPolicy(after_s=3600))
    assert [e for _, e in alerts] == ["down"]
    assert d.state.items[D].announced


def test_settling_and_flapping_are_kept_across_a_supervisor_restart() -> None:
    import json

    from supervisor.core.state import from_document, to_document

    state = State()
    pol = {D: policy(D)}
    sent = []
    for at, obs in crash_loop(20):
        d = decide(pol, {D: obs}, state, NOW + timedelta(seconds=at), alerting=AlertPolicy())  # type: ignore[dict-item]
        state = from_document(json.loads(json.dumps(to_document(d.state))))
        sent += [a.event.value for a in d.alerts]
    assert sent == ["down"]
    assert state.items[D].changes and state.items[D].bad is Status.DOWN


def test_statuses_of_a_daemon_follow_who_is_in_charge() -> None:
    causes = {
        "UP": (UP, Status.OK, None),
        "RESTARTING": (RESTARTING, Status.DOWN, "restarting"),
        "GAVE_UP": (GAVE_UP, Status.DOWN, "gave-up"),
        "CRASHED": (CRASHED, Status.DOWN, "gave-up"),
        "STOPPED": (STOPPED, Status.DOWN, "stopped"),
    }
    for label, (obs, status, cause) in causes.items():
        found = decide({D: policy(D)}, {D: obs}, State(), NOW).assessments[D]
        assert (found.status, found.cause) == (status, cause), label
        assert found.kind is Kind.DAEMON


def test_an_item_held_down_while_it_is_up_is_never_restarted() -> None:
    budget = RestartPolicy(after_s=0, backoff_s=0)
    # systemd gave up once, then the service came back by itself and is settling
    alerts, actions, statuses, _ = replay([(0, UP), (1, CRASHED), (2, UP), (3, UP), (30, UP)], restart=budget)
    assert [(at, type(a).__name__) for at, a in actions] == [(1, "Restart")]  # only while it was really down
    assert statuses[2:] == [Status.DOWN, Status.DOWN, Status.DOWN] and alerts == [(1, "down")]


def test_nothing_scheduled_between_two_runs_is_not_dead_unless_it_holds() -> None:
    gap = timer(next_elapse=None)  # a run just ended; systemd has not computed the next elapse yet
    steps = [(0, timer()), (1, gap), (1.5, timer()), (3, gap), (4, gap), (5.1, gap)]
    alerts, actions, statuses, d = replay(steps, item=T)
    assert (alerts, actions) == ([(5.1, "down")], [])  # alerted once it held; restarted after restart.after
    assert statuses == [Status.OK, Status.OK, Status.OK, Status.OK, Status.OK, Status.DEAD]
    assert d.assessments[T].reason == "timer active but nothing scheduled"
    waiting = decide({T: policy()}, {T: gap}, State(), NOW, alerting=AlertPolicy())
    assert next_wakeup({T: policy()}, {T: gap}, waiting, NOW, AlertPolicy()) == NOW + timedelta(seconds=2)
    busy = replace(gap, sub_state="running")  # the timer waits for its unit: never "nothing scheduled"
    assert replay([(0, busy), (10, busy)], item=T)[2] == [Status.OK, Status.OK]
