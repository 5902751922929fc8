"""Reading a sweep ahead in one pipelined conversation, against a real private user manager.

What a batch reads must be exactly what one call at a time reads, cold and warm,
while runs happen between and during sweeps; a unit gone meanwhile and a socket
that fails leave the work to the one-at-a-time path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.adapters.systemd import pipeline
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import UnitGone
from supervisor.adapters.systemd.facts import UnitSummary
from supervisor.core.model import TimerObservation
from tests.harness.lab import Lab, wait_until


def connected(**kwargs: bool) -> SystemdClient:
    c = SystemdClient(user=True, **kwargs)
    c.connect()
    return c


@pytest.fixture
def clients(at_manager: object) -> Iterator[tuple[SystemdClient, SystemdClient]]:
    """One client that reads in batches, one that reads a call at a time (the reference)."""
    batched, single = connected(), connected()
    try:
        yield batched, single
    finally:
        batched.close()
        single.close()


def sweep(client: SystemdClient, timers: list[str], *, batch: bool) -> dict[str, TimerObservation]:
    """Every timer's observation, listed and read as the daemon's sweep does."""
    units = client.list_units()
    rows = [units[t] for t in timers]
    if not batch:
        return {u.name: client.read_timer(u, units) for u in rows}
    with client.batch(rows, units) as short:
        assert short is None
        before = client.calls
        out = {u.name: client.read_timer(u, units) for u in rows}
        assert client.calls == before  # everything came from the conversation
    return out


def same(a: dict[str, TimerObservation], b: dict[str, TimerObservation]) -> None:
    """Equal but for the wall-clock estimates of monotonic times, which move with the moment they are read."""
    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        for when in ("next_elapse", "active_enter"):
            p, q = getattr(x, when), getattr(y, when)
            assert (p is None) == (q is None), (name, when)
            if p is not None:
                assert abs((p - q).total_seconds()) < 0.05, (name, when, p, q)
        moving = {"next_elapse": 0, "active_enter": 0}
        assert {**vars_of(x), **moving} == {**vars_of(y), **moving}


def vars_of(obs: TimerObservation) -> dict[str, object]:
    return {f: getattr(obs, f) for f in obs.__dataclass_fields__}


def lab_timers(lab: Lab) -> list[str]:
    """A never-fired timer, a failed run, a good run, a run that takes seconds (still going), two on one service."""
    never = lab.timer("never", "OnCalendar=2099-01-01")
    failed = lab.timer("failed", "OnCalendar=2099-01-01", service="ExecStart=/bin/sh -c 'exit 6'")
    good = lab.timer("good", "OnCalendar=2099-01-01", service="RuntimeMaxSec=90\nExecStart=/bin/true")
    slow = lab.timer("slow", "OnCalendar=2099-01-01", service="ExecStart=/bin/sleep 3")
    shared = lab.timer("shared", "OnCalendar=2099-01-01", service="ExecStart=/bin/true")
    second = f"{lab.name('second')}.timer"
    lab.um.write_unit(second, f"[Timer]\nOnCalendar=2099-01-01\nUnit={lab.name('shared')}.service\n")
    lab.um.systemctl("daemon-reload")
    lab.um.systemctl("start", second)
    lab._units.append(second)
    for t in (failed, good, shared):
        lab.um.systemctl("start", t.removesuffix(".timer") + ".service", check=False)
    slow_service = slow.removesuffix(".timer") + ".service"
    lab.um.systemctl("start", "--no-block", slow_service)
    # under way before any listing: states come from the listing, the run from the read after it
    wait_until(lambda: lab.um.systemctl("is-active", slow_service, check=False).stdout.strip() == "activating", 10)
    return [never, failed, good, slow, shared, second]


def test_a_batch_reads_what_one_call_at_a_time_reads_in_one_conversation(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab
) -> None:
    batched, single = clients
    timers = lab_timers(lab)
    trips = batched.round_trips
    got = sweep(batched, timers, batch=True)
    assert batched.round_trips - trips == 1 + 1  # ListUnits, then the conversation
    same(got, sweep(single, timers, batch=False))
    slow = got[timers[3]].service
    assert slow is not None and slow.active_state == "activating" and slow.started_at is not None
    assert got[timers[0]].active_enter is not None and got[timers[0]].last_trigger is None
    assert got[timers[1]].service is not None and got[timers[1]].service.exit_status == 6
    assert got[timers[2]].service is not None and got[timers[2]].service.runtime_max_s == 90


def test_two_calls_in_flight_at_most_read_the_same(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers ask for more calls while others wait to be written: a narrow window changes only the pace."""
    batched, single = clients
    monkeypatch.setattr(pipeline, "WINDOW", 2)
    timers = lab_timers(lab)
    trips = batched.round_trips
    got = sweep(batched, timers, batch=True)
    assert batched.round_trips - trips == 1 + 1
    same(got, sweep(single, timers, batch=False))
    again = sweep(batched, timers, batch=True)
    same(again, sweep(single, timers, batch=False))


