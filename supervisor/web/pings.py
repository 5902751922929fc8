"""Push heartbeats over HTTP: ``/ping/{key}/{name}[/start|/fail|/log|/{exit_code}]``, GET, POST or HEAD.

The key in the path stands for the bearer token (cron jobs and remote hosts only need a
URL), so a wrong key answers exactly like an unknown name: 404. The request body
(its first 100 kB are read, the last 10 kB kept) is the run's output. Each name may
ping at most ``RATE`` times per second (bursts of ``BURST``); a handler only hands the
ping to the daemon and answers: nothing here waits on systemd or the disk.
"""

from __future__ import annotations

import hmac
import itertools
import json
import time
import uuid
from datetime import UTC, datetime

from aiohttp import web

from supervisor.config.alerts import ServerSpec
from supervisor.core.pings import OUTPUT_KEEP, PingEvent, PingKind
from supervisor.notifiers.secrets import SecretUnavailable, resolve
from supervisor.web.api import COMMANDS, READ
from supervisor.web.errors import guard

READ_AT_MOST = 100 * 1024
RATE, BURST = 20.0, 60.0
_WORDS = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG, "": PingKind.SUCCESS}


class PingKey:
    """The registry's ping key (``server.ping_key_env``); without one, every ping answers 404."""

    def __init__(self, spec: ServerSpec) -> None:
        self._value: bytes | None = None
        self.refresh(spec)

    def refresh(self, spec: ServerSpec) -> None:
        """Read the key again (a reload may bring a new environment file)."""
        try:
            value = resolve(spec.ping_key_env, None)
        except SecretUnavailable:
            value = None
        self._value = value.encode() if value else None

    def matches(self, given: str) -> bool:
        """Constant-time comparison with the configured key."""
        if self._value is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._value)


class Buckets:
    """A token bucket per name: ``rate`` pings per second, ``burst`` at once."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self._tokens: dict[str, tuple[float, float]] = {}

    def take(self, name: str, now: float) -> bool:
        """Whether ``name`` may ping now (and count it)."""
        tokens, at = self._tokens.get(name, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._tokens[name] = (tokens, now)
            return False
        self._tokens[name] = (tokens - 1.0, now)
        return True


class Ids:
    """Run ids for pings: a random prefix per process and a counter (no system call per request)."""

    def __init__(self) -> None:
        self._prefix = uuid.uuid4().hex[:20]
        self._count = itertools.count(1)

    def next(self) -> str:
        """A new id, unique across restarts."""
        return f"{self._prefix}{next(self._count):012x}"


PING_KEY = web.AppKey("ping_key", PingKey)
IDS = web.AppKey("ping_ids", Ids)
BUCKETS = web.AppKey("ping_buckets", Buckets)


def _answer(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text + "\n", status=status, content_type="text/plain")


def _not_found() -> web.Response:
    return web.Response(
        text=json.dumps({"error": "not found", "status": 404}), status=404, content_type="application/json"
    )


def _kind(word: str) -> tuple[PingKind, int | None] | None:
    if word in _WORDS:
        return _WORDS[word], None
    if word.isdigit() and len(word) <= 3 and int(word) <= 255:
        return PingKind.EXIT, int(word)
    return None


async def _body(request: web.Request) -> str | None:
    """The first READ_AT_MOST bytes of the body, of which the last OUTPUT_KEEP are kept."""
    if request.method == "HEAD" or not request.body_exists:
        return None
    chunks: list[bytes] = []
    size = 0
    while size < READ_AT_MOST:
        chunk = await request.content.read(READ_AT_MOST - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)[-OUTPUT_KEEP:]
    return data.decode("utf-8", "replace") or None


async def ping(request: web.Request) -> web.Response:
    """Record one push heartbeat."""
    key, name = request.match_info["key"], request.match_info["name"]
    parsed = _kind(request.match_info.get("what", ""))
    if not request.app[PING_KEY].matches(key) or name not in request.app[READ].registry.pings or parsed is None:
        return _not_found()
    if not request.app[BUCKETS].take(name, time.monotonic()):
        return web.Response(
            text=json.dumps({"error": f"too many pings for {name}", "status": 429}),
            status=429,
            content_type="application/json",
            headers={"Retry-After": "1"},
        )
    kind, code = parsed
    body = await _body(request)
    request.app[COMMANDS].ping(PingEvent(name, request.app[IDS].next(), kind, datetime.now(UTC), code, body))
    return _answer("OK")


def add_routes(app: web.Application, spec: ServerSpec) -> None:
    """The ping endpoints, their key and their rate limits."""
    app[PING_KEY] = PingKey(spec)
    app[BUCKETS] = Buckets()
    app[IDS] = Ids()
    for path in ("/ping/{key}/{name}", "/ping/{key}/{name}/{what}"):
        app.router.add_get(path, guard(ping))  # HEAD too
        app.router.add_post(path, guard(ping))
