"""Signed JSON webhooks (also the recovery hook)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp

from supervisor.notifiers.http import post_json


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=HEX`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookNotifier:
    """POSTs the alert payload with X-Missionctl-* headers and an HMAC signature."""

    def __init__(self, name: str, url: str, secret: str | None, session: aiohttp.ClientSession) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._session = session

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.name!r}, signed={self._secret is not None})"

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Deliver one payload; the delivery id is the alert id, the same on every retry."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "User-Agent": "missionctl",
            "X-Missionctl-Event": payload["event"],
            "X-Missionctl-Delivery": delivery_id,
            "X-Missionctl-Timestamp": timestamp,
        }
        if self._secret:
            headers["X-Missionctl-Signature"] = signature(self._secret, timestamp, body)
        await post_json(self._session, self.url, body, headers, self.name)