def test_a_later_batch_asks_only_for_stamps_unless_something_changed(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab
) -> None:
    batched, single = clients
    timers = lab_timers(lab)
    slow = timers[3].removesuffix(".timer") + ".service"
    wait_until(lambda: lab.um.systemctl("is-active", slow, check=False).stdout.strip() != "activating", 10)
    sweep(batched, timers, batch=True)
    calls, trips, reused = batched.calls, batched.round_trips, batched.reused
    again = sweep(batched, timers, batch=True)
    # a stamp per timer and per service (the two timers share one)
    assert (batched.round_trips - trips, batched.calls - calls) == (1 + 1, 1 + len(timers) + len(timers) - 1)
    assert batched.reused - reused == 2 * len(timers) - 1
    same(again, sweep(single, timers, batch=False))

    lab.um.systemctl("start", timers[1].removesuffix(".timer") + ".service", check=False)  # fails again
    lab.um.systemctl("start", timers[2])  # no-op for an active timer: nothing changes
    trips = batched.round_trips
    changed = sweep(batched, timers, batch=True)
    assert batched.round_trips - trips == 1 + 1  # the new run is read as soon as its stamp says so
    assert changed[timers[1]].service != again[timers[1]].service
    same(changed, sweep(single, timers, batch=False))


def test_a_run_that_takes_seconds_is_seen_at_every_step(clients: tuple[SystemdClient, SystemdClient], lab: Lab) -> None:
    batched, single = clients
    timers = [lab.timer(f"step{i}", "OnCalendar=2099-01-01", service="ExecStart=/bin/sleep 2") for i in range(3)]
    looks = [sweep(batched, timers, batch=True)]
    lab.um.systemctl("start", "--no-block", *(t.removesuffix(".timer") + ".service" for t in timers))
    wait_until(  # every run under way: nothing changes for the two reads to be compared
        lambda: {o.service.active_state for o in sweep(batched, timers, batch=True).values()} == {"activating"},  # type: ignore[union-attr]
        10,
    )
    looks.append(sweep(batched, timers, batch=True))
    same(looks[-1], sweep(single, timers, batch=False))
    time.sleep(2.5)
    looks.append(sweep(batched, timers, batch=True))
    same(looks[-1], sweep(single, timers, batch=False))
    states = [(look[timers[0]].service.active_state, look[timers[0]].service.result) for look in looks]  # type: ignore[union-attr]
    assert states == [("inactive", "success"), ("activating", "success"), ("inactive", "success")]
    starts = [look[timers[0]].service.started_at for look in looks]  # type: ignore[union-attr]
    assert starts[0] is None and starts[1] is not None and starts[2] == starts[1]


def test_a_unit_gone_after_the_listing_is_left_to_the_one_at_a_time_read(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab
) -> None:
    batched, single = clients
    timers = [lab.timer("stays", "OnCalendar=2099-01-01"), lab.timer("goes", "OnCalendar=2099-01-01")]
    units = batched.list_units()
    lab.um.systemctl("stop", timers[1])
    (lab.um.unit_dir / timers[1]).unlink()
    lab.um.systemctl("daemon-reload")  # the timer is unloaded: its object is gone
    with batched.batch([units[t] for t in timers], units):
        assert batched.read_timer(units[timers[0]], units).active_state == "active"
        with pytest.raises(UnitGone):
            batched.read_timer(units[timers[1]], units)
    with pytest.raises(UnitGone):  # reading its object loads it again as "not-found", triggering nothing
        single.read_timer(units[timers[1]], units)


def test_a_read_ahead_that_fails_says_why_and_reads_stay_right(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab, tmp_path: Path
) -> None:
    batched, single = clients
    timers = lab_timers(lab)
    batched.private = tmp_path / "nobody"  # as if the socket went away between the listing and the exchange
    units = batched.list_units()
    with batched.batch([units[t] for t in timers], units) as short:
        assert short is not None and "FileNotFoundError" in short
        got = {t: batched.read_timer(units[t], units) for t in timers}
    same(got, sweep(single, timers, batch=False))


@pytest.mark.usefixtures("at_manager")
def test_a_client_for_one_look_reads_ahead_too(lab: Lab) -> None:
    once, single = connected(remember=False), connected()
    try:
        timers = lab_timers(lab)
        same(sweep(once, timers, batch=True), sweep(single, timers, batch=False))
    finally:
        once.close()
        single.close()


def test_a_batch_without_a_loaded_timer_opens_no_connection(
    clients: tuple[SystemdClient, SystemdClient], lab: Lab
) -> None:
    batched, _ = clients
    gone = UnitSummary("gone.timer", "not-found", "inactive", "dead", b"/org/freedesktop/systemd1/unit/gone_2etimer")
    trips = batched.round_trips
    with batched.batch([gone], {}) as short:
        assert short is None
    assert batched.round_trips == trips
