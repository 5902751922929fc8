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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from supervisor.adapters import heartbeat, notify
from supervisor.adapters.lock import StateLock
from supervisor.adapters.statefile import StateStore
from supervisor.adapters.systemd.connection import ConnectionLost
from supervisor.adapters.systemd.signals import SignalEvent
from supervisor.config.registry import Registry
from supervisor.core.state import State
from supervisor.runtime import heap
from supervisor.runtime.acting import Acting
from supervisor.runtime.alerting import AlertService
from supervisor.runtime.control import Control
from supervisor.runtime.focus import Focus
from supervisor.runtime.held import Held
from supervisor.runtime.intake import Inbox
from supervisor.runtime.link import SystemdLink
from supervisor.runtime.look import Look
from supervisor.runtime.ports import CommandPort, ReadPort, Server
from supervisor.runtime.prober import Prober
from supervisor.runtime.published import Published
from supervisor.runtime.recorder import Recorder
from supervisor.runtime.reload import Reloader
from supervisor.runtime.selfping import SelfPinger, Verdict, start_self_ping, verdict
from supervisor.runtime.statewriter import StateWriter
from supervisor.runtime.step import Step

log = structlog.get_logger("missionctl")

HEARTBEAT_EVERY_S = 30.0
COALESCE_S = 0.005  # a burst of signals (a run ending sends several) folded into one step
GIL_SWITCH_S = 0.001


