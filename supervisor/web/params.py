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


async def json_object(request: web.Request, example: str = '{"until": "2h"}') -> dict[str, Any]:
    """The request's JSON object body ({} when there is none)."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep, a 5,000-digit number
        raise bad_request(f"body: expected JSON such as {example}") from None
    if not isinstance(body, dict):
        raise bad_request("body: expected a JSON object")
    return body


async def pause_until(request: web.Request) -> datetime | None:
    """``{"until": ISO time | duration}`` in the body (or ``?until=``); None pauses until resumed."""
    text: Any = request.query.get("until")
    body = await json_object(request)
    text = body.get("until", text)
    if text in (None, ""):
        return None
    return later(text, "until")


def silence_until(body: dict[str, Any]) -> datetime:
    """A silence's end: ``for`` (a duration) or ``until`` (an ISO time or a duration); one is required."""
    if ("for" in body) == ("until" in body):
        raise bad_request('give "for" (a duration such as 2h) or "until" (an ISO-8601 time), not both')
    field = "for" if "for" in body else "until"
    return later(body[field], field)


def later(text: object, field: str) -> datetime:
    """A moment in the future: now + a duration, or an ISO time."""
    if not isinstance(text, str | int | float) or isinstance(text, bool) or len(str(text)) > 64:
        raise bad_request(f"{field}: expected an ISO-8601 time or a duration such as 2h")
    now = datetime.now(UTC)
    try:
        seconds = parse_duration(text)
    except ValueError:
        pass
    else:
        if seconds <= 0:
            raise bad_request(f"{field}: must be in the future")
        return now + timedelta(seconds=seconds)
    until = moment(str(text), field)
    if until <= now:
        raise bad_request(f"{field}: must be in the future")
    if until > now + timedelta(seconds=MAX_SECONDS):
        raise bad_request(f"{field}: at most ten years ahead")
    return until
