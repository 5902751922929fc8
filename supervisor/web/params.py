"""Query and body parsing: bad input is a 400 with a message, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from supervisor.config.durations import MAX_SECONDS, parse_duration


def bad_request(message: str) -> web.HTTPBadRequest:
    """A 400 with a JSON body."""
    return web.HTTPBadRequest(text=json.dumps({"error": message, "status": 400}), content_type="application/json")


def moment(text: str, field: str) -> datetime:
    """An ISO-8601 time (UTC when no zone is given)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise bad_request(f"{field}: expected an ISO-8601 time such as 2026-11-22T06:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def since(request: web.Request) -> float | None:
    """``?since=`` as epoch seconds."""
    text = request.query.get("since")
    return moment(text, "since").timestamp() if text else None


def limit(request: web.Request, default: int = 100) -> int:
    """``?limit=`` between 1 and 1000."""
    text = request.query.get("limit")
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request("limit: expected a whole number from 1 to 1000") from None
    if not 1 <= value <= 1000:
        raise bad_request("limit: expected a whole number from 1 to 1000")
    return value


async def pause_until(request: web.Request) -> datetime | None:
    """``{"until": ISO time | duration}`` in the body (or ``?until=``); None pauses until resumed."""
    text: Any = request.query.get("until")
    if request.can_read_body:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep, a 5,000-digit number
            raise bad_request('body: expected JSON such as {"until": "2h"}') from None
        if not isinstance(body, dict):
            raise bad_request("body: expected a JSON object")
        text = body.get("until", text)
    if text in (None, ""):
        return None
    if not isinstance(text, str | int | float) or isinstance(text, bool) or len(str(text)) > 64:
        raise bad_request("until: expected an ISO-8601 time or a duration such as 2h")
    now = datetime.now(UTC)
    try:
        return now + timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    until = moment(str(text), "until")
    if until <= now:
        raise bad_request("until: must be in the future")
    if until > now + timedelta(seconds=MAX_SECONDS):
        raise bad_request("until: at most ten years ahead (or no until: paused until resumed)")
    return until
