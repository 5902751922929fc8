"""What the supervisor holds between two steps, shared by its parts.

The step replaces the state, the snapshot and the view; a reload replaces the
registry (and what is derived from it); an operator's change replaces the state.
Every part reads what it needs here, and is handed only the collaborators it uses,
never the daemon.
"""

from __future__ import annotations

from supervisor.config.registry import Registry
from supervisor.core.alerts import AlertPolicy
from supervisor.core.runs import RunStats
from supervisor.core.silences import Window
from supervisor.core.state import State
from supervisor.notifiers.build import alert_policy
from supervisor.runtime.observe import Snapshot
from supervisor.runtime.view import View


class Held:
    """The registry and what derives from it, the state, and the last look and decision."""

    __slots__ = ("_registry", "alerting", "snapshot", "state", "stats", "view", "windows")

    def __init__(self, registry: Registry) -> None:
        self.adopt(registry)
        self.state = State()
        self.snapshot: Snapshot | None = None  # the last look (None before the first sweep)
        self.view: View | None = None  # the last decision, published (None before the first step)
        self.stats: dict[str, RunStats] = {}  # each item's run history, as the core needs it

    @property
    def registry(self) -> Registry:
        """The registry in force (replaced only through ``adopt``, with what derives from it)."""
        return self._registry

    def adopt(self, registry: Registry) -> None:
        """A registry, with the alert semantics and maintenance windows it says (read once, not per step)."""
        self._registry = registry
        self.alerting: AlertPolicy = alert_policy(registry)
        self.windows: tuple[Window, ...] = registry.windows()
