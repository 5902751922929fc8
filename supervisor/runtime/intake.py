"""What arrives between two decision steps without systemd: probe results and push heartbeats.

The HTTP handlers and the probes only hand their facts over here and wake the loop;
the next step folds them in (``core.decide``). Both queues are bounded per item, so
a flood of pings cannot grow the daemon's memory.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import replace

from supervisor.core.pings import PingEvent
from supervisor.core.probes import ProbeResult, matters
from supervisor.core.state import State

MAX_PENDING = 100  # per item and step; more is a flood (the HTTP layer rate-limits before this)
STEP_EVENTS = 10  # pings folded per step: a step stays around a millisecond, requests are not held up
PING_BATCH_S = 0.25  # pings arriving together are folded into one step, at most this late


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


class Inbox:
    """Where the probes and the HTTP layer hand their facts over: queued in ``intake``, and the loop woken.

    A probe result that cannot change its verdict is dropped here (no step for a steady
    answer). A push heartbeat's body is scrubbed of every known secret before it is queued,
    so none reaches the history or an alert; a burst of them wakes the loop once.
    """

    def __init__(
        self,
        state: Callable[[], State],
        wake: Callable[[], None],
        redact: Callable[[], Callable[[str], str] | None],
    ) -> None:
        self.intake = Intake()
        self.pings_received: dict[str, int] = {}  # by kind, since start (the supervisor's own report)
        self._state = state
        self._wake = wake
        self._redact = redact
        self._ping_wake: asyncio.TimerHandle | None = None

    def probe(self, result: ProbeResult) -> None:
        """A probe's result: queued when it may change the item's verdict."""
        if matters(self._state().probes.get(result.item), result):
            self.intake.probe(result)
            self._wake()

    def eager(self, name: str) -> bool:
        """Whether a probe's verdict is being confirmed (it runs sooner meanwhile)."""
        verdict = self._state().probes.get(name)
        return verdict is None or verdict.verdict is None or verdict.streak > 0

    def ping(self, event: PingEvent) -> None:
        """An accepted push heartbeat: folded in at the next step, at most ``PING_BATCH_S`` late."""
        redact = self._redact()
        if redact is not None and event.body:
            event = replace(event, body=redact(event.body))
        self.pings_received[event.kind.value] = self.pings_received.get(event.kind.value, 0) + 1
        self.intake.ping(event)
        if self._ping_wake is None:
            self._ping_wake = asyncio.get_running_loop().call_later(PING_BATCH_S, self._pings_due)

    def _pings_due(self) -> None:
        self._ping_wake = None
        self._wake()

    def close(self) -> None:
        """No more wake-ups (at shutdown; what is queued stays in ``intake``)."""
        if self._ping_wake is not None:
            self._ping_wake.cancel()
            self._ping_wake = None
