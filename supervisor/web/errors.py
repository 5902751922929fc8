"""Every error is JSON and nothing internal leaks, without a middleware on the hot paths.

Route handlers are wrapped one by one (``guard``); ``/health`` handles its two
failures itself, so its requests pass through no extra layer. What the router
raises before any handler runs (404, 405) and what a file route raises is made
JSON as its response is prepared (``finish``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from supervisor.web.cache import NotReady
from supervisor.web.headers import SECURITY_HEADERS

log = structlog.get_logger("missionctl.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KEPT_HEADERS = ("allow", "www-authenticate", "retry-after")


def not_ready() -> web.Response:
    """503 while the first sweep runs."""
    return web.json_response(
        {"error": "starting: first sweep not finished", "status": 503}, status=503, headers={"Retry-After": "1"}
    )


def failed(request: web.Request) -> web.Response:
    """500 for a bug: logged with its traceback (call from an ``except`` block), never shown."""
    log.exception("http_handler_failed", path=request.path)
    return web.json_response({"error": "internal error", "status": 500}, status=500)


def guard(handler: Handler) -> Handler:
    """``handler`` whose every failure is a JSON answer."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotReady:
            return not_ready()
        except web.HTTPException as exc:
            if exc.content_type == "application/json" or exc.status < 400:
                raise
            return web.json_response(
                {"error": exc.reason, "status": exc.status},
                status=exc.status,
                headers={k: v for k, v in exc.headers.items() if k.lower() in KEPT_HEADERS},
            )
        except Exception:  # noqa: BLE001 - failed() logs it with its traceback
            return failed(request)

    return guarded


async def finish(request: web.Request, response: web.StreamResponse) -> None:
    """Every response carries the security headers (prebuilt ones already do); an error raised
    outside a handler (the router's 404 and 405, a file route's) is made JSON."""
    if "X-Frame-Options" in response.headers:
        return
    response.headers.update(SECURITY_HEADERS)
    if (
        isinstance(response, web.HTTPException)
        and response.status >= 400
        and response.content_type != "application/json"
    ):
        body = json.dumps({"error": response.reason, "status": response.status}).encode()
        response.body = body
        response.content_type = "application/json"
        response.headers["Content-Length"] = str(len(body))  # the exception's text had set its own
