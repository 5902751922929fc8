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
STEP_EVENTS = 10  # pings folded per step: a step stays around a millisecond, requests are not held up


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

    def take(self, limit: int = STEP_EVENTS) -> tuple[dict[str, list[ProbeResult]], dict[str, list[PingEvent]]]:
        """What was received since the last call, by item, oldest first: at most ``limit`` pings
        (the rest waits for the next step, so one step never holds the event loop for long)."""
        probes = {name: list(q) for name, q in self._probes.items() if q}
        self._probes.clear()
        pings: dict[str, list[PingEvent]] = {}
        taken = 0
        for name in list(self._pings):
            queue = self._pings[name]
            while queue and taken < limit:
                pings.setdefault(name, []).append(queue.popleft())
                taken += 1
            if not queue:
                del self._pings[name]
            if taken >= limit:
                break
        return probes, pings

    @property
    def pending(self) -> bool:
        """Whether anything at all waits for a step."""
        return any(self._probes.values()) or any(self._pings.values())

    @property
    def waiting(self) -> bool:
        """Whether pings are left for the next step."""
        return any(self._pings.values())
