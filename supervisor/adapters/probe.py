"""Running one probe: an HTTP request (aiohttp's client) or a TCP connect (asyncio streams), timed.

Everything here runs on the event loop, never in a thread; the meaning of the answer
is the core's (``core.probes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ssl
import time
from collections.abc import Callable
from datetime import datetime

import aiohttp

from supervisor import __version__
from supervisor.core.model import ProbeKind, ProbeSpec
from supervisor.core.probes import Outcome, ProbeResult, classify_connect, classify_http, split_host_port, timed_out

USER_AGENT = f"missionctl-probe/{__version__}"


def session(limit: int) -> aiohttp.ClientSession:
    """The shared client of every HTTP probe: at most ``limit`` connections, none reused (each probe connects)."""
    connector = aiohttp.TCPConnector(limit=limit, force_close=True, ttl_dns_cache=60)
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": USER_AGENT},
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def run_probe(
    item: str, spec: ProbeSpec, client: aiohttp.ClientSession, clock: Callable[[], datetime]
) -> ProbeResult:
    """Probe ``spec``'s target once; every failure becomes a ``down`` result with its reason."""
    at = clock()
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000.0

    try:
        async with asyncio.timeout(spec.timeout_s):
            if spec.kind is ProbeKind.HTTP:
                async with client.request(spec.method, spec.target, allow_redirects=False) as response:
                    code = response.status
                latency = elapsed()
                outcome, reason = classify_http(spec, code, latency)
                return ProbeResult(item, at, outcome, reason, round(latency, 3), code)
            host, port = split_host_port(spec.target)
            _, writer = await asyncio.open_connection(host, port)
            latency = elapsed()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            outcome, reason = classify_connect(spec, latency)
            return ProbeResult(item, at, outcome, reason, round(latency, 3))
    except TimeoutError:
        return ProbeResult(item, at, Outcome.DOWN, timed_out(spec))
    except (OSError, aiohttp.ClientError, ValueError) as exc:
        return ProbeResult(item, at, Outcome.DOWN, describe_error(exc), round(elapsed(), 3))


def describe_error(exc: BaseException) -> str:
    """``connect refused``, ``TLS: certificate verify failed``, ``connection reset`` ... (never a traceback)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLError):
        return f"TLS: {getattr(exc, 'reason', None) or exc}"[:200]
    os_error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
    if isinstance(os_error, ConnectionRefusedError) or getattr(os_error, "errno", None) == errno.ECONNREFUSED:
        return "connect refused"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection without answering"
    if isinstance(os_error, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or (isinstance(os_error, OSError) and "resolv" in str(exc)):
        return f"name resolution failed: {exc}"[:200]
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return f"bad HTTP answer: {exc.__class__.__name__}"
    text = getattr(os_error, "strerror", None) or str(exc) or exc.__class__.__name__
    return f"connect failed: {text}"[:200]
