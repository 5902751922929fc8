"""Every answer is secured and every error is JSON, with nothing on the hot path: no middleware, no signal.

Route handlers are wrapped one by one (``guard``), which adds the security headers
(the API's, or the page's for the dashboard's routes) to what they answer and makes
their errors JSON; ``/health`` answers prebuilt responses and handles its two
failures itself. What no route takes (the router's 404 and 405) goes to a last
route that matches every path and method (``add_fallback``): it answers as the
router would have, in JSON.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web

from supervisor.web.cache import NotReady
from supervisor.web.headers import API_HEADERS

log = structlog.get_logger("missionctl.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KEPT_HEADERS = ("allow", "www-authenticate", "retry-after")


def not_ready() -> web.Response:
    """503 while the first sweep runs."""
    return web.json_response(
        {"error": "starting: first sweep not finished", "status": 503},
        status=503,
        headers={**API_HEADERS, "Retry-After": "1"},
    )


def failed(request: web.Request) -> web.Response:
    """500 for a bug: logged with its traceback (call from an ``except`` block), never shown."""
    log.exception("http_handler_failed", path=request.path)
    return web.json_response({"error": "internal error", "status": 500}, status=500, headers=API_HEADERS)


def _secured(response: web.StreamResponse, headers: Mapping[str, str]) -> web.StreamResponse:
    if "X-Frame-Options" not in response.headers:  # prebuilt answers carry them already
        response.headers.update(headers)
    return response


def guard(handler: Handler, headers: Mapping[str, str] = API_HEADERS) -> Handler:
    """``handler`` whose every answer carries ``headers`` (security) and whose every failure is JSON."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return _secured(await handler(request), headers)
        except NotReady:
            return not_ready()
        except web.HTTPException as exc:
            if exc.content_type == "application/json" or exc.status < 400:
                _secured(exc, headers)
                raise
            return web.json_response(
                {"error": exc.reason, "status": exc.status},
                status=exc.status,
                headers={**headers, **{k: v for k, v in exc.headers.items() if k.lower() in KEPT_HEADERS}},
            )
        except Exception:  # noqa: BLE001 - failed() logs it with its traceback
            return failed(request)

    return guarded


def add_fallback(app: web.Application) -> None:
    """The last route: what no other route takes is a JSON 405 (with ``Allow``) or 404. Add it after the others."""
    resource = app.router.add_resource("/{path:.*}")

    async def unrouted(request: web.Request) -> web.StreamResponse:
        allowed: set[str] = set()
        for other in app.router.resources():
            if other is not resource:
                _match, methods = await other.resolve(request)
                allowed |= methods
        if allowed:
            raise web.HTTPMethodNotAllowed(request.method, allowed)
        raise web.HTTPNotFound()

    resource.add_route("*", guard(unrouted))
