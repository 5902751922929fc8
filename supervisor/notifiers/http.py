"""POSTing JSON with aiohttp, and what an HTTP answer means for a retry."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from supervisor.notifiers.base import TransportError

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def post_json(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], what: str) -> None:
    """POST ``body``; success on 2xx, otherwise TransportError classified by status."""
    try:
        async with session.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as resp:
            if 200 <= resp.status < 300:
                return
            text = (await resp.text(errors="replace"))[:300]
            raise classify(resp.status, text, resp.headers.get("Retry-After"), what)
    except TransportError:
        raise
    except TimeoutError as exc:
        raise TransportError(f"{what}: timed out") from exc
    except aiohttp.ClientError as exc:
        raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc


def classify(status: int, text: str, retry_after_header: str | None, what: str) -> TransportError:
    """429 waits as told; 5xx and 408 retry; any other 4xx is permanent."""
    if status == 429:
        return TransportError(f"{what}: rate limited (429)", retry_after=_retry_after(text, retry_after_header))
    if status >= 500 or status == 408:
        return TransportError(f"{what}: HTTP {status}: {text}")
    return TransportError(f"{what}: HTTP {status}: {text}", permanent=True)


def _retry_after(text: str, header: str | None) -> float | None:
    try:
        doc: Any = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("retry_after"), int | float):
            return float(doc["retry_after"])
    except ValueError:
        pass
    try:
        return float(header) if header else None
    except ValueError:
        return None
