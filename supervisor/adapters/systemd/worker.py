"""Async facade: systemd calls run on one dedicated thread, never on the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from supervisor.adapters.systemd.client import SystemdClient

T = TypeVar("T")


class SystemdWorker:
    """Owns a SystemdClient and the single thread allowed to use it."""

    def __init__(self, client: SystemdClient) -> None:
        self.client = client
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="systemd")

    async def run(self, fn: Callable[[SystemdClient], T]) -> T:
        """Run ``fn(client)`` on the systemd thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, self.client)

    def shutdown(self) -> None:
        """Close the connection and stop the thread."""
        self._pool.submit(self.client.close)
        self._pool.shutdown(wait=True, cancel_futures=True)
