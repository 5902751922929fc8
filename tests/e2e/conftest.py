"""One throwaway system-mode systemd ("a fresh VPS") for the whole module, always torn down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.container import Container, container
from tests.harness.receiver import Receiver, receiving


@pytest.fixture(scope="module")
def vps() -> Iterator[Container]:
    with container() as box:
        yield box


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on the host's loopback (the container shares the host's network)."""
    with receiving() as r:
        yield r
