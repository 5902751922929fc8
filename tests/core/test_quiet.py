"""Silences, maintenance windows and blocked dependants in the decision step: observed, never acted on or sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from supervisor.core.alerts import AlertPolicy
from supervisor.core.decide import Restart, decide
from supervisor.core.model import DaemonObservation, ItemPolicy, Observation, Status
from supervisor.core.silences import Silence, Window
from supervisor.core.state import State
from supervisor.core.wakeup import next_wakeup

from .factories import NOW, ago, daemon, policy, run, timer

T = "job.timer"
OK = timer()
FAILED = timer(service=run("exit-code", 1))
STALE = timer(last_trigger=ago(4 * 3600))
ALERTING = AlertPolicy()


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def silenced(state: State, until: datetime, pattern: str = "job.*") -> State:
    return replace(state, silences=(Silence("s1", pattern, until, "deploy", NOW),))


def walk(
    steps: list[tuple[float, dict[str, Observation]]],
    policies: dict[str, ItemPolicy],
    state: State,
    alerting: AlertPolicy = ALERTING,
) -> tuple[list[tuple[float, str, str | None]], State, list[object]]:
    """Decide at each (second, observations); return every alert as (second, event, item), the state, actions."""
    sent: list[tuple[float, str, str | None]] = []
    actions: list[object] = []
    for second, obs in steps:
        d = decide(policies, obs, state, at(second), alerting=alerting)
        state = d.state
        sent += [(second, a.event.value, a.item) for a in d.alerts]
        actions += d.actions
    return sent, state, actions


def test_a_failure_that_recovers_inside_a_silence_sends_nothing() -> None:
    pol = {T: policy(on_stale="alert")}
    state = silenced(State(), at(100))
    sent, state, _ = walk(
        [(0, {T: OK}), (10, {T: FAILED}), (20, {T: FAILED}), (30, {T: OK}), (100, {T: OK})], pol, state
    )
    assert sent == []
    assert state.silences == ()  # expired at its end, and forgotten


def test_a_failure_that_outlasts_a_silence_sends_one_down_when_it_ends() -> None:
    pol = {T: policy(on_stale="alert")}
    state = silenced(State(), at(100))
    steps = [(0, {T: OK}), (10, {T: FAILED}), (50, {T: FAILED}), (100, {T: FAILED}), (150, {T: FAILED})]
    sent, state, _ = walk(steps, pol, state)
    assert sent == [(100, "down", T)]
    assert state.items[T].status is Status.FAILED and state.items[T].silenced_until is None


def test_the_status_stays_truthful_and_the_end_is_shown_while_silenced() -> None:
    pol = {T: policy(on_stale="alert")}
    d = decide(pol, {T: FAILED}, silenced(State(), at(100)), NOW, alerting=ALERTING)  # type: ignore[dict-item]
    assert d.assessments[T].status is Status.FAILED
    assert d.state.items[T].silenced_until == at(100)
    assert next_wakeup(pol, {T: FAILED}, d, NOW, ALERTING) == at(100)  # type: ignore[dict-item]


def test_a_silenced_item_is_never_restarted() -> None:
    pol = {T: policy()}
    d = decide(pol, {T: STALE}, silenced(State(), at(100)), NOW, alerting=ALERTING)  # type: ignore[dict-item]
    assert d.assessments[T].status is Status.STALE and d.actions == []
    after = decide(pol, {T: STALE}, d.state, at(100), alerting=ALERTING)  # type: ignore[dict-item]
    assert [type(a) for a in after.actions] == [Restart]


def test_an_incident_announced_before_the_silence_tells_its_recovery_after_it() -> None:
    pol = {T: policy(on_stale="alert")}
    sent, state, _ = walk([(0, {T: FAILED})], pol, State())
    assert sent == [(0, "down", T)]
    state = silenced(state, at(100))
    sent, _, _ = walk([(10, {T: OK}), (50, {T: OK}), (100, {T: OK})], pol, state)
    assert sent == [(100, "recovered", T)]


def test_a_maintenance_window_silences_what_it_names() -> None:
    start = NOW.replace(hour=3, minute=0)  # NOW is a Sunday
    window = Window(("job.*",), "Sun *-*-* 03:00:00", 3600.0, "UTC", "upgrade")
    pol = {T: policy(on_stale="alert")}
    state = State()
    sent: list[str] = []
    for second, obs in [(0, OK), (60, FAILED), (600, FAILED), (3600, FAILED)]:
        moment = start + timedelta(seconds=second)
        d = decide(pol, {T: obs}, state, moment, alerting=ALERTING, windows=(window,))  # type: ignore[dict-item]
        state = d.state
        sent += [f"{second}:{a.event.value}" for a in d.alerts]
    assert sent == ["3600:down"]


DB, APP = "db.service", "app.service"


def stack(db: DaemonObservation, app: DaemonObservation) -> dict[str, Observation]:
    return {DB: db, APP: replace(app, name=APP, requires=(DB, "sysinit.target"))}


def test_a_dependant_of_a_down_database_is_blocked_and_only_the_database_is_announced() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, on_stale="alert")}
    down = daemon("failed", "failed", result="exit-code")
    up = daemon()
    sent, state, _ = walk([(0, stack(up, up)), (10, stack(down, down))], pol, State())
    assert sent == [(10, "down", DB)]
    assert state.items[APP].status is Status.BLOCKED
    assert state.items[APP].blocked_by == (DB,)
    assert state.items[APP].reason.startswith("blocked by db.service (down): service failed")


def test_the_root_alert_lists_what_it_blocks() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, on_stale="alert")}
    down = daemon("failed", "failed", result="exit-code")
    d = decide(pol, stack(down, down), State(), NOW, alerting=ALERTING)
    [alert] = d.alerts
    assert alert.item == DB and alert.details["blocks"] == [APP]


def test_when_the_root_recovers_a_still_broken_dependant_sends_its_own_down() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, on_stale="alert")}
    down = daemon("failed", "failed", result="exit-code")
    up = daemon()
    alerting = replace(ALERTING, incident=replace(ALERTING.incident, settle_s=0))
    steps = [(0, stack(up, up)), (10, stack(down, down)), (20, stack(up, down)), (30, stack(up, down))]
    sent, state, _ = walk(steps, pol, State(), alerting)
    assert sent == [(10, "down", DB), (20, "recovered", DB), (20, "down", APP)]
    assert state.items[APP].status is Status.DOWN and state.items[APP].blocked_by == ()


def test_a_blocked_item_is_not_restarted() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, restart=replace(policy().restart, after_s=0))}
    down = daemon("failed", "failed", result="exit-code")
    _, _, actions = walk([(0, stack(down, down)), (100, stack(down, down))], pol, State())
    assert actions == []


def test_registry_dependencies_block_checks_and_pings_too() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, on_stale="alert", depends_on=(DB,))}
    down = daemon("failed", "failed", result="exit-code")
    d = decide(pol, {DB: down, APP: replace(down, name=APP)}, State(), NOW, alerting=ALERTING)
    assert d.assessments[APP].status is Status.BLOCKED
    assert [a.item for a in d.alerts] == [DB]


def test_a_timers_job_required_by_a_database_is_blocked_by_it() -> None:
    job = timer(service=run("exit-code", 1))
    pol = {DB: policy(DB, on_stale="alert"), T: policy(on_stale="alert")}
    down = replace(daemon("failed", "failed", result="exit-code"), name=DB, required_by=("job.service", "x.service"))
    d = decide(pol, {DB: down, T: job}, State(), NOW, alerting=ALERTING)
    assert d.assessments[T].status is Status.BLOCKED
    assert d.assessments[T].reason == "blocked by db.service (down): last run failed: exit-code, exit status 1"
    assert [(a.item, a.details["blocks"]) for a in d.alerts] == [(DB, [T])]


def test_a_step_for_a_few_items_decides_their_dependants_again() -> None:
    pol = {DB: policy(DB, on_stale="alert"), APP: policy(APP, on_stale="alert")}
    down, up = daemon("failed", "failed", result="exit-code"), daemon()
    alerting = replace(ALERTING, incident=replace(ALERTING.incident, settle_s=0))
    first = decide(pol, stack(down, down), State(), NOW, alerting=alerting)
    assert first.assessments[APP].status is Status.BLOCKED
    later = decide(pol, stack(up, down), first.state, at(10), alerting=alerting, only={DB}, carried=first.assessments)
    assert later.assessments[APP].status is Status.DOWN
