"""The transition tables, walked whole: every listed transition happens, every other one raises."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from supervisor.core.decide import decide
from supervisor.core.lifecycle import (
    PRECEDENCE,
    RUN_TRANSITIONS,
    STATUS_TRANSITIONS,
    IllegalTransition,
    RunEvent,
    RunPhase,
    check_status_change,
    run_step,
)
from supervisor.core.model import Kind, Status, Trigger
from supervisor.core.runs import Run, RunMemory, RunStats, track
from supervisor.core.state import ItemState, State

from .factories import NOW, ago, daemon, policy, run, timer


@pytest.mark.parametrize(("phase", "event"), list(itertools.product(RunPhase, RunEvent)))
def test_every_run_phase_and_event(phase: RunPhase, event: RunEvent) -> None:
    if (phase, event) in RUN_TRANSITIONS:
        assert run_step(phase, event) is RUN_TRANSITIONS[(phase, event)]
    else:
        with pytest.raises(IllegalTransition):
            run_step(phase, event)


def test_the_run_table_says_what_it_must() -> None:
    assert (RunPhase.IDLE, RunEvent.OVERDUE) not in RUN_TRANSITIONS  # only a run in progress can be overdue
    assert (RunPhase.HUNG, RunEvent.OVERDUE) not in RUN_TRANSITIONS  # hung once per run
    assert all(new is RunPhase.IDLE for (_, ev), new in RUN_TRANSITIONS.items() if ev is RunEvent.FINISHED)


def obs_for(phase_event: tuple[RunPhase, RunEvent]) -> tuple[RunMemory, object]:
    """A memory in ``phase`` and an observation that brings ``event``."""
    phase, event = phase_event
    current = None if phase is RunPhase.IDLE else Run("1" * 32, Trigger.TIMER, ago(3000))
    memory = RunMemory(current=current, phase=phase)
    service = {
        RunEvent.STARTED: run(active="activating", inv="2" * 32, started=5),
        RunEvent.FINISHED: run(inv="1" * 32 if current else "3" * 32, started=4000, took=10),
        RunEvent.OVERDUE: run(active="activating", inv="1" * 32, started=3000),
        RunEvent.LOST: run(ran=False),
    }[event]
    return memory, timer(service=service)


@pytest.mark.parametrize("pair", sorted(RUN_TRANSITIONS, key=str))
def test_every_listed_run_transition_is_reached_by_an_observation(pair: tuple[RunPhase, RunEvent]) -> None:
    memory, obs = obs_for(pair)
    after, _facts = track(policy(max_runtime_s=600), obs, memory, RunStats(), (), NOW)  # type: ignore[arg-type]
    assert after.phase is RUN_TRANSITIONS[pair]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_status_change_within_a_kind_is_listed_and_none_across(kind: Kind) -> None:
    own = (*PRECEDENCE[kind], Status.PAUSED, Status.BLOCKED)  # any problem can be blocked by a dependency
    for old, new in itertools.product((None, *Status), Status):
        legal = new in own and (old is None or (old in own and old is not new))
        if legal:
            check_status_change(kind, old, new)
        else:
            with pytest.raises(IllegalTransition):
                check_status_change(kind, old, new)
    assert len(STATUS_TRANSITIONS[kind]) == len(own) + len(own) * (len(own) - 1)


def test_precedence_lists_every_status_of_each_kind_once() -> None:
    assert PRECEDENCE[Kind.TIMER] == (
        Status.MISSING,
        Status.DEAD,
        Status.HUNG,
        Status.NEVER_TRIGGERED,
        Status.STALE,
        Status.FAILED,
        Status.OK,
    )
    everything = set(PRECEDENCE[Kind.TIMER]) | set(PRECEDENCE[Kind.DAEMON]) | {Status.PAUSED, Status.BLOCKED}
    assert everything == set(Status)


def test_decide_refuses_a_status_of_another_kind_in_its_memory() -> None:
    corrupt = State(items={"gw.service": ItemState(Status.STALE, ago(5), "stale")})
    with pytest.raises(IllegalTransition):
        decide({"gw.service": policy("gw.service")}, {"gw.service": daemon()}, corrupt, NOW)


@pytest.mark.parametrize(
    ("obs", "kw", "expected"),
    [
        (timer(load_state="not-found", active_state="inactive"), {}, Status.MISSING),
        (timer(active_state="inactive", service=run(active="activating", started=4000)), {}, Status.DEAD),
        (timer(service=run(active="activating", started=4000)), {"max_runtime_s": 600}, Status.HUNG),
        (
            timer(last_trigger=None, active_enter=ago(99999), service=run(active="activating", started=60)),
            {"max_runtime_s": 600},
            Status.NEVER_TRIGGERED,
        ),
        (timer(last_trigger=ago(99999), service=run("exit-code", 1)), {}, Status.STALE),
        (timer(service=run("exit-code", 1)), {}, Status.FAILED),
        (timer(), {}, Status.OK),
    ],
    ids=lambda v: v.value if isinstance(v, Status) else "",
)
def test_each_status_wins_over_the_ones_after_it(obs: object, kw: dict[str, object], expected: Status) -> None:
    assert decide({"job.timer": policy(**kw)}, {"job.timer": obs}, State(), NOW).assessments["job.timer"].status is (
        expected
    )


def test_paused_comes_from_the_operator_not_the_tables_precedence() -> None:
    state = State(paused={"job.timer": None})
    d = decide({"job.timer": policy()}, {"job.timer": replace(timer(), active_state="inactive")}, state, NOW)
    assert d.assessments["job.timer"].status is Status.PAUSED
    assert "would be dead" in d.assessments["job.timer"].reason
