"""The HTTP service as ``missionctl run`` serves it: bound where the registry says, as the kernel sees it."""

from __future__ import annotations

import asyncio
import subprocess
import time

from supervisor.config.loader import parse_registry
from supervisor.runtime.daemon import Daemon
from supervisor.web.server import LISTEN_BACKLOG, WebServer
from tests.harness.lab import Lab, free_port
from tests.harness.user_manager import UserManager


def _listening(port: int) -> list[str]:
    """``ss``'s row for the socket listening on ``port``: state, queued, backlog, address, peer."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert len(rows) == 1, out
    return rows[0]


async def test_the_socket_listens_on_loopback_with_room_for_a_burst_of_connections(
    lab: Lab, at_manager: UserManager
) -> None:
    """A burst of clients beyond aiohttp's default backlog of 128 is queued, not made to retransmit."""
    port = free_port()
    path = lab.write_registry("", extra=f"discover: false\nserver: {{listen: '127.0.0.1:{port}'}}\n")
    daemon = Daemon(path, parse_registry(path.read_text(), str(path)), user=True)
    task = asyncio.create_task(daemon.run())
    server: WebServer | None = None
    try:
        deadline = time.monotonic() + 20
        while daemon.held.view is None and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.05)
        assert daemon.held.view is not None, task
        server = WebServer(daemon.published, daemon.control)
        await server.start()
        state, _queued, backlog, address, _peer = _listening(port)
        assert (state, address) == ("LISTEN", f"127.0.0.1:{port}")
        assert int(backlog) == LISTEN_BACKLOG > 128
    finally:
        if server is not None:
            await server.stop()
        daemon.stop()
        await asyncio.wait_for(task, 20)
