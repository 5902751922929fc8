"""Real peers for the channel tests: HTTP receivers on loopback, an outbox on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.adapters.outbox import Outbox
from supervisor.runtime import delivery
from tests.harness.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


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
