"""The daemon's link to systemd: calls on the worker thread, signals on the event loop.

Connecting opens both connections; a signal connection whose peer goes away
(daemon-reexec, bus restart) reports the loss, and the next ``connect()`` waits
out a backoff (0.2 s doubling to 30 s). What the signals mean is the daemon's
business: the link hands them over as decoded events.

The call connection hears the manager's signals too (it sends them to every
connection on its private socket): when its socket is readable the link has the
worker throw them away, and watches it again once that is done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import ConnectionLost, SystemdError
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
        self._calls_fd: int | None = None
        self._discard: asyncio.Task[None] | None = None

    @property
    def client(self) -> SystemdClient:
        """The call connection (used only on the worker thread)."""
        return self.worker.client

    async def connect(self) -> bool:
        """Open both connections and start listening; False (and a longer backoff) on failure."""
        self.attempted = True
        try:
            calls_fd = await self.worker.run(_open)
            fd = await self.worker.run(lambda c: self.signals.open())
        except SystemdError as exc:
            log.error("systemd_unreachable", error=str(exc), retry_in_s=round(self.backoff, 2))
            self.signals.close()
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)
            return False
        loop = asyncio.get_running_loop()
        loop.add_reader(fd, self._readable)
        self._fd = fd
        loop.add_reader(calls_fd, self._calls_readable)
        self._calls_fd = calls_fd
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

    def _calls_readable(self) -> None:
        # not watched until the worker has read the socket: it stays readable until then
        fd = self._calls_fd
        if fd is None:
            return
        asyncio.get_running_loop().remove_reader(fd)
        self._discard = asyncio.get_running_loop().create_task(self._discard_signals(fd))

    async def _discard_signals(self, fd: int) -> None:
        try:
            await self.worker.run(lambda c: c.discard_signals())
        except SystemdError:
            return  # the peer is gone: the next call (or the signal connection) reports it
        if self._calls_fd == fd and self.connected:
            asyncio.get_running_loop().add_reader(fd, self._calls_readable)

    def _stop_listening(self) -> None:
        for fd in (self._fd, self._calls_fd):
            if fd is not None:
                with contextlib.suppress(Exception):
                    asyncio.get_running_loop().remove_reader(fd)
        self._fd = self._calls_fd = None
        if self._discard is not None:
            self._discard.cancel()  # the worker may be shut down next: never hand it more
            self._discard = None
        self.signals.close()


def _open(client: SystemdClient) -> int:
    client.connect()
    return client.fd()
