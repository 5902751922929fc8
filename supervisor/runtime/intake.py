"""What arrives between two decision steps without systemd: probe results and push heartbeats.

The HTTP handlers and the probes only hand their facts over here and wake the loop;
the next step folds them in (``core.decide``). Both queues are bounded per item, so
a flood of pings cannot grow the daemon's memory.
"""

from __future__ import annotations

from collections import defaultdict, deque

from supervisor.core.pings import PingEvent
from supervisor.core.probes import ProbeResult

MAX_PENDING = 100  # per item and step; more is a flood (the HTTP layer rate-limits before this)


class Intake:
    """Facts waiting for the next decision step."""

    def __init__(self) -> None:
        self._probes: defaultdict[str, deque[ProbeResult]] = defaultdict(lambda: deque(maxlen=MAX_PENDING))
        self._pings: defaultdict[str, deque[PingEvent]] = defaultdict(lambda: deque(maxlen=MAX_PENDING))

    def probe(self, result: ProbeResult) -> None:
        """A probe result that may change its verdict."""
        self._probes[result.item].append(result)

    def ping(self, event: PingEvent) -> None:
        """An accepted push heartbeat."""
        self._pings[event.item].append(event)

    def take(self) -> tuple[dict[str, list[ProbeResult]], dict[str, list[PingEvent]]]:
        """Everything received since the last call, by item, oldest first."""
        probes = {name: list(q) for name, q in self._probes.items() if q}
        pings = {name: list(q) for name, q in self._pings.items() if q}
        self._probes.clear()
        self._pings.clear()
        return probes, pings
