"""Real loopback peers for probes: an HTTP server whose answer a test changes, and a TCP listener."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.harness.receiver import LoopServer


class Target(LoopServer):
    """An HTTP server on loopback answering ``mode``: ``ok`` (200), ``error`` (500), ``slow`` (200 late)."""

    shutdown_timeout = 0.1  # a slow answer in flight does not hold up down()

    def __init__(self, slow_s: float = 1.5) -> None:
        super().__init__()
        self.mode = "ok"
        self.slow_s = slow_s
        self.hits = 0

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
        return web.Response(status=500 if self.mode == "error" else 200, text=self.mode)


class Listener:
    """A TCP port that is open (accepting, then closing each connection) or closed."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def open(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)  # the kernel completes handshakes; nobody needs to accept for a connect probe
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@contextmanager
def serving(slow_s: float = 1.5) -> Iterator[Target]:
    target = Target(slow_s).start()
    try:
        yield target
    finally:
        target.stop()
