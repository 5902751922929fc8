"""Fixtures shared by every test that needs a real systemd --user manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.lab import Lab
from tests.harness.receiver import Receiver, receiving
from tests.harness.user_manager import UserManager, user_manager


@pytest.fixture(scope="session")
def manager() -> Iterator[UserManager]:
    with user_manager() as um:
        yield um


@pytest.fixture
def at_manager(manager: UserManager, monkeypatch: pytest.MonkeyPatch) -> UserManager:
    """This process's systemd clients (pystemd) reach the shared private manager."""
    for key in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "HOME"):
        monkeypatch.setenv(key, manager.env[key])
    return manager


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on loopback standing in for Discord and webhook endpoints."""
    with receiving() as r:
        yield r


@pytest.fixture
def lab(manager: UserManager, tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(manager, tmp_path)
    try:
        yield lab
    finally:
        lab.cleanup()
