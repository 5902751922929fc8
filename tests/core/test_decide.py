"""Transitions, restarts within budget, escalation, wake-ups."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from supervisor.core.decide import Escalate, Restart, decide
from supervisor.core.model import OnStale, RestartPolicy, Status
from supervisor.core.state import ItemState, State
from supervisor.core.wakeup import next_wakeup

from .factories import NOW, ago, daemon, policy, timer

T = "job.timer"
STALE = timer(last_trigger=ago(4 * 3600))


def step(obs: object, state: State, at: object = NOW, **kw: object):  # type: ignore[no-untyped-def]
    pol = {T: policy(**kw)}
    return decide(pol, {T: obs}, state, at)  # type: ignore[arg-type, dict-item]


def test_it_records_the_first_observation_as_initial() -> None:
    d = step(timer(), State())
    [t] = d.transitions
    assert (t.item, t.old, t.new, t.initial, t.at) == (T, None, Status.OK, True, NOW)
    assert d.state.items[T].status is Status.OK
    assert d.actions == []


def test_it_records_nothing_in_steady_state() -> None:
    first = step(timer(), State())
    again = step(timer(), first.state, NOW + timedelta(seconds=5))
    assert again.transitions == []
    assert again.state == first.state


def test_it_records_a_change_and_the_recovery() -> None:
    ok = step(timer(), State()).state
    bad = step(STALE, ok)
    [t] = bad.transitions
    assert (t.old, t.new, t.initial) == (Status.OK, Status.STALE, False)
    assert "stale" in t.reason
    back = step(timer(), bad.state, NOW + timedelta(seconds=1))
    assert [(x.old, x.new) for x in back.transitions] == [(Status.STALE, Status.OK)]


def test_it_restarts_a_stale_timer_and_persists_the_attempt_in_the_state() -> None:
    d = step(STALE, State())
    assert d.actions == [Restart(T, T, 1)]
    assert d.state.restarts[T] == (NOW,)


def test_it_never_restarts_an_alert_only_item() -> None:
    d = step(STALE, State(), on_stale=OnStale.ALERT)
    assert d.actions == []


def test_it_does_not_restart_a_failed_run() -> None:
    d = step(timer(service=replace(timer().service, result="exit-code", exit_status=1)), State())  # type: ignore[type-var]
    assert d.assessments[T].status is Status.FAILED
    assert d.actions == []


def test_it_spaces_attempts_by_the_backoff() -> None:
    first = step(STALE, State())
    soon = step(STALE, first.state, NOW + timedelta(seconds=59))
    assert soon.actions == []
    later = step(STALE, first.state, NOW + timedelta(seconds=60))
    assert later.actions == [Restart(T, T, 2)]


def test_it_escalates_once_when_the_budget_is_spent() -> None:
    state, actions = State(), []
    for i in range(6):
        d = step(STALE, state, NOW + timedelta(seconds=61 * i))
        state, actions = d.state, actions + d.actions
    restarts = [a for a in actions if isinstance(a, Restart)]
    escalations = [a for a in actions if isinstance(a, Escalate)]
    assert [r.attempt for r in restarts] == [1, 2, 3]
    assert len(escalations) == 1 and escalations[0].item == T
    assert state.items[T].escalated


def test_it_restarts_again_when_the_window_rolls_on() -> None:
    attempts = (ago(3600), ago(1000), ago(900))
    state = State(items={T: ItemState(Status.STALE, ago(4000), "stale", escalated=True)}, restarts={T: attempts})
    d = step(STALE, state)
    assert d.actions == [Restart(T, T, 3)]


def test_it_clears_escalation_on_recovery_and_keeps_it_between_problems() -> None:
    state = State(items={T: ItemState(Status.STALE, ago(10), "stale", escalated=True)})
    d = decide({T: policy()}, {T: timer(active_state="inactive")}, state, NOW, act=False)
    assert d.state.items[T].escalated
    ok = decide({T: policy()}, {T: timer()}, d.state, NOW, act=False)
    assert not ok.state.items[T].escalated


def test_it_only_looks_when_not_acting() -> None:
    d = decide({T: policy()}, {T: STALE}, State(), NOW, act=False)
    assert d.actions == [] and d.state.restarts == {}


def test_it_restarts_a_down_daemon_within_its_own_policy() -> None:
    pol = {"gw.service": policy("gw.service", restart=RestartPolicy(max=1, per_s=60, backoff_s=0, after_s=0))}
    d = decide(pol, {"gw.service": daemon("failed", "failed")}, State(), NOW)
    assert d.actions == [Restart("gw.service", "gw.service", 1)]
    d2 = decide(pol, {"gw.service": daemon("failed", "failed")}, d.state, NOW + timedelta(seconds=1))
    assert [type(a) for a in d2.actions] == [Escalate]


def test_it_forgets_items_no_longer_supervised() -> None:
    state = step(STALE, State()).state
    d = decide({}, {}, state, NOW)
    assert d.state.items == {} and d.state.restarts == {}


def test_it_wakes_when_the_next_budget_expires() -> None:
    pol = {T: policy(max_stale_s=900)}
    obs = {T: timer(last_trigger=ago(600))}
    d = decide(pol, obs, State(), NOW)
    assert next_wakeup(pol, obs, d, NOW) == NOW + timedelta(seconds=300)


def test_it_wakes_when_the_next_restart_is_allowed() -> None:
    pol = {T: policy(max_stale_s=60)}
    obs = {T: STALE}
    d = decide(pol, obs, State(), NOW)
    assert next_wakeup(pol, obs, d, NOW) == NOW + timedelta(seconds=60)


def test_it_wakes_for_a_never_triggered_timer() -> None:
    pol = {T: policy(max_stale_s=900)}
    obs = {T: timer(last_trigger=None, active_enter=ago(100))}
    d = decide(pol, obs, State(), NOW)
    assert next_wakeup(pol, obs, d, NOW) == NOW + timedelta(seconds=800)
