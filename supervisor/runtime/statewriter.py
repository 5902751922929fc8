"""Writes the state file off the event loop: at once before acting, or shortly after for what can wait.

The latest state always wins; a write is skipped when the file already holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from supervisor.adapters.statefile import StateStore
from supervisor.core.state import State

SAVE_SOON_S = 0.5  # a state change that needs no urgent write (a run started) is written within this


class StateWriter:
    """The one writer of ``state.json`` in the daemon; it writes ``current()`` as it is when the write begins."""

    def __init__(self, store: StateStore, current: Callable[[], State]) -> None:
        self.store = store
        self.current = current
        self.saved: State | None = None  # the state last written to (or read from) the file
        self._lock = asyncio.Lock()
        self._soon: asyncio.Task[None] | None = None

    def load(self) -> State:
        """The state in the file (a fresh one when it is missing or unreadable)."""
        self.saved = self.store.load()
        return self.saved

    async def persist(self, urgent: bool) -> None:
        """Write the state now (``urgent``: before acting on it), or within SAVE_SOON_S."""
        if urgent:
            await self.write()
        elif self._soon is None or self._soon.done():
            self._soon = asyncio.create_task(self.write(delay=SAVE_SOON_S))

    async def write(self, delay: float = 0.0) -> None:
        """Write the current state unless the file holds it already."""
        if delay:
            await asyncio.sleep(delay)
        async with self._lock:
            latest = self.current()
            if latest is not self.saved:
                await asyncio.to_thread(self.store.save, latest)
                self.saved = latest

    def cancel(self) -> None:
        """Drop a pending delayed write (``write()`` at shutdown writes what it would have)."""
        if self._soon is not None:
            self._soon.cancel()
