"""Alert selection: one message per break, one per recovery, damping, escalation, summaries, routing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supervisor.core.alerts import Alert, AlertEvent, AlertPolicy, route
from supervisor.core.decide import decide
from supervisor.core.incident import IncidentPolicy
from supervisor.core.model import RestartPolicy
from supervisor.core.state import State

from .factories import NOW, ago, policy, run, timer

T = "job.timer"
OK = timer()
STALE = timer(last_trigger=ago(4 * 3600))
DEAD = timer(active_state="inactive")
FAILED = timer(service=run("exit-code", 1))


def replay(observations: list[object], alerting: AlertPolicy | None = None, step_s: float = 1.0, **kw: object):  # type: ignore[no-untyped-def]
    """Feed observations one step apart; return (events, final state, all alerts)."""
    pol = {T: policy(**kw)}
    state, alerts = State(), []
    for i, obs in enumerate(observations):
        d = decide(pol, {T: obs}, state, NOW + timedelta(seconds=step_s * i), alerting=alerting or AlertPolicy())  # type: ignore[dict-item]
        state, alerts = d.state, alerts + d.alerts
    return [a.event.value for a in alerts], state, alerts


@pytest.mark.parametrize(
    ("observations", "events"),
    [
        ([OK, OK, OK], []),  # unknown -> ok is silent
        ([OK, FAILED, FAILED, FAILED, OK], ["down", "recovered"]),  # a long incident is two messages
        ([FAILED, FAILED, OK], ["down", "recovered"]),  # unknown -> problem alerts once
        ([OK, FAILED, STALE, FAILED, OK], ["down", "changed", "changed", "recovered"]),
        ([OK, FAILED, OK, FAILED, OK], ["down", "recovered", "down", "recovered"]),
    ],
)
def test_it_alerts_on_transitions_only(observations: list[object], events: list[str]) -> None:
    assert replay(observations, on_stale="alert")[0] == events


def test_confirm_damps_flapping() -> None:
    damped = AlertPolicy(confirm=3)
    assert replay([OK, FAILED, FAILED, OK], damped, on_stale="alert")[0] == []  # never confirmed: silent
    assert replay([OK, FAILED, FAILED, FAILED, FAILED, OK], damped, on_stale="alert")[0] == ["down", "recovered"]


def test_only_fresh_observations_count_towards_confirm() -> None:
    pol = {T: policy(on_stale="alert")}
    ap = AlertPolicy(confirm=2)
    d1 = decide(pol, {T: FAILED}, State(), NOW, alerting=ap)  # type: ignore[dict-item]
    d2 = decide(pol, {T: FAILED}, d1.state, NOW + timedelta(seconds=1), alerting=ap, observed=set())  # type: ignore[dict-item]
    assert d2.alerts == []
    d3 = decide(pol, {T: FAILED}, d2.state, NOW + timedelta(seconds=2), alerting=ap, observed={T})  # type: ignore[dict-item]
    assert [a.event for a in d3.alerts] == [AlertEvent.DOWN]


def test_reminders_repeat_while_down() -> None:
    events, _, alerts = replay([OK] + [FAILED] * 7, AlertPolicy(remind_every_s=2), on_stale="alert")
    assert events == ["down", "down", "down", "down"]
    assert [a.reminder for a in alerts] == [False, True, True, True]


def test_the_down_message_carries_what_a_human_needs() -> None:
    _, _, alerts = replay([OK, FAILED], AlertPolicy(host="vps1"), on_stale="alert", critical=True)
    [down] = alerts
    body = down.payload()
    assert body["event"] == "down" and body["item"] == T and body["kind"] == "timer"
    assert (body["status"], body["previous_status"], body["critical"], body["host"]) == ("failed", "ok", True, "vps1")
    assert body["reason"] == "last run failed: exit-code, exit status 1"
    assert body["details"]["last_result"] == "exit-code" and body["details"]["last_exit_status"] == 1
    assert body["at"] == "2026-11-22T12:00:01Z" and body["since"] == "2026-11-22T12:00:01Z"


def test_ids_are_unique_and_stable_when_a_step_is_replayed() -> None:
    pol = {T: policy(on_stale="alert")}
    ap = AlertPolicy()
    first = decide(pol, {T: OK}, State(), NOW, alerting=ap)  # type: ignore[dict-item]
    a = decide(pol, {T: FAILED}, first.state, NOW + timedelta(seconds=1), alerting=ap)  # type: ignore[dict-item]
    # the step is lost (crash before the state was saved) and happens again a bit later
    b = decide(pol, {T: FAILED}, first.state, NOW + timedelta(seconds=3), alerting=ap)  # type: ignore[dict-item]
    assert a.alerts[0].id == b.alerts[0].id
    _, _, alerts = replay([OK, FAILED, OK, FAILED, STALE, OK], on_stale="alert")
    assert len({x.id for x in alerts}) == len(alerts) == 5


def test_a_spent_budget_escalates_once() -> None:
    events, state, _ = replay([OK] + [DEAD] * 6, restart=RestartPolicy(max=2, per_s=3600, backoff_s=0, after_s=0))
    assert events == ["down", "escalated"]
    assert state.items[T].escalated


def test_no_alerts_when_only_looking() -> None:
    d = decide({T: policy()}, {T: FAILED}, State(), NOW, act=False, alerting=AlertPolicy())  # type: ignore[dict-item]
    assert d.alerts == []


def test_summaries_come_every_period_and_list_problems() -> None:
    pol = {T: policy(on_stale="alert"), "b.timer": policy("b.timer")}
    ap = AlertPolicy(summary_every_s=60, host="h")
    d0 = decide(pol, {T: OK, "b.timer": OK}, State(), NOW, alerting=ap)  # type: ignore[dict-item]
    assert [a for a in d0.alerts if a.event is AlertEvent.SUMMARY] == []
    d1 = decide(pol, {T: FAILED, "b.timer": OK}, d0.state, NOW + timedelta(seconds=59), alerting=ap)  # type: ignore[dict-item]
    assert [a.event for a in d1.alerts] == [AlertEvent.DOWN]
    d2 = decide(pol, {T: FAILED, "b.timer": OK}, d1.state, NOW + timedelta(seconds=60), alerting=ap)  # type: ignore[dict-item]
    [summary] = d2.alerts
    assert summary.event is AlertEvent.SUMMARY and summary.reason == "1/2 OK"
    assert summary.details["problems"] == [
        {"item": T, "status": "failed", "reason": summary.details["problems"][0]["reason"]}
    ]
    clean = decide(pol, {T: OK, "b.timer": OK}, d2.state, NOW + timedelta(seconds=120), alerting=ap)  # type: ignore[dict-item]
    assert [a.reason for a in clean.alerts if a.event is AlertEvent.SUMMARY] == ["2/2 OK"]


def _alert(event: AlertEvent, critical: bool) -> Alert:
    return Alert("i", event, T, "timer", "stale", "ok", "r", critical, NOW, "h")


@pytest.mark.parametrize(
    ("event", "critical", "configured", "routes", "hook", "expected"),
    [
        (AlertEvent.DOWN, True, ["email", "discord", "webhook"], (None, None), False, ["email", "discord", "webhook"]),
        (AlertEvent.DOWN, False, ["email", "discord", "webhook"], (None, None), False, ["discord", "webhook"]),
        (AlertEvent.DOWN, False, ["email", "apprise"], (None, None), False, ["apprise"]),
        (AlertEvent.DOWN, False, ["email"], (None, None), False, []),
        (AlertEvent.DOWN, False, ["email", "webhook"], (None, ["email"]), False, ["email"]),
        (AlertEvent.ESCALATED, False, ["email", "discord"], (["email"], None), True, ["recovery_hook", "email"]),
        (AlertEvent.ESCALATED, False, ["webhook"], (None, None), False, ["webhook"]),
        (AlertEvent.SUMMARY, False, ["email", "discord"], (None, ["email", "discord"]), True, ["email", "discord"]),
    ],
)
def test_it_routes(
    event: AlertEvent, critical: bool, configured: list[str], routes: tuple, hook: bool, expected: list[str]
) -> None:
    assert route(_alert(event, critical), configured, routes[0], routes[1], hook) == expected


def test_a_timer_recovers_at_once_when_a_run_succeeds() -> None:
    assert replay([OK, FAILED, OK], AlertPolicy(incident=IncidentPolicy(settle_s=60)), on_stale="alert")[0] == [
        "down",
        "recovered",
    ]


def test_a_paused_item_is_shown_paused_never_restarted_never_alerted() -> None:
    from supervisor.core.state import pause, resume

    pol = {T: policy(restart=RestartPolicy(after_s=0))}
    ap = AlertPolicy()
    d0 = decide(pol, {T: OK}, State(), NOW, alerting=ap)  # type: ignore[dict-item]
    paused = pause(d0.state, T, None)
    d1 = decide(pol, {T: DEAD}, paused, NOW + timedelta(seconds=1), alerting=ap)  # type: ignore[dict-item]
    assert d1.assessments[T].status.value == "paused" and "would be dead" in d1.assessments[T].reason
    assert (d1.actions, d1.alerts) == ([], [])
    d2 = decide(pol, {T: DEAD}, d1.state, NOW + timedelta(seconds=100), alerting=ap)  # type: ignore[dict-item]
    assert (d2.actions, d2.alerts, d2.transitions) == ([], [], [])
    # resumed while still broken: re-evaluated, one message, no burst
    d3 = decide(pol, {T: DEAD}, resume(d2.state, T), NOW + timedelta(seconds=101), alerting=ap)  # type: ignore[dict-item]
    assert [a.event.value for a in d3.alerts] == ["down"] and len(d3.actions) == 1


def test_a_pause_with_an_end_expires_by_itself() -> None:
    from supervisor.core.state import pause
    from supervisor.core.wakeup import next_wakeup

    pol = {T: policy(on_stale="alert")}
    until = NOW + timedelta(seconds=60)
    state = pause(State(), T, until)
    d = decide(pol, {T: OK}, state, NOW, alerting=AlertPolicy())  # type: ignore[dict-item]
    assert d.assessments[T].status.value == "paused"
    assert next_wakeup(pol, {T: OK}, d, NOW, AlertPolicy()) == until  # type: ignore[dict-item]
    later = decide(pol, {T: OK}, d.state, until, alerting=AlertPolicy())  # type: ignore[dict-item]
    assert later.assessments[T].status.value == "ok" and later.state.paused == {}
    assert later.alerts == []
