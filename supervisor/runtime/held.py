"""What the supervisor holds between two steps, shared by its parts.

The step replaces the state, the snapshot and the view; a reload replaces the
registry (and what is derived from it); an operator's change replaces the state.
Every part reads what it needs here, and is handed only the collaborators it uses,
never the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from supervisor.config.registry import Registry
from supervisor.core.alerts import AlertPolicy
from supervisor.core.runs import RunStats
from supervisor.core.silences import Window
from supervisor.core.state import State
from supervisor.notifiers.build import alert_policy
from supervisor.runtime.observe import Snapshot
from supervisor.runtime.view import View


@dataclass(slots=True)
class Held:
    """The registry and what derives from it, the state, and the last look and decision."""

    registry: Registry
    alerting: AlertPolicy
    windows: tuple[Window, ...]
    state: State = field(default_factory=State)
    snapshot: Snapshot | None = None  # the last look (None before the first sweep)
    view: View | None = None  # the last decision, published (None before the first step)
    stats: dict[str, RunStats] = field(default_factory=dict)  # each item's run history, as the core needs it

    @classmethod
    def of(cls, registry: Registry) -> Held:
        """What is held before anything was read."""
        return cls(registry, alert_policy(registry), registry.windows())

    def adopt(self, registry: Registry) -> None:
        """A reloaded registry, with the alert semantics and maintenance windows it says."""
        self.registry, self.alerting, self.windows = registry, alert_policy(registry), registry.windows()
