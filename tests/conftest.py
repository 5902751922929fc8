"""Fixtures shared by every test that needs a real systemd --user manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.lab import Lab
from tests.harness.user_manager import UserManager


@pytest.fixture(scope="session")
def manager() -> Iterator[UserManager]:
    um = UserManager()
    try:
        um.start()
        yield um
    finally:
        um.stop()


@pytest.fixture
def lab(manager: UserManager, tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(manager, tmp_path)
    try:
        yield lab
    finally:
        lab.cleanup()
