"""The daemon's link to systemd: calls on the worker thread, signals on the event loop.

Connecting opens both connections; a signal connection whose peer goes away
(daemon-reexec, bus restart) reports the loss, and the next ``connect()`` waits
out a backoff (0.2 s doubling to 30 s). What the signals mean is the daemon's
business: the link hands them over as decoded events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from supervisor.adapters.systemd.client import ConnectionLost, SystemdClient, SystemdError
from supervisor.adapters.systemd.signals import SignalConnection, SignalEvent
from supervisor.adapters.systemd.worker import SystemdWorker

log = structlog.get_logger("missionctl")

BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 30.0


class SystemdLink:
    """Both connections to the manager, and their state."""

    def __init__(
        self,
        user: bool,
        address: str | None,
        on_events: Callable[[list[SignalEvent]], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.worker = SystemdWorker(SystemdClient(user=user, address=address))
        self.signals = SignalConnection(user=user, address=address)
        self.connected = False
        self.attempted = False
        self.backoff = BACKOFF_START_S
        self._on_events = on_events
        self._on_lost = on_lost
        self._fd: int | None = None

    @property
    def client(self) -> SystemdClient:
        """The call connection (used only on the worker thread)."""
        return self.worker.client

    async def connect(self) -> bool:
        """Open both connections and start listening; False (and a longer backoff) on failure."""
        self.attempted = True
        try:
            await self.worker.run(lambda c: c.connect())
            fd = await self.worker.run(lambda c: self.signals.open())
        except SystemdError as exc:
            log.error("systemd_unreachable", error=str(exc), retry_in_s=round(self.backoff, 2))
            self.signals.close()
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)
            return False
        asyncio.get_running_loop().add_reader(fd, self._readable)
        self._fd = fd
        self.connected, self.backoff = True, BACKOFF_START_S
        log.info("systemd_connected", transport=self.client.transport)
        return True

    def lost(self, why: str) -> None:
        """The manager went away: stop listening, report it once."""
        if self.connected:
            log.warning("systemd_connection_lost", error=why)
        self._stop_listening()
        self.connected = False
        self._on_lost()

    def close(self) -> None:
        """Stop listening and close both connections (end of the daemon)."""
        self._stop_listening()
        self.worker.shutdown()

    def _readable(self) -> None:
        try:
            events = self.signals.drain()
        except ConnectionLost as exc:
            self.lost(str(exc))
            return
        if events:
            self._on_events(events)

    def _stop_listening(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None
        self.signals.close()
