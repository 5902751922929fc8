"""The systemd client against a real private user manager: its connection is recycled to bound its memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from supervisor.adapters.systemd import client as client_module
from supervisor.adapters.systemd.client import SystemdClient
from tests.harness.user_manager import UserManager


@pytest.fixture
def client(manager: UserManager, monkeypatch: pytest.MonkeyPatch) -> Iterator[SystemdClient]:
    for key in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "HOME"):
        monkeypatch.setenv(key, manager.env[key])
    c = SystemdClient(user=True)
    c.connect()
    try:
        yield c
    finally:
        c.close()


def test_the_call_connection_is_reopened_every_so_many_calls(
    client: SystemdClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sd-bus, through pystemd, keeps about 8 KB per call until the connection closes (the bench
    # measures the daemon's RSS); reopening it is what gives that memory back
    monkeypatch.setattr(client_module, "RECYCLE_AFTER_CALLS", 50)
    calls_before, connects_before = client.calls, client.connects
    units = list(client.list_units().items())[:20]
    for _ in range(10):
        for name, unit in units:
            client.summary(name, unit.path)  # three Gets each
    calls = client.calls - calls_before
    assert calls == 1 + 10 * len(units) * 3
    assert client.connects - connects_before == (calls_before % 50 + calls) // 50  # one per 50 calls, unseen
    assert client.transport.startswith("private:") and os.path.exists(client.transport.removeprefix("private:"))
