"""The aiohttp application: routes, JSON errors, body limits, the dashboard's files."""

from __future__ import annotations

import json
from pathlib import Path

import structlog
from aiohttp import web

from supervisor.runtime.ports import CommandPort, ReadPort
from supervisor.web import actions, api, pings, silences
from supervisor.web.auth import Token
from supervisor.web.cache import ViewCache
from supervisor.web.errors import add_fallback, guard
from supervisor.web.headers import PAGE_HEADERS
from supervisor.web.openapi import spec

log = structlog.get_logger("missionctl.web")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024


def create_app(backend: ReadPort, commands: CommandPort) -> web.Application:
    """The whole HTTP service over the supervisor's two ports (what it reads, what it may ask for)."""
    app = web.Application(client_max_size=MAX_BODY)  # no middleware, no signal: see errors.py
    app[api.READ] = backend
    app[api.COMMANDS] = commands
    app[api.CACHE] = ViewCache(backend, backend.registry.server.snapshot_ttl)
    app[actions.TOKEN] = Token(backend.registry.server)
    openapi = json.dumps(spec()).encode()
    metrics: list[object] = []

    async def metrics_handler(request: web.Request) -> web.Response:
        # prometheus-client is loaded on the first scrape: a host nobody scrapes does not pay for it
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from supervisor.web.metrics import registry_for

        if not metrics:
            metrics.append(registry_for(backend))
        body = generate_latest(metrics[0])  # type: ignore[arg-type]
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def openapi_handler(request: web.Request) -> web.Response:
        return web.Response(body=openapi, content_type="application/json")

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})

    files = {path.name: path for path in STATIC.iterdir() if path.is_file()}  # what may be served, and nothing else

    async def static(request: web.Request) -> web.FileResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    app.router.add_get("/health", api.health)  # answers its own failures: the hot path
    app.router.add_get("/api/items", guard(api.items))
    app.router.add_get("/api/items/{name}", guard(api.item))
    app.router.add_post("/api/items/{name}/{action}", guard(actions.act))
    app.router.add_get("/api/transitions", guard(api.transitions))
    app.router.add_get("/api/runs", guard(api.runs))
    app.router.add_get("/api/runs/{id}", guard(api.run))
    app.router.add_get("/api/alerts", guard(api.alerts))
    app.router.add_get("/api/audit", guard(api.audit))
    app.router.add_get("/api/maintenance", guard(api.maintenance))
    app.router.add_get("/api/openapi.json", guard(openapi_handler))
    app.router.add_get("/metrics", guard(metrics_handler))
    silences.add_routes(app)
    pings.add_routes(app, backend.registry.server)
    app.router.add_get("/", guard(index, PAGE_HEADERS))
    app.router.add_get("/favicon.ico", guard(favicon, PAGE_HEADERS))
    app.router.add_get("/static/{name}", guard(static, PAGE_HEADERS))
    add_fallback(app)
    return app
