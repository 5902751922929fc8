"""A real supervisor, in this process, on the shared private systemd --user manager.

The API is exercised with aiohttp's test client over ``create_app(daemon.published, daemon.control)``:
the daemon itself observes, decides and restarts against the real manager.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from supervisor.config.loader import parse_registry
from supervisor.runtime.daemon import Daemon
from supervisor.web.app import create_app
from tests.harness.lab import Lab, wait_until
from tests.harness.rawhttp import get, raw
from tests.harness.user_manager import UserManager

TOKEN = "test-token-3b1f"
RAW_TOKEN = "hostile-token-8e2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Supervised:
    def __init__(self, lab: Lab, daemon: Daemon, client: TestClient) -> None:
        self.lab = lab
        self.daemon = daemon
        self.client = client

    async def json(self, path: str, **kw: Any) -> Any:
        r = await self.client.get(path, **kw)
        return await r.json()

    async def until(self, cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = cond()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def start_supervisor(
    lab: Lab, at_manager: UserManager, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Any]]:
    """Start real daemons in this event loop; stop them (and their test servers) afterwards."""
    monkeypatch.setenv("MISSIONCTL_TOKEN", TOKEN)
    made: list[tuple[Daemon, asyncio.Task[int], TestClient]] = []

    async def start(units: str, extra: str = "discover: false\n", ttl: str = "30s") -> Supervised:
        path = lab.write_registry(units, extra=extra + f"server: {{enabled: false, snapshot_ttl: {ttl}}}\n")
        daemon = Daemon(path, parse_registry(path.read_text(), str(path)), user=True)
        task = asyncio.create_task(daemon.run())
        deadline = time.monotonic() + 20
        while daemon.held.view is None and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.05)
        assert daemon.held.view is not None, task
        client = TestClient(TestServer(create_app(daemon.published, daemon.control)))
        await client.start_server()
        made.append((daemon, task, client))
        return Supervised(lab, daemon, client)

    yield start
    for daemon, task, client in made:
        await client.close()
        daemon.stop()
        await asyncio.wait_for(task, 20)


@pytest.fixture
def served(lab: Lab) -> Iterator[tuple[Lab, str]]:
    """A daemon in its own process serving HTTP on the lab's port, with one timer; (lab, timer)."""
    t = lab.timer("target", "OnCalendar=yearly")
    lab.env["MISSIONCTL_TOKEN"] = RAW_TOKEN
    lab.write_registry(f"  {t}: {{}}\n")
    lab.start_daemon()
    wait_until(lambda: raw(lab, get("/health"))[0] in (200, 503), what="the server")
    yield lab, t
    assert lab.events("http_handler_failed") == []
