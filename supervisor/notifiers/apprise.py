"""A channel through Apprise: ntfy, Gotify, Telegram, Slack, Pushover, Matrix, Mattermost and the rest.

Apprise is blocking (``requests`` underneath). Each send runs on a small thread pool
of this channel's own, never on the event loop nor on the pool that saves the state,
and is bounded by ``timeout``: a send that has not returned by then is a retryable
failure (its thread finishes on its own, Apprise's own connect/read timeouts end
it). Apprise reports only success or failure; the HTTP status it logs (``error=500``)
decides between a retry and a dead letter, as for the other channels. Its log lines
go to this channel only: they can hold parts of a URL that are secrets.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from supervisor.notifiers import render
from supervisor.notifiers.base import TransportError
from supervisor.notifiers.http import classify

_STATUS = re.compile(r"error=(\d{3})\b")
_BODY_MAX = 3000  # push services cut long messages; the tail of a run's output is what matters
_SECRET_MIN = 6  # URL parts at least this long are treated as secrets (tokens, keys, passwords)


def url_secrets(url: str) -> list[str]:
    """The parts of an Apprise URL that may be secrets: user, password, path segments, query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.username or "", parts.password or ""]
    host = parts.netloc.rpartition("@")[2]
    if "." not in host and not host.startswith(("localhost", "[")):  # tgram://BOTTOKEN/...: a token, not a host
        found.append(host)
    found += parts.path.split("/")
    found += [v for _k, v in parse_qsl(parts.query)]
    return [s for s in found if len(s) >= _SECRET_MIN]


def notify_type(event: str) -> str:
    """Apprise's message type for an alert event (it sets colours and icons)."""
    return {"down": "failure", "escalated": "failure", "recovered": "success", "summary": "info"}.get(event, "warning")


def body_of(payload: dict[str, Any], public_url: str | None) -> str:
    """The facts, then the tail of the run's output, within what push services accept."""
    lines = [f"{k}: {v}" for k, v in render.facts(payload, public_url)]
    text = "\n".join(lines)
    output = payload.get("output")
    if output:
        room = _BODY_MAX - len(text) - 30
        tail = str(output)[-room:] if room > 0 else ""
        text += "\n\nOutput (last lines):\n" + tail
    return text[:_BODY_MAX]


class AppriseNotifier:
    """One Apprise URL (which may itself name several services, separated by commas or spaces)."""

    def __init__(self, name: str, url: str, timeout_s: float, public_url: str | None) -> None:
        import apprise  # loaded only when an apprise channel is configured

        self.name = name
        self._url = url
        self._timeout_s = timeout_s
        self._public_url = public_url
        self._apprise = apprise
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"apprise-{name}")
        logging.getLogger("apprise").propagate = False  # its lines may quote URL parts: kept to this channel
        probe = apprise.Apprise()
        self.valid = bool(probe.add(url))

    def __repr__(self) -> str:
        return f"AppriseNotifier({self.name!r})"

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Deliver one alert, or raise TransportError (permanent for a URL Apprise cannot read or a 4xx)."""
        if not self.valid:
            raise TransportError(f"{self.name}: Apprise does not understand this URL", permanent=True)
        title = render.headline(payload)
        body = body_of(payload, self._public_url)
        kind = notify_type(payload["event"])
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, self._send, title, body, kind)
        try:
            ok, log = await asyncio.wait_for(future, self._timeout_s)
        except TimeoutError:
            raise TransportError(f"{self.name}: no answer within {self._timeout_s:g}s") from None
        if ok:
            return
        raise _failure(self.name, log)

    def _send(self, title: str, body: str, kind: str) -> tuple[bool, str]:
        apprise = self._apprise
        target = apprise.Apprise()
        target.add(self._url)
        with apprise.LogCapture(level=logging.WARNING) as capture:
            ok = target.notify(title=title, body=body, notify_type=kind)
            text = capture.getvalue()
        return bool(ok), text

    def close(self) -> None:
        """Let sends in flight finish on their own; take no new ones."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _failure(name: str, log: str) -> TransportError:
    """What Apprise's warnings say: an HTTP status classified like the other channels, else retryable."""
    lines = [line.split(" - ", 2)[-1].strip() for line in log.strip().splitlines() if line.strip()]
    text = "; ".join(lines)[-300:] or "delivery failed"
    statuses = [int(s) for s in _STATUS.findall(log)]
    if statuses:
        return classify(statuses[-1], text, None, name)
    return TransportError(f"{name}: {text}")
