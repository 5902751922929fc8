"""Serving the app inside ``missionctl run`` (loopback by default)."""

from __future__ import annotations

import structlog
from aiohttp import web

from supervisor.config.registry import Registry
from supervisor.runtime.ports import CommandPort, ReadPort
from supervisor.web.actions import TOKEN
from supervisor.web.app import create_app
from supervisor.web.pings import PING_KEY

log = structlog.get_logger("missionctl.web")

#: Connections the kernel completes for us while the loop is busy (the kernel caps it at somaxconn).
#: aiohttp's 128 drops the handshakes beyond it in a burst (many clients at once), and each dropped
#: one waits a second for its retransmission: at 1,000 connections the p99 of /health was that second.
LISTEN_BACKLOG = 1024


class WebServer:
    """Start/stop the HTTP service on ``server.listen``."""

    def __init__(self, read: ReadPort, commands: CommandPort) -> None:
        self.read = read
        self.commands = commands
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    async def start(self) -> None:
        """Bind and serve."""
        spec = self.read.registry.server
        host, port = spec.host_port
        app = self.app = create_app(self.read, self.commands)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, host, port, reuse_address=True, backlog=LISTEN_BACKLOG).start()
        except OSError as exc:
            # supervision matters more than the dashboard: keep running, say why loudly
            log.error("http_bind_failed", listen=spec.listen, error=str(exc))
            await self.runner.cleanup()
            self.runner = None
            return
        if app[TOKEN].problem:
            log.info("api_actions_disabled", reason=app[TOKEN].problem, hint=f"set {spec.token_env} to allow them")
        log.info("http_listening", url=f"http://{spec.listen}/")

    def refresh(self, registry: Registry) -> None:
        """A reload: the API token is read again (from a re-read environment file or its token file)."""
        if self.app is not None:
            self.app[TOKEN].refresh(registry.server)
            self.app[PING_KEY].refresh(registry.server)

    async def stop(self) -> None:
        """Close connections and unbind (bounded by aiohttp's shutdown timeout)."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
