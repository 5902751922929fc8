"""Probes on a schedule: one task per probe on the event loop, jittered, a bounded number in flight.

Each result goes to ``on_result`` (the daemon decides what it means) and into the
probe's latency record: the recent results (for the API and the dashboard's chart),
a histogram (for /metrics) and per-minute aggregates (for the history database).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog

from supervisor.adapters.history import MinuteRow
from supervisor.adapters.probe import run_probe, session
from supervisor.core.model import ProbeSpec
from supervisor.core.probes import BUCKETS, Outcome, ProbeResult, shown_target
from supervisor.core.times import iso

log = structlog.get_logger("missionctl.probes")

MAX_IN_FLIGHT = 32
RECENT = 120  # results kept in memory per probe
#: A probe whose verdict is not settled (a streak under way) is run again this much sooner.
EAGER_DIVISOR = 5.0
EAGER_MIN_S = 1.0


@dataclass
class Latency:
    """What one probe's answers took: recent results, a histogram, the minute being aggregated."""

    recent: deque[ProbeResult] = field(default_factory=lambda: deque(maxlen=RECENT))
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    count: int = 0
    total_s: float = 0.0
    minute: float | None = None
    window: list[ProbeResult] = field(default_factory=list)

    def add(self, result: ProbeResult) -> MinuteRow | None:
        """Record one result; returns the previous minute's aggregate when this one starts a new minute."""
        self.recent.append(result)
        if result.latency_ms is not None:
            seconds = result.latency_ms / 1000.0
            self.count += 1
            self.total_s += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1
                    break
            else:
                self.buckets[-1] += 1
        minute = result.at.timestamp() // 60 * 60
        closed = self.flush(result.item) if self.minute is not None and minute != self.minute else None
        self.minute = minute
        self.window.append(result)
        return closed

    def flush(self, item: str) -> MinuteRow | None:
        """The aggregate of the minute in progress (and start a new one)."""
        if self.minute is None or not self.window:
            return None
        times = [r.latency_ms for r in self.window if r.latency_ms is not None and r.outcome is not Outcome.DOWN]
        row = (
            item,
            self.minute,
            len(self.window),
            sum(r.outcome is Outcome.DOWN for r in self.window),
            sum(r.outcome is Outcome.DEGRADED for r in self.window),
            round(min(times), 3) if times else None,
            round(sum(times) / len(times), 3) if times else None,
            round(max(times), 3) if times else None,
        )
        self.window = []
        return row

    def report(self) -> dict[str, Any]:
        """The recent results, as the API shows them."""
        answered = sorted(r.latency_ms for r in self.recent if r.latency_ms is not None)
        last = self.recent[-1] if self.recent else None
        return {
            "last": _result_doc(last) if last else None,
            "p50_ms": _quantile(answered, 0.5),
            "p95_ms": _quantile(answered, 0.95),
            "recent": [_result_doc(r) for r in self.recent],
        }


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _result_doc(r: ProbeResult) -> dict[str, Any]:
    return {"at": iso(r.at), "outcome": r.outcome.value, "latency_ms": r.latency_ms, "code": r.code, "reason": r.reason}


class Prober:
    """Runs every configured probe every ``every`` (± 5 %), sooner while its verdict is being confirmed."""

    def __init__(
        self,
        on_result: Callable[[ProbeResult], None],
        eager: Callable[[str], bool] = lambda _: False,
        max_in_flight: int = MAX_IN_FLIGHT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.on_result = on_result
        self.eager = eager
        self.clock = clock
        self.latency: dict[str, Latency] = {}
        self._max = max_in_flight
        self._limit = asyncio.Semaphore(max_in_flight)
        self._client: aiohttp.ClientSession | None = None
        self._specs: dict[str, ProbeSpec] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._now: dict[str, asyncio.Event] = {}
        self._minutes: list[MinuteRow] = []

    def configure(self, specs: dict[str, ProbeSpec]) -> None:
        """Probe exactly ``specs`` from now on (start-up and every reload); an unchanged probe keeps its rhythm."""
        for name in list(self._tasks):
            if specs.get(name) != self._specs.get(name):
                self._tasks.pop(name).cancel()
        for name in list(self.latency):
            if name not in specs:
                del self.latency[name]
        self._specs = dict(specs)
        for name, spec in specs.items():
            if name not in self._tasks:
                self._now[name] = asyncio.Event()
                self._tasks[name] = asyncio.create_task(self._loop(name, spec), name=f"probe:{name}")
        if specs:
            log.debug("probes_configured", count=len(specs))

    def soon(self, name: str) -> None:
        """Probe ``name`` now (after a restart of its unit)."""
        if name in self._now:
            self._now[name].set()

    def report(self, name: str, spec: ProbeSpec) -> dict[str, Any]:
        """A probe's target, settings and recent latencies (for ``/api/items/{name}``)."""
        latency = self.latency.get(name)
        return {
            "kind": spec.kind.value,
            "target": shown_target(spec.kind.value, spec.target),
            "every_s": spec.every_s,
            "timeout_s": spec.timeout_s,
            "degraded_ms": spec.degraded_ms,
            "confirm": spec.confirm,
            "recover": spec.recover,
            "on_down": spec.on_down.value,
            **(latency.report() if latency else {"last": None, "p50_ms": None, "p95_ms": None, "recent": []}),
        }

    def histograms(self) -> dict[str, tuple[list[int], float]]:
        """Each probe's response-time counts per bucket (``core.probes.BUCKETS`` and above) and their sum."""
        return {name: (list(lat.buckets), lat.total_s) for name, lat in self.latency.items()}

    def minutes(self) -> list[MinuteRow]:
        """The per-minute aggregates completed since the last call (for the history)."""
        rows, self._minutes = self._minutes, []
        return rows

    async def close(self) -> None:
        """Stop every probe and close the client."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _loop(self, name: str, spec: ProbeSpec) -> None:
        wake = self._now[name]
        delay = random.uniform(0, min(spec.every_s, 10.0))  # noqa: S311 - jitter, not a secret
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
            wake.clear()
            async with self._limit:
                if self._client is None or self._client.closed:
                    self._client = session(self._max)
                result = await run_probe(name, spec, self._client, self.clock)
            latency = self.latency.setdefault(name, Latency())
            closed = latency.add(result)
            if closed is not None:
                self._minutes.append(closed)
            try:
                self.on_result(result)
            except Exception:  # a bug in the receiver must not end the probe
                log.exception("probe_result_failed", item=name)
            delay = spec.every_s * random.uniform(0.95, 1.05)  # noqa: S311
            if self.eager(name):
                delay = min(delay, max(EAGER_MIN_S, spec.every_s / EAGER_DIVISOR))
