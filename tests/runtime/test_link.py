"""The daemon's link to a real private user manager: the call connection is kept clear while idle."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from supervisor.adapters.systemd.signals import SignalEvent
from supervisor.runtime.link import SystemdLink
from tests.harness.lab import Lab


@pytest.mark.usefixtures("at_manager")
async def test_signals_sent_to_the_idle_call_connection_are_thrown_away(lab: Lab) -> None:
    heard: list[SignalEvent] = []
    link = SystemdLink(user=True, address=None, on_events=heard.extend, on_lost=lambda: None)
    assert await link.connect()
    try:
        names = [lab.service(f"idle{i}", "Type=oneshot\nExecStart=/bin/true", start=False) for i in range(5)]
        calls = link.client.calls
        await asyncio.to_thread(lab.um.systemctl, "start", *names)
        for _ in range(100):
            if link.client.discarded:
                break
            await asyncio.sleep(0.05)
        assert link.client.discarded > 0  # read off the call connection's socket ...
        assert link.client.calls == calls  # ... without a call to bring them in
        assert heard  # the signal connection heard them too
    finally:
        link.close()


@pytest.mark.usefixtures("at_manager")
async def test_closing_while_a_discard_waits_leaves_nothing_behind(caplog: pytest.LogCaptureFixture) -> None:
    link = SystemdLink(user=True, address=None, on_events=lambda _e: None, on_lost=lambda: None)
    assert await link.connect()
    link._calls_readable()  # the socket turned readable just before the daemon stopped
    link.close()
    await asyncio.sleep(0.05)
    del link
    gc.collect()  # an unretrieved task error would be logged here (in a test run: inside whatever runs then)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
