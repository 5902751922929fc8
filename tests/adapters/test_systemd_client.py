"""The systemd client against a real private user manager.

Its call connection throws away the signals systemd sends it unasked, and a timer or a
service's run is read again only when the unit changed since it was last read.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from supervisor.adapters.systemd import client as client_module
from supervisor.adapters.systemd import decode
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.core.model import ServiceRun, TimerObservation
from tests.harness.lab import Lab, wait_until


def timed(lab: Lab, stem: str, service: str) -> str:
    """A service behind an active timer that never fires on its own (so systemd keeps it loaded)."""
    return lab.timer(stem, "OnCalendar=2099-01-01", service=service).removesuffix(".timer") + ".service"


def read(client: SystemdClient, name: str) -> tuple[ServiceRun, int]:
    """The service's run, and how many calls reading it took (its summary not counted)."""
    unit = client.unit(name)
    before = client.calls
    run = client.read_service(unit)
    return run, client.calls - before


def test_the_signals_the_manager_sends_the_call_connection_are_thrown_away(client: SystemdClient, lab: Lab) -> None:
    # systemd sends every signal to every connection on its private socket, asked for or not
    assert client.transport.startswith("private:") and os.path.exists(client.transport.removeprefix("private:"))
    names = [lab.service(f"noisy{i}", "Type=oneshot\nExecStart=/bin/true", start=False) for i in range(10)]
    client.discard_signals()
    lab.um.systemctl("start", *names)
    assert client.discard_signals() > 0  # the runs' PropertiesChanged and JobRemoved came in
    lab.um.systemctl("restart", *names)
    time.sleep(0.2)
    before = client.discarded
    unit = client.unit(names[0])
    for _ in range(client_module.DISCARD_EVERY_CALLS):
        client.summary(names[0], unit.path)
    assert client.discarded > before  # calls alone throw them away too, every DISCARD_EVERY_CALLS


def test_a_service_that_did_not_change_is_read_with_one_call(client: SystemdClient, lab: Lab) -> None:
    name = timed(lab, "still", "ExecStart=/bin/sh -c 'exit 4'")
    lab.um.systemctl("start", name, check=False)
    first, calls = read(client, name)
    assert calls == 8 and first.result == "exit-code" and first.exit_status == 4  # the stamp, seven properties
    reused = client.reused
    again, calls = read(client, name)
    assert calls == 1 and again == first and client.reused == reused + 1
    client.connect()  # a new connection remembers nothing
    _, calls = read(client, name)
    assert calls == 8


def test_every_step_of_a_run_that_takes_seconds_is_read(client: SystemdClient, lab: Lab) -> None:
    name = timed(lab, "slow", "ExecStart=/bin/sh -c 'sleep 1.5; exit 3'")
    never, _ = read(client, name)
    assert never.started_at is None and never.invocation_id is None
    lab.um.systemctl("start", "--no-block", name)
    running = wait_until(lambda: (r := read(client, name)[0]).running and r, what="the run seen running")
    assert running.started_at is not None and running.exited_at is None and running.invocation_id
    still, calls = read(client, name)  # mid-run, nothing changed: from memory
    assert calls == 1 and still == running
    done = wait_until(lambda: (r := read(client, name)[0]).result == "exit-code" and r, what="the run's end")
    assert done.exit_status == 3 and done.exited_at is not None and done.invocation_id == running.invocation_id
    assert done.active_state == "failed"
    # a whole run between two reads: the next read sees it, not the remembered one
    lab.um.systemctl("start", name, check=False)
    between, calls = read(client, name)
    assert calls == 7 and between.invocation_id != done.invocation_id and between.exit_status == 3  # the limit kept
    assert between.started_at is not None and done.started_at is not None and between.started_at > done.started_at
    # the admin clears the failure: no run, but the unit changed state
    lab.um.systemctl("reset-failed", name)
    cleared, calls = read(client, name)
    assert calls == 7 and cleared.result == "success" and cleared.active_state == "inactive"


