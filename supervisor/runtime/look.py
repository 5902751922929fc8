"""Looking at systemd before a step: a full sweep when one is due, else only what changed.

What to read comes from ``Focus`` (signals, rechecks, deadlines); the reads run on the
link's worker thread and leave the new snapshot in ``Held``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from supervisor.adapters.systemd.worker import SystemdWorker
from supervisor.runtime import heap
from supervisor.runtime.focus import Focus
from supervisor.runtime.held import Held
from supervisor.runtime.observe import observe_all, observe_items

log = structlog.get_logger("missionctl")


class Look:
    """Reads what the next step needs into ``held.snapshot`` (``ConnectionLost`` when the manager went away)."""

    def __init__(self, held: Held, focus: Focus, worker: SystemdWorker, wake: Callable[[], None]) -> None:
        self.held = held
        self.focus = focus
        self.worker = worker
        self.wake = wake

    async def __call__(self) -> None:
        """A full sweep when one is due (or nothing was read yet), else the items said changed or due."""
        loop = asyncio.get_running_loop()
        held, focus = self.held, self.focus
        calls = self.worker.client.calls
        if focus.full or held.snapshot is None:
            registry, forget = held.registry, focus.take_forget()
            started = loop.time()
            focus.sweeping()
            held.snapshot = await self.worker.run(lambda c: observe_all(c, registry, forget=forget))
            if focus.swept(loop.time(), registry.resync_every, held.snapshot):
                self.wake()  # signals that came during the first sweep: read those items again
            log.debug("full_sweep", items=len(held.snapshot.policies), seconds=round(loop.time() - started, 3))
            heap.release()
        else:
            names = focus.to_read(datetime.now(UTC), loop.time())
            if not names:
                return
            snapshot, forget = held.snapshot, focus.take_forget()
            held.snapshot = await self.worker.run(lambda c: observe_items(c, snapshot, names, forget=forget))
        log.debug("observed", items=len(held.snapshot.observations), calls=self.worker.client.calls - calls)
