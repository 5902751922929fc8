"""Probe results and verdicts: what one HTTP or TCP answer means, and when the verdict changes (pure).

A probe's verdict changes for the worse only after ``confirm`` consecutive worse
results, and for the better after ``recover`` consecutive better ones: one slow or
refused answer is a blip, not an incident. A probe with no verdict yet starts from
``ok`` (its first good answer settles it at once, a bad one must be confirmed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from supervisor.core.budget import format_duration
from supervisor.core.model import ProbeSpec

#: Histogram buckets of probe response times, in seconds (``/metrics``).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Outcome(StrEnum):
    """What one probe result (and a verdict) says."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def rank(self) -> int:
        """Worse outcomes rank higher."""
        return _RANK[self]


_RANK = {Outcome.OK: 0, Outcome.DEGRADED: 1, Outcome.DOWN: 2}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's answer: its outcome, why, and how long it took."""

    item: str
    at: datetime
    outcome: Outcome
    reason: str  # "HTTP 500 in 12 ms", "connect refused", "timeout after 5s"
    latency_ms: float | None = None  # None when there was no answer to time
    code: int | None = None  # the HTTP status, when there was one


@dataclass(frozen=True, slots=True)
class ProbeState:
    """A probe's verdict and the streak of results that disagree with it (persisted)."""

    verdict: Outcome | None = None  # None: no result yet
    reason: str = ""  # the result that set the verdict
    since: datetime | None = None
    streak: int = 0  # consecutive results disagreeing with the verdict
    pending: Outcome | None = None  # the latest of them
    pending_reason: str = ""


def ms(value: float) -> str:
    """``12 ms`` / ``1.2 s``."""
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def _within(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def classify_http(spec: ProbeSpec, code: int, latency_ms: float) -> tuple[Outcome, str]:
    """An HTTP answer: degraded when listed so or slower than ``degraded_ms``, ok when expected, else down."""
    said = f"HTTP {code} in {ms(latency_ms)}"
    if _within(code, spec.degraded_status):
        return Outcome.DEGRADED, f"{said} (listed as degraded)"
    if not _within(code, spec.expect):
        return Outcome.DOWN, f"{said} (expected {_ranges(spec.expect)})"
    if spec.degraded_ms is not None and latency_ms > spec.degraded_ms:
        return Outcome.DEGRADED, f"{said} (slower than {ms(spec.degraded_ms)})"
    return Outcome.OK, said


def classify_connect(spec: ProbeSpec, latency_ms: float) -> tuple[Outcome, str]:
    """A TCP connection that opened."""
    said = f"port open, connected in {ms(latency_ms)}"
    if spec.degraded_ms is not None and latency_ms > spec.degraded_ms:
        return Outcome.DEGRADED, f"{said} (slower than {ms(spec.degraded_ms)})"
    return Outcome.OK, said


def timed_out(spec: ProbeSpec) -> str:
    """The reason of a probe that got no answer in time."""
    return f"timeout after {format_duration(spec.timeout_s)}"


def step(spec: ProbeSpec, state: ProbeState, result: ProbeResult) -> ProbeState:
    """The probe's state after one more result."""
    base = state.verdict or Outcome.OK
    if result.outcome is base:
        if state.verdict is None:  # the first good answer settles the verdict at once
            return ProbeState(base, result.reason, result.at)
        return replace(state, streak=0, pending=None, pending_reason="")
    worse = result.outcome.rank > base.rank
    same_way = state.pending is not None and (state.pending.rank > base.rank) == worse
    streak = state.streak + 1 if same_way else 1
    needed = spec.confirm if worse else spec.recover
    if streak >= needed:
        return ProbeState(result.outcome, result.reason, result.at)
    return replace(state, streak=streak, pending=result.outcome, pending_reason=result.reason)


def matters(state: ProbeState | None, result: ProbeResult) -> bool:
    """Whether a result can change the state (a steady good answer cannot: no decision step is needed)."""
    if state is None or state.verdict is None:
        return True
    return result.outcome is not state.verdict or state.streak > 0


def describe(state: ProbeState, spec: ProbeSpec) -> str:
    """The probe's verdict in words, with a streak in progress: ``HTTP 200 in 9 ms; 1 of 2 bad: HTTP 500 ...``."""
    if state.verdict is None:
        return "waiting for the first probe result"
    text = state.reason
    if state.streak and state.pending is not None:
        base = state.verdict
        needed = spec.confirm if state.pending.rank > base.rank else spec.recover
        text += f"; {state.streak} of {needed} {state.pending.value}: {state.pending_reason}"
    return text


def _ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def split_host_port(target: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; ValueError when either is missing or invalid."""
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"expected HOST:PORT (or [IPv6]:PORT), got {target!r}")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError(f"unclosed bracket in {target!r}")
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets: [{host}]:{port_text}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return host, port


def shown_target(kind: str, target: str) -> str:
    """The target as the API and alerts show it: no credentials, no query (either may hold a secret)."""
    if kind != "http":
        return target
    parts = urlsplit(target)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))
