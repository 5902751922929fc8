"""Real peers for the channel tests: an outbox on disk (the HTTP receiver is in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervisor.adapters.outbox import Outbox
from supervisor.config.loader import parse_registry
from supervisor.notifiers.build import build_channels
from supervisor.runtime import delivery
from supervisor.runtime.delivery import Delivery


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries 20x sooner than in production, so retry paths finish in a test's time."""
    monkeypatch.setattr(delivery, "BACKOFF_START_S", 0.05)


async def deliver(
    outbox: Outbox, registry: str, channel: str, rows: list[dict[str, Any]], until: Any, timeout: float = 20.0
) -> None:
    """Queue ``rows`` for ``channel``, run the real delivery worker until ``until()`` holds, stop it."""
    channels = build_channels(parse_registry(registry, "registry.yaml"))
    outbox.enqueue([(p["id"], channel, p) for p in rows], time.time())
    worker = Delivery(outbox, channels)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
        await channels.close()
    assert until(), outbox.listing()