def test_a_daemon_reload_moves_no_state_so_runs_are_forgotten_on_it(client: SystemdClient, lab: Lab) -> None:
    name = timed(lab, "bounded", "ExecStart=/bin/true\nRuntimeMaxSec=50")
    lab.um.systemctl("start", name)
    assert read(client, name)[0].runtime_max_s == 50
    lab.um.write_unit(name, "[Service]\nType=oneshot\nExecStart=/bin/true\nRuntimeMaxSec=70\n")
    lab.um.systemctl("daemon-reload")
    stale, calls = read(client, name)
    assert calls == 1 and stale.runtime_max_s == 50  # why the daemon forgets on the manager's Reloading
    client.forget()
    fresh, calls = read(client, name)
    assert calls == 8 and fresh.runtime_max_s == 70


def test_a_timer_is_read_again_when_it_fires_and_not_before(client: SystemdClient, lab: Lab) -> None:
    t = lab.timer("ticking", "OnActiveSec=2\nOnUnitActiveSec=1h", service="ExecStart=/bin/sleep 1")
    service = t.removesuffix(".timer") + ".service"
    units = client.list_units_by_names([t, service])

    def look() -> tuple[TimerObservation, int]:
        before = client.calls
        obs = client.read_timer(units[t], units)
        return obs, client.calls - before

    waiting, calls = look()
    assert calls == 1 + 1 + 2  # stamp, GetAll(Timer), the run: its stamp (0: it has not run) and its limit
    assert waiting.service == client._read_run(units[service], None)  # what its seven properties say
    assert waiting.last_trigger is None and waiting.active_enter is not None and waiting.next_elapse is not None
    entered = decode.realtime(client._get(units[t].path, client_module.UNIT, b"ActiveEnterTimestamp"))
    assert entered is not None  # never fired: the stamp is when it became active, on the wall clock
    assert abs((waiting.active_enter - entered).total_seconds()) < 0.01
    again, calls = look()
    assert calls == 2  # two stamps: nothing changed
    assert replace(again, next_elapse=None) == replace(waiting, next_elapse=None)
    assert again.next_elapse and waiting.next_elapse  # a monotonic elapse, put on the wall clock at each read
    assert abs((again.next_elapse - waiting.next_elapse).total_seconds()) < 0.01
    fired = wait_until(lambda: (o := look()[0]).last_trigger and o, timeout=10, what="the timer's first elapse")
    assert fired.active_enter is None and fired.service is not None and fired.service.started_at is not None
    assert fired.next_elapse != waiting.next_elapse


@pytest.mark.usefixtures("at_manager")
def test_a_client_for_one_look_reads_no_stamps(lab: Lab) -> None:
    once = SystemdClient(user=True, remember=False)
    once.connect()
    try:
        name = timed(lab, "once", "ExecStart=/bin/sh -c 'exit 5'")
        lab.um.systemctl("start", name, check=False)
        for _ in range(2):
            run, calls = read(once, name)
            assert calls == 7 and run.exit_status == 5  # check --sweep looks once: no memory to validate
    finally:
        once.close()


def test_a_run_read_after_a_daemon_reload_is_the_same_run(client: SystemdClient, lab: Lab) -> None:
    # a daemon-reload zeroes each command's record (the ExecStart property) but keeps ExecMain*: the run stands
    name = timed(lab, "reloaded", "ExecStart=/bin/sh -c 'exit 7'")
    lab.um.systemctl("start", name, check=False)
    before, _ = read(client, name)
    assert before.exit_status == 7 and before.started_at is not None and before.exited_at is not None
    lab.um.systemctl("daemon-reload")
    client.forget()
    after, calls = read(client, name)
    assert calls == 8 and after == before


def test_a_never_fired_timer_is_active_since_its_state_change_across_a_daemon_reload(
    client: SystemdClient, lab: Lab
) -> None:
    t = lab.timer("idle", "OnCalendar=2099-01-01")
    units = client.list_units_by_names([t, t.removesuffix(".timer") + ".service"])
    first = client.read_timer(units[t], units)
    lab.um.systemctl("daemon-reload")
    client.forget()
    again = client.read_timer(units[t], units)
    entered = decode.realtime(client._get(units[t].path, client_module.UNIT, b"ActiveEnterTimestamp"))
    assert first.active_enter is not None and again.active_enter is not None and entered is not None
    assert abs((again.active_enter - entered).total_seconds()) < 0.01
    assert abs((again.active_enter - first.active_enter).total_seconds()) < 0.01
