"""One decision step with its real parts: a real manager, the state file, the outbox, the history, a receiver.

What a step leaves must be on disk before it acts: the `down` alert in the outbox,
then the state that says so, and only then the restart of the unit (``step`` module).
The hands here are the real ``Acting``; the test looks at the files at the moment
each action is handed to them, then lets them act.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from supervisor.adapters.statefile import StateStore
from supervisor.config.loader import parse_registry
from supervisor.core.decide import Action
from supervisor.core.model import Status
from supervisor.runtime.acting import Acting
from supervisor.runtime.alerting import AlertService
from supervisor.runtime.focus import Focus
from supervisor.runtime.held import Held
from supervisor.runtime.intake import Inbox
from supervisor.runtime.link import SystemdLink
from supervisor.runtime.observe import observe_all
from supervisor.runtime.prober import Prober
from supervisor.runtime.recorder import Recorder
from supervisor.runtime.statewriter import StateWriter
from supervisor.runtime.step import Step
from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver

pytestmark = pytest.mark.usefixtures("at_manager")


@dataclass
class OnDisk:
    """What the state file and the outbox held when an action was handed over."""

    action: Action
    state: dict[str, Any]
    outbox: list[tuple[str, str]]  # (event, item)


class Watched(Acting):
    """The real hands, noting what is on disk before each action."""

    def __init__(self, link: SystemdLink, prober: Prober, state_dir: Path) -> None:
        super().__init__(link, prober)
        self.state_dir = state_dir
        self.seen: list[OnDisk] = []

    async def act(self, action: Action) -> None:
        path = self.state_dir / "state.json"
        state = json.loads(path.read_text()) if path.exists() else {}
        with sqlite3.connect(self.state_dir / "outbox.sqlite3") as db:
            rows = db.execute("SELECT event, item FROM outbox ORDER BY seq").fetchall()
        self.seen.append(OnDisk(action, state, rows))
        await super().act(action)


@dataclass
class Parts:
    held: Held
    step: Step
    acting: Watched
    alerts: AlertService
    recorder: Recorder

    async def look_and_step(self) -> bool:
        registry = self.held.registry
        self.held.snapshot = await self.acting.link.worker.run(lambda c: observe_all(c, registry))
        return await self.step(self.held.snapshot)


@pytest.fixture
async def parts(lab: Lab) -> AsyncIterator[Callable[[str], Any]]:
    made: list[Parts] = []

    async def build(registry_text: str) -> Parts:
        path = lab.registry
        path.write_text(registry_text)
        registry = parse_registry(registry_text, str(path))
        state_dir = registry.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        held = Held(registry)
        link = SystemdLink(user=True, address=None, on_events=lambda _e: None, on_lost=lambda: None)
        assert await link.connect()
        inbox = Inbox(lambda: held.state, lambda: None, lambda: None)
        prober = Prober(inbox.probe, eager=inbox.eager)
        writer = StateWriter(StateStore(state_dir / "state.json"), lambda: held.state)
        held.state = writer.load()
        alerts = AlertService(state_dir / "outbox.sqlite3")
        alerts.start(registry)
        recorder = Recorder(state_dir / "history.sqlite3")
        acting = Watched(link, prober, state_dir)
        step = Step(held, Focus(), inbox, writer, alerts, recorder, prober, acting, lambda: {})
        made.append(Parts(held, step, acting, alerts, recorder))
        return made[-1]

    yield build
    for p in made:
        await p.alerts.stop()
        p.alerts.close()
        p.recorder.close()
        p.acting.link.close()


def _show(lab: Lab, unit: str, prop: str) -> str:
    return lab.um.systemctl("show", "-P", prop, unit).stdout.strip()


async def test_the_alert_then_the_state_are_on_disk_before_the_unit_is_restarted(
    lab: Lab, parts: Callable[[str], Any], receiver: Receiver
) -> None:
    unit = lab.service("crashed", "ExecStart=/bin/sh -c 'sleep 0.2; exit 3'")
    wait_until(lambda: _show(lab, unit, "ActiveState") == "failed", what="the unit failed")
    p: Parts = await parts(
        f"scope: user\nstate_dir: {lab.state_dir}\ndiscover: false\nserver: {{enabled: false}}\n"
        f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
        f"units:\n  {unit}: {{restart: {{max: 3, per: 1h, backoff: 0.2s, after: 0s}}}}\n"
    )
    before = _show(lab, unit, "InvocationID")
    for _ in range(50):
        whole = await p.look_and_step()
        if p.acting.seen:
            break
        await asyncio.sleep(0.1)
    assert whole  # no signal or ping narrowed these steps: each decided every item
    assert p.acting.seen, "no restart was decided"
    first = p.acting.seen[0]
    assert (type(first.action).__name__, first.action.unit) == ("Restart", unit)
    assert ("down", unit) in first.outbox  # the alert was queued first ...
    # ... then the state that decided the restart was saved, its budget spent included
    assert first.state.get("items", {}).get(unit, {}).get("status") == Status.DOWN.value, first.state
    assert len(first.state["restarts"][unit]) == 1, first.state
    wait_until(lambda: _show(lab, unit, "InvocationID") not in ("", before), what="the restart's new run")
    seq = p.held.view.seq if p.held.view else 0
    await p.look_and_step()  # the restarted unit fails again (or is about to): still down
    view = p.held.view
    assert view is not None and view.seq == seq + 1  # each step publishes its view
    assert view.decision.assessments[unit].status is Status.DOWN
    assert view.decision.alerts == []  # one alert for the outage, not one per step
    for _ in range(100):  # delivered from this event loop: wait without blocking it
        if receiver.bodies():
            break
        await asyncio.sleep(0.1)
    assert [b["event"] for b in receiver.bodies()][:1] == ["down"]
