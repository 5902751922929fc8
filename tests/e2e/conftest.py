"""One throwaway system-mode systemd ("a fresh VPS") for the whole module, always torn down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.container import Container
from tests.harness.receiver import Receiver


@pytest.fixture(scope="module")
def vps() -> Iterator[Container]:
    box = Container()
    try:
        box.start()
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on the host's loopback (the container shares the host's network)."""
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()
