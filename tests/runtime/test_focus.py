"""The daemon's attention (``runtime.focus``): pure, both clocks passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from supervisor.adapters.systemd.signals import UnitChanged, UnitsReshaped
from supervisor.config.loader import parse_registry
from supervisor.core.alerts import RECHECK_S
from supervisor.runtime.focus import RESHAPE_MIN_GAP_S, WHOLE_EVERY_S, Focus
from supervisor.runtime.observe import Snapshot
from tests.core.factories import policy, run, timer

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REGISTRY = parse_registry("scope: user\ndiscover: true\nignore: ['skip*']\nunits: {}\n", "registry.yaml")


def snapshot() -> Snapshot:
    obs = timer(service=run())  # job.timer runs job.service
    return Snapshot({"job.timer": policy("job.timer")}, {"job.timer": obs})


def swept(at: float = 100.0, resync: float = 600.0) -> Focus:
    focus = Focus()
    focus.sweeping()
    focus.swept(at, resync, snapshot())
    return focus


def test_the_first_look_is_a_full_sweep_and_the_next_one_is_due_after_the_resync_period() -> None:
    focus = Focus()
    assert focus.full
    focus.dirty.add("job.timer")
    focus.sweeping()
    assert not focus.full and focus.observed is None and not focus.dirty
    assert not focus.swept(100.0, 600.0, snapshot())
    assert not focus.full_due(699.9)
    assert focus.full_due(700.0) and focus.full


def test_a_change_of_a_service_marks_its_timer_for_the_next_look_and_is_read_once() -> None:
    focus = swept()
    assert focus.on_signals([UnitChanged("job.service")], snapshot(), REGISTRY, 101.0)
    assert focus.to_read(T0, 101.0) == {"job.timer"}
    assert focus.observed == {"job.timer"}
    assert focus.to_read(T0, 101.1) == set() and focus.observed == set()


def test_a_change_said_before_the_first_snapshot_is_read_again_once_it_is_in() -> None:
    # the first sweep may read a run still going; its end, said meanwhile, has no snapshot to be mapped with
    focus = Focus()
    focus.sweeping()
    focus.on_signals([UnitChanged("job.service"), UnitChanged("other.service")], None, REGISTRY, 100.5)
    assert not focus.dirty  # nothing to map them with yet
    assert focus.swept(101.0, 600.0, snapshot())  # the loop wakes for it
    assert focus.to_read(T0, 101.0) == {"job.timer"}
    assert not focus.swept(102.0, 600.0, snapshot()) and focus.to_read(T0, 102.0) == set()  # said once, read once


def test_a_unit_nobody_supervises_wakes_nothing() -> None:
    focus = swept()
    assert not focus.on_signals([UnitChanged("other.service")], snapshot(), REGISTRY, 101.0)
    assert not focus.on_signals([UnitsReshaped("new", "skip-me.timer")], snapshot(), REGISTRY, 101.0)
    assert not focus.on_signals([UnitsReshaped("new", "x.service")], snapshot(), REGISTRY, 101.0)


def test_units_coming_and_going_ask_for_one_full_sweep_per_gap_however_many() -> None:
    focus = swept(at=100.0)
    events = [UnitsReshaped("new", f"n{i}.timer") for i in range(50)]
    assert focus.on_signals(events, snapshot(), REGISTRY, 101.0)  # the loop plans its sleep again ...
    assert focus.next_full_at == 100.0 + RESHAPE_MIN_GAP_S  # ... for a sweep not before the gap since the last
    assert not focus.full_due(101.0)
    assert not focus.on_signals([UnitsReshaped("new", "n50.timer")], snapshot(), REGISTRY, 102.0)  # planned already
    assert focus.on_signals([UnitsReshaped("reload")], snapshot(), REGISTRY, 100.0 + RESHAPE_MIN_GAP_S)
    assert focus.full_due(100.0 + RESHAPE_MIN_GAP_S)


def test_unconfirmed_problems_are_read_again_after_the_recheck_delay_or_at_a_deadline() -> None:
    focus = swept()
    focus.decided(T0, None, None, ["job.timer"], loop_time=100.0)
    assert focus.to_read(T0, 100.0 + RECHECK_S / 2) == set()
    assert focus.to_read(T0, 100.0 + RECHECK_S) == {"job.timer"}
    assert focus.recheck_at is None

    focus.decided(T0, None, T0 + timedelta(seconds=1), ["job.timer"], loop_time=200.0)
    assert focus.to_read(T0 + timedelta(seconds=1), 200.0) == {"job.timer"}  # the deadline came first


def test_a_step_decides_only_what_it_read_or_received_until_a_whole_step_is_due() -> None:
    focus = swept()
    assert focus.scope(set(), T0, has_view=False) is None  # the first step after a sweep: every item
    focus.decided(T0, None, None, [], 100.0)
    focus.on_signals([UnitChanged("job.service")], snapshot(), REGISTRY, 101.0)
    focus.to_read(T0, 101.0)
    assert focus.scope({"ping.check"}, T0 + timedelta(seconds=0.2), has_view=True) == {"job.timer", "ping.check"}
    assert focus.observed == {"job.timer", "ping.check"}  # what arrived counts as looked at
    assert focus.scope(set(), T0 + timedelta(seconds=WHOLE_EVERY_S), has_view=True) is None
    focus.to_read(T0, 102.0)
    assert focus.scope(set(), T0 + timedelta(seconds=0.3), has_view=True) is None  # nothing arrived: revalidate


def test_an_operators_change_and_a_deadline_make_the_step_whole() -> None:
    focus = swept()
    focus.decided(T0, None, T0 + timedelta(seconds=0.5), [], 100.0)
    focus.on_signals([UnitChanged("job.timer")], snapshot(), REGISTRY, 100.1)
    focus.to_read(T0, 100.1)
    focus.changed = True
    assert focus.scope(set(), T0 + timedelta(seconds=0.1), has_view=True) is None and not focus.changed
    focus.on_signals([UnitChanged("job.timer")], snapshot(), REGISTRY, 100.2)
    focus.to_read(T0, 100.2)
    assert focus.scope(set(), T0 + timedelta(seconds=0.5), has_view=True) is None  # the deadline came


def test_a_partial_step_keeps_the_other_items_next_moment() -> None:
    focus = swept()
    focus.decided(T0, None, T0 + timedelta(seconds=30), [], 100.0)
    focus.decided(T0 + timedelta(seconds=1), {"job.timer"}, T0 + timedelta(seconds=60), [], 101.0)
    assert focus.deadline == T0 + timedelta(seconds=30)
    focus.decided(T0 + timedelta(seconds=2), None, T0 + timedelta(seconds=60), [], 102.0)
    assert focus.deadline == T0 + timedelta(seconds=60)  # a whole step sets every moment afresh


def test_the_loop_sleeps_until_the_first_of_heartbeat_resync_and_deadline() -> None:
    focus = swept(at=100.0, resync=600.0)
    assert focus.wait_s(T0, 100.0, heartbeat_s=30.0) == 30.0
    focus.decided(T0, None, T0 + timedelta(seconds=5), [], 100.0)
    assert abs(focus.wait_s(T0, 100.0, 30.0) - 5.001) < 1e-9
    assert focus.wait_s(T0, 800.0, 30.0) == 0.0  # the resync is overdue


def test_a_manager_reload_has_the_next_look_read_every_run_afresh() -> None:
    # a daemon-reload moves no unit's state, yet may change a service's RuntimeMaxSec=
    focus = swept()
    focus.on_signals([UnitsReshaped("new", "n1.timer"), UnitChanged("a.timer")], snapshot(), REGISTRY, 101.0)
    assert not focus.forget  # a unit coming or going changes no other unit's run
    focus.on_signals([UnitsReshaped("manager reloaded")], snapshot(), REGISTRY, 102.0)
    assert focus.take_forget()
    assert not focus.take_forget()  # once: the look after it may use what it read
