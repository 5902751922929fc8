"""One decision step: decide in the pure core, persist, then act, record and publish.

The order is the point: alerts are in the outbox before the state that caused them is
saved, and the state is saved before any unit is restarted or stopped (a crash in
between repeats an alert, never loses one, and never restarts twice for one budget
slot). What the step decides on is the last look (``Held.snapshot``) and what arrived
meanwhile (``Inbox``); what it leaves is the new state, the published view, and when
the loop should look next (``Focus``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from supervisor.core.alerts import unconfirmed
from supervisor.core.decide import decide, with_outputs
from supervisor.core.model import Trigger
from supervisor.core.runs import RunFinished, RunStats
from supervisor.core.wakeup import next_wakeup
from supervisor.runtime.acting import Acting
from supervisor.runtime.alerting import AlertService
from supervisor.runtime.focus import Focus
from supervisor.runtime.held import Held
from supervisor.runtime.intake import Inbox
from supervisor.runtime.logging import log_transition
from supervisor.runtime.observe import Snapshot
from supervisor.runtime.outputs import read_outputs
from supervisor.runtime.prober import Prober
from supervisor.runtime.recorder import Recorder
from supervisor.runtime.statewriter import StateWriter
from supervisor.runtime.view import build_view


class Step:
    """Decides, persists, acts, records and publishes, each time it is called."""

    def __init__(
        self,
        held: Held,
        focus: Focus,
        inbox: Inbox,
        writer: StateWriter,
        alerts: AlertService,
        recorder: Recorder,
        prober: Prober,
        acting: Acting,
        report: Callable[[], dict[str, Any]],
    ) -> None:
        self.held = held
        self.focus = focus
        self.inbox = inbox
        self.writer = writer
        self.alerts = alerts
        self.recorder = recorder
        self.prober = prober
        self.acting = acting
        self.report = report  # the supervisor's own health, read when a view is shown

    async def __call__(self, snapshot: Snapshot) -> bool:
        """One step on ``snapshot`` and what the inbox holds (its view published); whether it decided every item."""
        held, focus = self.held, self.focus
        now = datetime.now(UTC)
        probes, pings = self.inbox.intake.take()
        only = focus.scope(probes.keys() | pings.keys(), now, held.view is not None)
        decision = decide(
            snapshot.policies,
            snapshot.observations,
            held.state,
            now,
            alerting=held.alerting,
            observed=focus.observed,
            stats=held.stats,
            probes=probes,
            pings=pings,
            only=only,
            carried=held.view.decision.assessments if held.view and only is not None else None,
            windows=held.windows,
        )
        outputs = await read_outputs(decision.output, self.alerts.redact) if decision.output else {}
        decision = with_outputs(decision, outputs)
        for fact in decision.runs:
            if isinstance(fact, RunFinished):
                held.stats[fact.item] = held.stats.get(fact.item, RunStats()).add(fact.run)
        if decision.alerts:
            await self.alerts.queue(decision.alerts)  # in the outbox before the state that caused them
        if decision.state != held.state:
            held.state = decision.state
            # persist before acting (or alerting, or forgetting a finished run systemd may lose at a reboot);
            # a change that only follows a run in progress is saved shortly after, off the path to the next look
            # (a push heartbeat's run is in the history at once: its state can follow shortly)
            urgent = bool(decision.actions or decision.alerts) or any(
                isinstance(f, RunFinished) and f.run.trigger is not Trigger.PING for f in decision.runs
            )
            await self.writer.persist(urgent)
        for transition in decision.transitions:
            log_transition(transition)
        for action in decision.actions:
            await self.acting.act(action)
        if decision.alerts:
            self.alerts.wake()
        await self.recorder.record(decision, outputs, self.prober.minutes())
        wakeup = next_wakeup(snapshot.policies, snapshot.observations, decision, now, held.alerting, only, held.windows)
        focus.decided(now, only, wakeup, unconfirmed(decision.state, only), asyncio.get_running_loop().time())
        seq = held.view.seq + 1 if held.view else 1
        held.view = build_view(seq, snapshot, decision, now, self.report)
        return only is None
