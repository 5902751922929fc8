"""The daemon's hands, against a real private user manager: restart and stop jobs, escalations, failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from supervisor.core.decide import Escalate, Restart, Stop
from supervisor.runtime.acting import Acting
from supervisor.runtime.link import SystemdLink
from supervisor.runtime.prober import Prober
from tests.harness.lab import Lab, wait_until

pytestmark = pytest.mark.usefixtures("at_manager")


def _show(lab: Lab, unit: str, prop: str) -> str:
    return lab.um.systemctl("show", "-P", prop, unit).stdout.strip()


async def _acting(lost: list[str]) -> Acting:
    link = SystemdLink(user=True, address=None, on_events=lambda _e: None, on_lost=lambda: lost.append("lost"))
    assert await link.connect()
    return Acting(link, Prober(lambda _r: None))


async def test_a_restart_starts_a_new_run_of_the_unit_and_a_stop_ends_it(lab: Lab) -> None:
    unit = lab.service("hands", "ExecStart=/bin/sleep 600")
    before = _show(lab, unit, "InvocationID")
    acting = await _acting([])
    try:
        with capture_logs() as logs:
            await acting.act(Restart("hands", unit, attempt=1))
        wait_until(lambda: _show(lab, unit, "InvocationID") not in ("", before), what="a new run")
        assert _show(lab, unit, "ActiveState") == "active"
        assert [(e["event"], e["unit"], e["attempt"]) for e in logs] == [("restart", unit, 1)]
        await acting.act(Stop("hands", unit, attempt=2))
        wait_until(lambda: _show(lab, unit, "ActiveState") == "inactive", what="the run stopped")
    finally:
        acting.link.close()


async def test_a_job_systemd_refuses_is_logged_and_the_next_action_still_runs(lab: Lab) -> None:
    unit = lab.service("after", "ExecStart=/bin/sleep 600", start=False)
    acting = await _acting(lost := [])
    try:
        with capture_logs() as logs:
            await acting.act(Restart("ghost", "mc-no-such-unit-9f2.service", attempt=1))
            await acting.act(Restart("after", unit, attempt=1))
        failed = [e for e in logs if e["event"] == "restart_failed"]
        assert len(failed) == 1 and failed[0]["unit"] == "mc-no-such-unit-9f2.service" and failed[0]["error"]
        wait_until(lambda: _show(lab, unit, "ActiveState") == "active", what="the second restart")
        assert lost == []  # a refusal is not a lost connection
    finally:
        acting.link.close()


async def test_an_escalation_is_logged_without_a_call_to_systemd() -> None:
    acting = await _acting([])
    try:
        calls = acting.link.client.calls
        at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        with capture_logs() as logs:
            await acting.act(Escalate("nightly", "3 restarts in 1h did not bring it back", at))
        assert acting.link.client.calls == calls
        assert [(e["event"], e["item"], e["log_level"]) for e in logs] == [("escalated", "nightly", "error")]
    finally:
        acting.link.close()


async def test_a_lost_connection_is_handed_to_the_link(lab: Lab) -> None:
    unit = lab.service("orphan", "ExecStart=/bin/sleep 600", start=False)
    acting = await _acting(lost := [])
    await asyncio.to_thread(acting.link.client.close)  # the manager went away under the call connection
    try:
        await acting.act(Restart("orphan", unit, attempt=1))
        assert lost == ["lost"] and not acting.link.connected
        assert _show(lab, unit, "ActiveState") == "inactive"
    finally:
        acting.link.close()