class Daemon:
    """The long-running supervisor: assembles its parts, runs the loop, and starts and stops them.

    Its parts (``runtime/``): the link to systemd (``link``), what is held between steps
    (``held``), which items to look at and when (``focus``), the look itself (``look``),
    where probes and pings arrive (``intake.Inbox``), the decision step (``step``), its
    hands (``acting``), the read and command ports the HTTP layer is given (``published``,
    ``control``), and the registry's reloads (``reload.Reloader``). Each is handed what it
    uses, never the daemon.
    """

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
        self.user = user
        self.held = Held(registry)
        self.reloader = Reloader(registry_path, env_file)
        state_dir = registry.state_dir
        self.lock = StateLock(state_dir)
        self.writer = StateWriter(StateStore(state_dir / "state.json"), lambda: self.held.state)
        self.heartbeat_path = state_dir / "heartbeat"
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._reload = False
        self._reload_channels = False
        self._ready = False
        self._backlog = False  # pings are left over from the last step
        self._tasks: list[asyncio.Task[None]] = []
        self.loop_lag_s = 0.0
        wake = self._wake.set
        self.focus = Focus()  # what the next look reads and the next step decides
        self.link = SystemdLink(user, address, on_events=self._on_signals, on_lost=wake)
        self.worker = self.link.worker
        self.look = Look(self.held, self.focus, self.worker, wake)
        self.inbox = Inbox(lambda: self.held.state, wake, self._redact)
        self.prober = Prober(self.inbox.probe, eager=self.inbox.eager)
        self.acting = Acting(self.link, self.prober)
        self.self_ping: SelfPinger | None = None
        self.serve = serve  # builds the HTTP service over the two ports (given where the process is assembled)
        self.server: Server | None = None
        # opened in startup(), once the state directory is ours (the lock)
        self.alerts: AlertService | None = None
        self.recorder: Recorder | None = None
        self.step: Step | None = None
        self.published: Published | None = None  # the read port
        self.control: Control | None = None  # the command port

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
        """Take the lock, load the state, open the stores, start the parts, hook OS signals."""
        # work done in threads (saving the state, the history) hands the GIL back to the event
        # loop every millisecond instead of every 5: HTTP requests are not held up behind it
        sys.setswitchinterval(GIL_SWITCH_S)
        self.lock.acquire()
        held = self.held
        self.reloader.start(held.registry)
        held.state = self.writer.load()
        state_dir = held.registry.state_dir
        self.recorder = Recorder(state_dir / "history.sqlite3")
        held.stats = await self.recorder.stats()
        alerts = self.alerts = AlertService(state_dir / "outbox.sqlite3")
        alerts.start(held.registry)
        self.step = Step(
            held, self.focus, self.inbox, self.writer, alerts, self.recorder, self.prober, self.acting, self.self_report
        )
        history = self.recorder.history
        self.published = Published(held, history, alerts.outbox, self.prober, self._wake.set, self.self_report)
        self.control = Control(held, history, self.worker, self.prober, self.inbox, self.change_state)
        await self._start_server(self.published, self.control)
        self.prober.configure(held.registry.probe_specs())
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
            state_dir=str(state_dir),
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
        self.inbox.close()
        if self.server is not None:
            await self.server.stop()  # no more pings come in ...
        await self.prober.close()
        if self.self_ping is not None:
            await self.self_ping.stop()
        # ... and those already answered 200 are folded in before the state is written, not dropped
        while self.held.snapshot is not None and self.step is not None and self.inbox.intake.pending:
            await self.step(self.held.snapshot)
        await self.writer.write()  # what a pending background save would have written
        if self.alerts is not None:
            await self.alerts.stop()
            self.alerts.close()
        self.link.close()
        if self.recorder is not None:
            self.recorder.close()
        self.lock.release()
        log.info("stopped")

    async def change_state(self, change: Callable[[State], State]) -> None:
        """Apply an operator's change (pause/resume, silences), persist it, and decide again at once."""
        self.held.state = change(self.held.state)
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
        assert self.step is not None and self.alerts is not None and self.recorder is not None, "started"
        if self._reload_channels:
            self._reload_channels = False
            await self.alerts.restart(self.held.registry)
        if not self.link.connected:
            if not await self.link.connect():
                return
            self.focus.full = True
        try:
            await self.look()
        except ConnectionLost as exc:
            self.link.lost(str(exc))
            return
        assert self.held.snapshot is not None
        whole = await self.step(self.held.snapshot)
        self._stepped(whole)
        await self.recorder.maintain(self.held.registry, self.held.registry.state_dir)
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

    def _stepped(self, whole: bool) -> None:
        """After a step: the rest of a burst of pings, readiness, the status line."""
        if self.inbox.intake.waiting:  # a burst larger than one step: the rest in the next ones
            self._backlog = True
        view = self.held.view
        assert view is not None
        if not self._ready:
            self._ready = True
            heap.settle()  # and what the first step built
            notify.ready(view.summary)
            log.info("ready", items=len(view.decision.assessments), summary=view.summary)
        elif whole:  # the status line is refreshed by whole steps (at least every second when busy)
            notify.status(view.summary)

    # the supervisor itself -----------------------------------------------------------

    def _redact(self) -> Callable[[str], str] | None:
        return self.alerts.redact if self.alerts is not None else None

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
            "pings_received": dict(self.inbox.pings_received),
            "probes": len(self.prober.latency),
            "self_ping": dict(self.self_ping.last) if self.self_ping else None,
        }

    def self_ping_verdict(self) -> Verdict:
        """What the outside dead-man's switch is told now (nothing while this supervisor is not healthy)."""
        held = self.held
        spec = held.registry.self_ping
        fail_on_critical = spec is not None and spec.fail_on_critical
        return verdict(held.view, self.link.connected, fail_on_critical, held.alerting.host, datetime.now(UTC))

    def _start_self_ping(self) -> None:
        self.self_ping = start_self_ping(self.held.registry.self_ping, self.self_ping_verdict)

    async def _start_server(self, read: ReadPort, command: CommandPort) -> None:
        if not self.held.registry.server.enabled or self.serve is None:
            return
        self.server = self.serve(read, command)
        await self.server.start()

    async def _measure_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(1.0)
            self.loop_lag_s = max(0.0, loop.time() - before - 1.0)

    # signals from systemd ------------------------------------------------------------

    def _on_signals(self, events: list[SignalEvent]) -> None:
        loop_time = asyncio.get_running_loop().time()
        if self.focus.on_signals(events, self.held.snapshot, self.held.registry, loop_time):
            self._wake.set()

    # registry reload and watchdog --------------------------------------------------

    async def _reload_registry(self) -> None:
        self._reload = False
        self._reload_channels = True  # secrets may have changed even when the registry did not
        self.reloader.reload_secrets()
        registry = await self.reloader.reload(self.held.registry)
        if registry is not None:
            self.held.adopt(registry)
            self.focus.full, self.focus.next_full_at = True, 0.0
            self.prober.configure(registry.probe_specs())
        if self.self_ping is not None:  # its URL may have changed with the secrets, its settings with the registry
            await self.self_ping.stop()
            self.self_ping = None
        self._start_self_ping()
        if self.server is not None:
            self.server.refresh(self.held.registry)  # the API token, from the environment just re-read

    async def _watchdog(self, interval: float) -> None:
        while True:
            notify.watchdog()
            await asyncio.sleep(interval)
