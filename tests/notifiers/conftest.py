"""Real peers for the channel tests: an outbox on disk (the HTTP receiver is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.adapters.outbox import Outbox
from supervisor.runtime import delivery


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
