"""Real loopback peers for probes: an HTTP server whose answer a test changes, and a TCP listener."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


class Target:
    """An HTTP server on loopback answering ``mode``: ``ok`` (200), ``error`` (500), ``slow`` (200 late)."""

    def __init__(self, slow_s: float = 1.5) -> None:
        self.mode = "ok"
        self.slow_s = slow_s
        self.hits = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Target:
        self._thread.start()
        self.up()
        return self

    def up(self) -> None:
        asyncio.run_coroutine_threadsafe(self._up(), self._loop).result(10)

    def down(self) -> None:
        """Stop listening: connections are refused."""
        asyncio.run_coroutine_threadsafe(self._down(), self._loop).result(10)

    def stop(self) -> None:
        self.down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
        return web.Response(status=500 if self.mode == "error" else 200, text=self.mode)

    async def _up(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


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
