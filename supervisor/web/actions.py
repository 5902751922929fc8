"""State-changing endpoints: run now, restart, pause, resume. Token required, always audited."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from supervisor.runtime.ports import Actor, ControlFailed, NotApplicable, UnknownItem
from supervisor.web import params
from supervisor.web.api import COMMANDS, not_found
from supervisor.web.auth import Token

TOKEN = web.AppKey("token", Token)
ACTIONS = ("run", "restart", "pause", "resume")


def json_error(cls: type[web.HTTPException], message: str, **headers: str) -> web.HTTPException:
    return cls(
        text=json.dumps({"error": message, "status": cls.status_code}),
        content_type="application/json",
        headers=headers or None,
    )


async def authorize(request: web.Request, action: str, item: str | None) -> Actor:
    """The caller, when it holds the token; otherwise a 401/403 (or 429), audited and coalesced per address."""
    commands = request.app[COMMANDS]
    token = request.app[TOKEN]
    remote = request.remote or "?"
    if not token.configured or not token.check(request):
        why = "refused" if not token.configured else "unauthorized"
        wait = await commands.refused(remote, action, item, why)
        if wait is not None:
            raise json_error(
                web.HTTPTooManyRequests, "too many refused requests from this address", **{"Retry-After": f"{wait:.0f}"}
            )
        if not token.configured:
            raise json_error(web.HTTPForbidden, token.problem or "no API token configured")
        raise json_error(
            web.HTTPUnauthorized,
            "missing or wrong token (Authorization: Bearer … or X-API-Key)",
            **{"WWW-Authenticate": 'Bearer realm="missionctl"'},
        )
    return Actor("token", remote)


async def act(request: web.Request) -> web.Response:
    """POST /api/items/{name}/{action}."""
    name, action = request.match_info["name"], request.match_info["action"]
    if action not in ACTIONS:
        raise not_found(f"no action {action!r}; actions: {', '.join(ACTIONS)}")
    actor = await authorize(request, action, name)
    control = request.app[COMMANDS]
    calls: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
        "run": lambda: control.run_now(name, actor),
        "restart": lambda: control.restart(name, actor),
        "resume": lambda: control.resume(name, actor),
    }
    try:
        if action == "pause":
            until = await params.pause_until(request)
            result = await control.pause(name, until, actor)
        else:
            result = await calls[action]()
    except UnknownItem:
        raise not_found(f"no supervised item {name!r}") from None
    except ControlFailed as exc:
        raise json_error(web.HTTPBadGateway, f"systemd: {exc}") from exc
    except NotApplicable as exc:
        raise json_error(web.HTTPConflict, str(exc)) from exc
    return web.json_response(result, status=202 if action in ("run", "restart") else 200)
