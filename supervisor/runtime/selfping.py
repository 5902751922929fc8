"""The outside dead-man's switch: ping an external monitor while this supervisor is healthy.

If the host disappears (or the supervisor hangs, or loses systemd), the pings stop
and the outside service (healthchecks.io, Uptime Kuma's push monitor, any service
of that kind) tells a human. With ``fail_on_critical`` a critical item that is down
is reported as a failure, with the reason, so it is heard even when every other
channel of this host is gone with it.

Two URL styles: a healthchecks.io-style URL is POSTed the summary, ``URL/fail`` on
a failure; an Uptime Kuma push URL (``/api/push/TOKEN``) gets ``status=up|down``
and ``msg`` as query parameters. The URL is a secret: it is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

from supervisor.config.alerts import SelfPingSpec
from supervisor.core.health import critical_problems
from supervisor.notifiers.secrets import SecretUnavailable, resolve
from supervisor.runtime.view import View

log = structlog.get_logger("missionctl.selfping")
STALE_S = 120.0  # a supervisor whose last decision is older than this is not healthy: no self ping
RETRY_S = 30.0  # after a failed ping, the next one comes this soon (or at the period, when shorter)
_MSG_MAX = 1000


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to tell the outside monitor now: ``ok`` is None when the supervisor is not healthy (stay silent)."""

    ok: bool | None
    message: str


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the outside monitor."""

    method: str
    url: str
    body: bytes | None


def request_for(url: str, verdict: Verdict) -> Request:
    """The request that says ``verdict`` to the monitor behind ``url``."""
    parts = urlsplit(url)
    message = verdict.message[:_MSG_MAX]
    if "/api/push/" in parts.path:  # Uptime Kuma: GET with status and msg
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.update(status="up" if verdict.ok else "down", msg=message)
        return Request("GET", urlunsplit(parts._replace(query=urlencode(query))), None)
    path = parts.path if verdict.ok else parts.path.rstrip("/") + "/fail"
    return Request("POST", urlunsplit(parts._replace(path=path)), message.encode())


def verdict(view: View | None, connected: bool, fail_on_critical: bool, host: str, now: datetime) -> Verdict:
    """What this supervisor tells the outside monitor: silence unless it is connected and deciding."""
    if not connected:
        return Verdict(None, "systemd cannot be reached")
    if view is None:
        return Verdict(None, "no decision yet")
    age = (now - view.generated_at).total_seconds()
    if age > STALE_S:
        return Verdict(None, f"no decision for {age:.0f}s")
    if fail_on_critical:
        state, policies = view.decision.state.items, view.snapshot.policies
        down = critical_problems(
            (n, a.status, policies[n].critical, a.reason, n in state and state[n].silenced_until is not None)
            for n, a in view.decision.assessments.items()
        )
        if down:
            return Verdict(False, f"{host}: {len(down)} critical down: " + "; ".join(down))
    return Verdict(True, f"{host}: {view.summary}")


class SelfPinger:
    """Pings every ``every`` seconds what ``verdict()`` says; remembers the last outcome for the report."""

    def __init__(self, url: str, every_s: float, timeout_s: float, verdict: Callable[[], Verdict]) -> None:
        self._url = url
        self._every_s = every_s
        self._timeout_s = timeout_s
        self._verdict = verdict
        self._task: asyncio.Task[None] | None = None
        self.last: dict[str, Any] = {"at": None, "result": None, "error": None, "sent": 0}

    def start(self) -> None:
        """Begin pinging (the first ping goes out at once)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop pinging."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        import aiohttp  # the client stack is loaded only when a self ping is configured

        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                ok = await self.ping_once(session)
                await asyncio.sleep(self._every_s if ok else min(self._every_s, RETRY_S))

    async def ping_once(self, session: Any) -> bool:
        """One ping (or none, when the supervisor is not healthy); True unless the monitor could not be told."""
        verdict = self._verdict()
        if verdict.ok is None:
            log.warning("self_ping_withheld", why=verdict.message)
            self.last = {**self.last, "at": time.time(), "result": "withheld", "error": verdict.message}
            return True
        req = request_for(self._url, verdict)
        error = None
        try:
            async with session.request(req.method, req.url, data=req.body) as resp:
                if resp.status >= 400:
                    error = f"HTTP {resp.status}"
        except (OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}".replace(self._url, "***")
        except Exception as exc:  # noqa: BLE001 - aiohttp's client errors: said, retried, never fatal
            error = type(exc).__name__
        result = "ok" if verdict.ok else "fail"
        self.last = {"at": time.time(), "result": result, "error": error, "sent": self.last["sent"] + 1}
        if error:
            log.warning("self_ping_failed", result=result, error=error)
        return error is None


def start_self_ping(spec: SelfPingSpec | None, verdict: Callable[[], Verdict]) -> SelfPinger | None:
    """The self ping the registry asks for, started; None when it asks for none or its URL is unavailable."""
    if spec is None:
        return None
    try:
        url = resolve(spec.url_env, spec.url_file)
    except SecretUnavailable as exc:
        log.error("self_ping_unavailable", error=str(exc))
        return None
    if not url:
        return None
    pinger = SelfPinger(url, spec.every, spec.timeout_s, verdict)
    pinger.start()
    return pinger
