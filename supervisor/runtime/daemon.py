"""``missionctl run``: the event-driven supervisor loop.

Lifecycle: ``startup()`` -> ``tick()`` until stopped -> ``shutdown()``. A tick
waits until a systemd signal, the next budget deadline, the periodic resync or
the heartbeat interval, then observes (only what changed, unless a full resync is
due), decides in the pure core, persists, and only then acts. OS signals only set
flags and wake the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from supervisor.adapters import heartbeat, notify
from supervisor.adapters.history import History
from supervisor.adapters.lock import StateLock
from supervisor.adapters.outbox import Outbox
from supervisor.adapters.statefile import StateStore
from supervisor.adapters.systemd.connection import ConnectionLost, SystemdError
from supervisor.adapters.systemd.signals import SignalEvent
from supervisor.config.registry import Registry
from supervisor.core.alerts import unconfirmed
from supervisor.core.decide import Action, Decision, Escalate, Restart, decide, with_outputs
from supervisor.core.model import Trigger
from supervisor.core.pings import PingEvent
from supervisor.core.probes import ProbeResult, matters
from supervisor.core.runs import RunFinished, RunStats
from supervisor.core.state import State
from supervisor.core.wakeup import next_wakeup
from supervisor.notifiers.build import alert_policy
from supervisor.runtime import heap
from supervisor.runtime.alerting import AlertService
from supervisor.runtime.control import Control
from supervisor.runtime.focus import Focus
from supervisor.runtime.intake import Intake
from supervisor.runtime.link import SystemdLink
from supervisor.runtime.logging import log_transition
from supervisor.runtime.observe import Snapshot, observe_all, observe_items
from supervisor.runtime.outputs import read_outputs
from supervisor.runtime.ports import CommandPort, ReadPort, Server
from supervisor.runtime.prober import Prober
from supervisor.runtime.recorder import Recorder
from supervisor.runtime.reload import Reloader
from supervisor.runtime.selfping import SelfPinger, Verdict, start_self_ping, verdict
from supervisor.runtime.statewriter import StateWriter
from supervisor.runtime.view import View, build_view

log = structlog.get_logger("missionctl")

HEARTBEAT_EVERY_S = 30.0
COALESCE_S = 0.005  # a burst of signals (a run ending sends several) folded into one step
GIL_SWITCH_S = 0.001
PING_BATCH_S = 0.25  # pings arriving together are folded into one step, at most this late


class Daemon:
    """The long-running supervisor."""

    def __init__(
        self,
        registry_path: Path,
        registry: Registry,
        *,
        user: bool,
        address: str | None = None,
        env_file: Path | None = None,
        serve: Callable[[ReadPort, CommandPort], Server] | None = None,
    ) -> None:
        self.registry_path = registry_path
        self.registry = registry
        self.reloader = Reloader(registry_path, env_file)
        self.user = user
        state_dir = registry.state_dir
        self.store = StateStore(state_dir / "state.json")
        self.heartbeat_path = state_dir / "heartbeat"
        self.lock = StateLock(state_dir)
        self.alerts: AlertService | None = None
        self.recorder: Recorder = None  # type: ignore[assignment]  # opened in startup()
        self.view: View | None = None
        self.serve = serve  # builds the HTTP service over the two ports (given where the process is assembled)
        self.server: Server | None = None
        self.loop_lag_s = 0.0
        self.alerting = alert_policy(registry)
        self.windows = registry.windows()
        self._reload_channels = False
        self.link = SystemdLink(user, address, on_events=self._on_signals, on_lost=lambda: self._wake.set())
        self.worker = self.link.worker
        self.state = State()
        self.intake = Intake()
        self.pings_received: dict[str, int] = {}
        self._ping_wake: asyncio.TimerHandle | None = None
        self._backlog = False  # pings are left over from the last step
        self.prober = Prober(self._on_probe, eager=self._eager)
        self.self_ping: SelfPinger | None = None
        self.writer = StateWriter(self.store, lambda: self.state)
        self.stats: dict[str, RunStats] = {}
        self.snapshot: Snapshot | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.focus = Focus()  # what the next step reads and decides
        self._reload = False
        self._ready = False
        self._tasks: list[asyncio.Task[None]] = []
        self.control = Control(self)  # the command port

    # lifecycle -----------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (or ``stop()``); returns the exit code."""
        await self.startup()
        try:
            while not self._stop.is_set():
                await self.tick()
        finally:
            await self.shutdown()
        return 0

    async def startup(self) -> None:
        """Take the lock, load the state, hook OS signals."""
        # work done in threads (saving the state, the history) hands the GIL back to the event
        # loop every millisecond instead of every 5: HTTP requests are not held up behind it
        sys.setswitchinterval(GIL_SWITCH_S)
        self.lock.acquire()
        self.reloader.start(self.registry)
        self.state = self.writer.load()
        state_dir = self.registry.state_dir
        self.recorder = Recorder(state_dir / "history.sqlite3")
        self.stats = await self.recorder.stats()
        self.alerts = AlertService(state_dir / "outbox.sqlite3")
        self.alerts.start(self.registry)
        await self._start_server()
        self.prober.configure(self.registry.probe_specs())
        self._start_self_ping()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        interval = notify.watchdog_interval_s()
        if interval:
            self._tasks.append(asyncio.create_task(self._watchdog(interval)))
        self._tasks.append(asyncio.create_task(self._measure_lag()))
        heap.settle()  # before the first sweep
        log.info(
            "started",
            registry=str(self.registry_path),
            scope="user" if self.user else "system",
            state_dir=str(self.registry.state_dir),
        )

    def stop(self) -> None:
        """Ask the loop to finish (signal-safe)."""
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Ask the loop to re-read the registry (SIGHUP)."""
        self._reload = True
        self._wake.set()

    async def shutdown(self) -> None:
        """Bounded clean-up: stop watching, close connections, release the lock."""
        notify.stopping()
        for task in self._tasks:
            task.cancel()
        self.writer.cancel()
        if self._ping_wake is not None:
            self._ping_wake.cancel()
        if self.server is not None:
            await self.server.stop()  # no more pings come in ...
        await self.prober.close()
        if self.self_ping is not None:
            await self.self_ping.stop()
        # ... and those already answered 200 are folded in before the state is written, not dropped
        while self.snapshot is not None and self.intake.pending:
            await self._decide_and_act(self.snapshot)
        await self.writer.write()  # what a pending background save would have written
        if self.alerts is not None:
            await self.alerts.stop()
            self.alerts.close()
        self.link.close()
        if self.recorder is not None:
            self.recorder.close()
        self.lock.release()
        log.info("stopped")

    def request_refresh(self) -> None:
        """Decide again now, on the current observations (the HTTP layer's revalidation).

        Ages and budgets move with time; systemd's own state is kept fresh by signals
        and the periodic resync, so revalidating a view costs no D-Bus call.
        """
        self._wake.set()

    async def change_state(self, change: Callable[[State], State]) -> None:
        """Apply an operator's change (pause/resume), persist it, and decide again at once."""
        self.state = change(self.state)
        self.focus.changed = True
        await self.writer.persist(urgent=True)
        self._wake.set()

    # the loop ------------------------------------------------------------------

    async def tick(self) -> None:
        """Wait for a reason to look, then observe, decide, persist and act."""
        await self._sleep()
        if self._stop.is_set():
            return
        if self._reload:
            await self._reload_registry()
        if self._reload_channels and self.alerts is not None:
            self._reload_channels = False
            await self.alerts.restart(self.registry)
        if not self.link.connected:
            if not await self.link.connect():
                return
            self.focus.full = True
        try:
            await self._observe()
        except ConnectionLost as exc:
            self.link.lost(str(exc))
            return
        assert self.snapshot is not None
        await self._decide_and_act(self.snapshot)
        await self.recorder.maintain(self.registry, self.registry.state_dir)
        heartbeat.touch(self.heartbeat_path)

    async def _sleep(self) -> None:
        loop = asyncio.get_running_loop()
        if not self.link.connected and self.link.attempted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.link.backoff)
            return
        focus = self.focus
        if self._backlog and not (focus.full or self._reload):
            self._backlog = False
            self._wake.clear()
            await asyncio.sleep(0)  # the rest of a burst of pings: after the requests waiting, at once
            return
        if self._wake.is_set() or focus.full or self._reload:
            self._wake.clear()
            await asyncio.sleep(COALESCE_S)  # let a burst of signals arrive
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), focus.wait_s(datetime.now(UTC), loop.time(), HEARTBEAT_EVERY_S))
        self._wake.clear()
        focus.full_due(loop.time())

    async def _observe(self) -> None:
        loop = asyncio.get_running_loop()
        calls = self.worker.client.calls
        if self.focus.full or self.snapshot is None:
            registry, forget = self.registry, self.focus.take_forget()
            started = loop.time()
            self.focus.sweeping()
            self.snapshot = await self.worker.run(lambda c: observe_all(c, registry, forget=forget))
            if self.focus.swept(loop.time(), registry.resync_every, self.snapshot):
                self._wake.set()  # signals that came during the first sweep: read those items again
            log.debug("full_sweep", items=len(self.snapshot.policies), seconds=round(loop.time() - started, 3))
            heap.release()
        else:
            names = self.focus.to_read(datetime.now(UTC), loop.time())
            if not names:
                return
            snapshot, forget = self.snapshot, self.focus.take_forget()
            self.snapshot = await self.worker.run(lambda c: observe_items(c, snapshot, names, forget=forget))
        log.debug("observed", items=len(self.snapshot.observations), calls=self.worker.client.calls - calls)

    async def _decide_and_act(self, snapshot: Snapshot) -> None:
        now = datetime.now(UTC)
        probes, pings = self.intake.take()
        focus = self.focus
        only = focus.scope(probes.keys() | pings.keys(), now, self.view is not None)
        decision = decide(
            snapshot.policies,
            snapshot.observations,
            self.state,
            now,
            alerting=self.alerting,
            observed=focus.observed,
            stats=self.stats,
            probes=probes,
            pings=pings,
            only=only,
            carried=self.view.decision.assessments if self.view and only is not None else None,
            windows=self.windows,
        )
        redact = self.alerts.channels.redact if self.alerts and self.alerts.channels else None
        outputs = await read_outputs(decision.output, redact) if decision.output else {}
        decision = with_outputs(decision, outputs)
        for fact in decision.runs:
            if isinstance(fact, RunFinished):
                self.stats[fact.item] = self.stats.get(fact.item, RunStats()).add(fact.run)
        assert self.alerts is not None
        if decision.alerts:
            await self.alerts.queue(decision.alerts)  # in the outbox before the state that caused them
        if decision.state != self.state:
            self.state = decision.state
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
            await self._act(action)
        if decision.alerts:
            self.alerts.wake()
        await self.recorder.record(decision, outputs, self.prober.minutes())
        wakeup = next_wakeup(snapshot.policies, snapshot.observations, decision, now, self.alerting, only, self.windows)
        focus.decided(now, only, wakeup, unconfirmed(decision.state, only), asyncio.get_running_loop().time())
        self._publish(snapshot, decision, now)
        if self.intake.waiting:  # a burst larger than one step: the rest in the next ones
            self._backlog = True
        assert self.view is not None
        if not self._ready:
            self._ready = True
            heap.settle()  # and what the first step built
            notify.ready(self.view.summary)
            log.info("ready", items=len(decision.assessments), summary=self.view.summary)
        elif only is None:  # the status line is refreshed by whole steps (at least every second when busy)
            notify.status(self.view.summary)

    async def _act(self, action: Action) -> None:
        if isinstance(action, Escalate):
            log.error("escalated", item=action.item, reason=action.reason, at=action.at.isoformat())
            return
        unit, verb = action.unit, "restart" if isinstance(action, Restart) else "stop"
        log.warning(verb, unit=unit, item=action.item, attempt=action.attempt)
        try:
            if isinstance(action, Restart):
                await self.worker.run(lambda c: c.restart_unit(unit))
                self.prober.soon(action.item)  # see it come back as early as it can
            else:
                await self.worker.run(lambda c: c.stop_unit(unit))
        except ConnectionLost as exc:
            self.link.lost(str(exc))
        except SystemdError as exc:
            log.error(f"{verb}_failed", unit=unit, error=str(exc))

    # what the HTTP layer reads (the read port) ---------------------------------------

    @property
    def history(self) -> History:
        """The run, transition and audit history."""
        return self.recorder.history

    @property
    def outbox(self) -> Outbox | None:
        """The alert outbox (None before startup)."""
        return self.alerts.outbox if self.alerts is not None else None

    def _publish(self, snapshot: Snapshot, decision: Decision, now: datetime) -> None:
        seq = self.view.seq + 1 if self.view else 1
        self.view = build_view(seq, snapshot, decision, now, self.self_report)

    def self_report(self) -> dict[str, Any]:
        """The supervisor's own health (in /health and `missionctl status`)."""
        loop_time = asyncio.get_running_loop().time()
        counts = self.alerts.outbox.counts() if self.alerts is not None else {}
        return {
            "pid": os.getpid(),
            "loop_lag_s": round(self.loop_lag_s, 4),
            "last_full_sweep_age_s": round(loop_time - self.focus.full_at, 3) if self.focus.full_at else None,
            "dbus": "connected" if self.link.connected else "disconnected",
            "transport": self.worker.client.transport,
            "dbus_calls": self.worker.client.calls,
            "outbox_pending": counts.get("pending", 0),
            "outbox_dead": counts.get("dead", 0),
            "registry": self.reloader.report(),
            "pings_received": dict(self.pings_received),
            "probes": len(self.prober.latency),
            "self_ping": dict(self.self_ping.last) if self.self_ping else None,
        }

    def self_ping_verdict(self) -> Verdict:
        """What the outside dead-man's switch is told now (nothing while this supervisor is not healthy)."""
        spec = self.registry.self_ping
        fail_on_critical = spec is not None and spec.fail_on_critical
        return verdict(self.view, self.link.connected, fail_on_critical, self.alerting.host, datetime.now(UTC))

    def _start_self_ping(self) -> None:
        self.self_ping = start_self_ping(self.registry.self_ping, self.self_ping_verdict)

    async def _start_server(self) -> None:
        if not self.registry.server.enabled or self.serve is None:
            return
        self.server = self.serve(self, self.control)
        await self.server.start()

    async def _measure_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(1.0)
            self.loop_lag_s = max(0.0, loop.time() - before - 1.0)

    # probes and push heartbeats -----------------------------------------------------

    def _on_probe(self, result: ProbeResult) -> None:
        # a steady answer changes nothing: no decision step for it
        if matters(self.state.probes.get(result.item), result):
            self.intake.probe(result)
            self._wake.set()

    def _eager(self, name: str) -> bool:
        verdict = self.state.probes.get(name)
        return verdict is None or verdict.verdict is None or verdict.streak > 0

    def probe_report(self, name: str) -> dict[str, Any] | None:
        """A probe's target, settings and recent latencies (for ``/api/items/{name}``)."""
        policy = self.snapshot.policies.get(name) if self.snapshot else None
        return self.prober.report(name, policy.probe) if policy is not None and policy.probe is not None else None

    def probe_histograms(self) -> dict[str, tuple[list[int], float]]:
        """Each probe's response-time counts per bucket and their sum (for ``/metrics``)."""
        return self.prober.histograms()

    def ping(self, event: PingEvent) -> None:
        """An accepted push heartbeat (from the HTTP layer): folded in at the next step."""
        redact = self.alerts.channels.redact if self.alerts and self.alerts.channels else None
        if redact is not None and event.body:
            event = replace(event, body=redact(event.body))  # secrets never reach the history or an alert
        self.pings_received[event.kind.value] = self.pings_received.get(event.kind.value, 0) + 1
        self.intake.ping(event)
        if self._ping_wake is None:  # a burst of pings is folded in one step, not one step each
            self._ping_wake = asyncio.get_running_loop().call_later(PING_BATCH_S, self._wake_for_pings)

    def _wake_for_pings(self) -> None:
        self._ping_wake = None
        self._wake.set()

    # signals from systemd ------------------------------------------------------------

    def _on_signals(self, events: list[SignalEvent]) -> None:
        loop_time = asyncio.get_running_loop().time()
        if self.focus.on_signals(events, self.snapshot, self.registry, loop_time):
            self._wake.set()

    # registry reload and watchdog --------------------------------------------------

    async def _reload_registry(self) -> None:
        self._reload = False
        self._reload_channels = True  # secrets may have changed even when the registry did not
        self.reloader.reload_secrets()
        registry = await self.reloader.reload(self.registry)
        if registry is not None:
            self.registry, self.focus.full, self.focus.next_full_at = registry, True, 0.0
            self.alerting = alert_policy(registry)
            self.windows = registry.windows()
            self.prober.configure(registry.probe_specs())
        if self.self_ping is not None:  # its URL may have changed with the secrets, its settings with the registry
            await self.self_ping.stop()
            self.self_ping = None
        self._start_self_ping()
        if self.server is not None:
            self.server.refresh(self.registry)  # the API token, from the environment just re-read

    async def _watchdog(self, interval: float) -> None:
        while True:
            notify.watchdog()
            await asyncio.sleep(interval)
