"""The aiohttp application: routes, JSON errors, body limits, the dashboard's files."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from aiohttp import web

from supervisor.runtime.ports import CommandPort, ReadPort
from supervisor.web import actions, api, pings, silences
from supervisor.web.auth import Token
from supervisor.web.cache import NotReady, ViewCache
from supervisor.web.headers import security_headers
from supervisor.web.openapi import spec

log = structlog.get_logger("missionctl.web")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 16 * 1024


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error is JSON; nothing internal leaks."""
    try:
        return await handler(request)
    except NotReady:
        return web.json_response(
            {"error": "starting: first sweep not finished", "status": 503}, status=503, headers={"Retry-After": "1"}
        )
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        body = {"error": exc.reason, "status": exc.status}
        return web.json_response(
            body,
            status=exc.status,
            headers={k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")},
        )
    except Exception:
        log.exception("http_handler_failed", path=request.path)
        return web.json_response({"error": "internal error", "status": 500}, status=500)


def create_app(backend: ReadPort, commands: CommandPort) -> web.Application:
    """The whole HTTP service over the supervisor's two ports (what it reads, what it may ask for)."""
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY)
    app.on_response_prepare.append(security_headers)
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

    app.router.add_get("/health", api.health)
    app.router.add_get("/api/items", api.items)
    app.router.add_get("/api/items/{name}", api.item)
    app.router.add_post("/api/items/{name}/{action}", actions.act)
    app.router.add_get("/api/transitions", api.transitions)
    app.router.add_get("/api/runs", api.runs)
    app.router.add_get("/api/runs/{id}", api.run)
    app.router.add_get("/api/alerts", api.alerts)
    app.router.add_get("/api/audit", api.audit)
    app.router.add_get("/api/maintenance", api.maintenance)
    app.router.add_get("/api/openapi.json", openapi_handler)
    app.router.add_get("/metrics", metrics_handler)
    silences.add_routes(app)
    pings.add_routes(app, backend.registry.server)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC)
    return app
