"""The signal connection against a real private user manager: what systemd sends, decoded."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from supervisor.adapters.systemd.signals import SignalConnection, SignalEvent, UnitChanged, UnitsReshaped
from tests.harness.lab import Lab, wait_until
from tests.harness.user_manager import UserManager


@pytest.fixture
def signals(at_manager: UserManager) -> Iterator[SignalConnection]:
    conn = SignalConnection(user=True)
    conn.open()
    try:
        yield conn
    finally:
        conn.close()


def gather(conn: SignalConnection, settle_s: float = 0.5) -> list[SignalEvent]:
    time.sleep(settle_s)
    return conn.drain()


def test_a_daemon_reload_is_one_manager_reloaded_and_nothing_undecodable(
    signals: SignalConnection, manager: UserManager
) -> None:
    gather(signals)
    manager.systemctl("daemon-reload")
    events = gather(signals)
    whole = [e for e in events if isinstance(e, UnitsReshaped) and e.unit is None]
    assert whole == [UnitsReshaped("manager reloaded")]


def test_a_run_is_a_change_of_its_service(signals: SignalConnection, lab: Lab) -> None:
    name = lab.service("signalled", "Type=oneshot\nExecStart=/bin/true", start=False)
    gather(signals, 0.1)
    lab.um.systemctl("start", name)
    wait_until(lambda: UnitChanged(name) in signals.drain(), timeout=5, what="the run's signals")
