"""Fixtures shared by the systemd adapter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from supervisor.adapters.systemd.client import SystemdClient
from tests.harness.user_manager import UserManager


@pytest.fixture
def client(at_manager: UserManager) -> Iterator[SystemdClient]:
    """A connected client of the shared private user manager (on its private socket)."""
    c = SystemdClient(user=True)
    c.connect()
    try:
        yield c
    finally:
        c.close()
