"""What is held between steps: the registry comes with what derives from it, and only through ``adopt``."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervisor.config.loader import parse_registry
from supervisor.runtime.held import Held

FULL = Path(__file__).parents[1] / "config" / "full_registry.yaml"


def test_a_registry_is_held_with_its_alert_semantics_and_windows_and_replaced_only_whole() -> None:
    full = parse_registry(FULL.read_text(), str(FULL))
    bare = parse_registry("scope: user\nunits: {}\n", "bare.yaml")
    held = Held(bare)
    assert held.windows == () and held.state.items == {} and held.view is None
    held.adopt(full)
    assert held.registry is full
    assert held.windows == full.windows() and len(held.windows) == len(full.maintenance) == 2
    assert held.alerting.host == "vps-1" and held.alerting.confirm == full.alerts.confirm
    with pytest.raises(AttributeError):
        held.registry = bare  # type: ignore[misc]  # would leave the windows and alert semantics behind
    with pytest.raises(AttributeError):
        held.other = 1  # type: ignore[attr-defined]
