"""A real HTTP server on loopback that stands in for Discord and webhook endpoints.

It runs in its own thread and event loop, records every request, answers from a
script of responses (then 204), and can be taken down and brought back on the
same port to simulate an unreachable channel.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    query: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class LoopServer:
    """An aiohttp app on a loopback port, in its own thread and event loop; ``down()``/``up()`` keep the port."""

    shutdown_timeout = 60.0  # aiohttp's default: requests in flight may finish when it goes down

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def routes(self, app: web.Application) -> None:
        """Add the server's routes."""
        raise NotImplementedError

    def start(self) -> Self:
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
        # closed connections close their sockets on a later turn of the loop: let those turns run, or a
        # transport is left for the garbage collector to warn about during some later test
        self._loop.run_until_complete(asyncio.sleep(0.05))
        self._loop.close()

    async def _up(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _down(self) -> None:
        if self._runner is not None:
            server = self._runner.server
            await self._runner.cleanup()
            self._runner = None
            # a connection accepted just as the site stopped registers after the server closed the others
            await asyncio.sleep(0.01)
            for conn in server.connections if server is not None else []:
                conn.force_close()


class Receiver(LoopServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.script: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def routes(self, app: web.Application) -> None:
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        app.router.add_route("GET", "/{tail:.*}", self._handle)  # push monitors' URLs (Uptime Kuma) are GETs

    def respond(self, *answers: tuple[int, str] | int) -> None:
        with self._lock:
            self.script.extend(a if isinstance(a, tuple) else (a, "") for a in answers)

    def bodies(self, path: str | None = None) -> list[Any]:
        with self._lock:
            return [r.json for r in self.received if path is None or r.path == path]

    def wait_for(self, count: int, timeout: float = 20.0, path: str | None = None) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = [r for r in self.received if path is None or r.path == path]
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"receiver got {len(got)} requests, wanted {count}")

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            self.received.append(
                Received(request.path, dict(request.headers), body, time.time(), dict(request.query), request.method)
            )
            status, text = self.script.pop(0) if self.script else (204, "")
        return web.Response(status=status, text=text or None, content_type="application/json" if text else None)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A started receiver, always stopped."""
    receiver = Receiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
