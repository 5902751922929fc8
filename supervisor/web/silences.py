"""``/api/silences``: ad-hoc silences (token, audited) and the registry's maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from supervisor.config.quiet import check_glob
from supervisor.core.times import iso
from supervisor.runtime.ports import BadSilence, silence_report
from supervisor.web import params
from supervisor.web.actions import authorize, json_error
from supervisor.web.api import COMMANDS, READ, not_found
from supervisor.web.errors import guard

MAX_REASON = 500


async def listing(request: web.Request) -> web.Response:
    """GET: the silences in force, the maintenance windows (open now or next), and who is quiet now."""
    backend = request.app[READ]
    now = datetime.now(UTC)
    windows = []
    for window in backend.registry.windows():
        windows.append(
            {
                "items": list(window.items),
                "schedule": window.calendar,
                "timezone": window.timezone,
                "duration_s": window.duration_s,
                "reason": window.reason,
                "open_until": iso(window.open_until(now)),
                "next_start": iso(window.next_start(now)),
            }
        )
    quiet = {n: iso(s.silenced_until) for n, s in sorted(backend.state.items.items()) if s.silenced_until}
    active = [silence_report(s) for s in backend.state.silences if s.until > now]
    return web.json_response({"silences": active, "maintenance": windows, "silenced_items": quiet})


async def create(request: web.Request) -> web.Response:
    """POST ``{"items": GLOB, "for": "2h" | "until": ISO, "reason": TEXT}``: 201 with the silence."""
    actor = await authorize(request, "silence", None)
    body = await params.json_object(request)
    pattern, reason = body.get("items"), body.get("reason", "")
    if not isinstance(pattern, str):
        raise params.bad_request('items: expected a name or a glob such as "backup-*"')
    try:
        check_glob(pattern)
    except ValueError as exc:
        raise params.bad_request(f"items: {exc}") from None
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise params.bad_request(f"reason: expected text of at most {MAX_REASON} characters")
    until = params.silence_until(body)
    try:
        made: dict[str, Any] = await request.app[COMMANDS].silence(pattern, until, reason, actor)
    except BadSilence as exc:
        raise params.bad_request(str(exc)) from None
    return web.json_response(made, status=201)


async def delete(request: web.Request) -> web.Response:
    """DELETE ``/api/silences/{id}``: the silence ends now."""
    silence_id = request.match_info["id"]
    actor = await authorize(request, "unsilence", silence_id)
    try:
        done = await request.app[COMMANDS].unsilence(silence_id, actor)
    except BadSilence as exc:
        raise not_found(str(exc)) from None
    return web.json_response(done)


def add_routes(app: web.Application) -> None:
    """Mount the endpoints."""
    app.router.add_get("/api/silences", guard(listing))
    app.router.add_post("/api/silences", guard(create))
    app.router.add_delete("/api/silences/{id}", guard(delete))


__all__ = ["add_routes", "json_error"]
