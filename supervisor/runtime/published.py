"""The read port: what the supervisor publishes for the HTTP layer (``ports.ReadPort``).

Everything here was computed by a step (the view) or is read from a store (the
history, the outbox); a request never triggers a look at systemd. Asking for a
refresh only wakes the loop, which decides again on what it already observed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supervisor.adapters.history import History
from supervisor.adapters.outbox import Outbox
from supervisor.config.registry import Registry
from supervisor.core.state import State
from supervisor.runtime.held import Held
from supervisor.runtime.prober import Prober
from supervisor.runtime.view import View


class Published:
    """The held view and state, the stores, and the probes' figures; nothing that acts."""

    def __init__(
        self,
        held: Held,
        history: History,
        outbox: Outbox,
        prober: Prober,
        wake: Callable[[], None],
        report: Callable[[], dict[str, Any]],
    ) -> None:
        self.held = held
        self.history = history
        self.outbox: Outbox | None = outbox
        self.prober = prober
        self._wake = wake
        self.self_report = report  # the supervisor's own health (in /health and `missionctl status`)

    @property
    def registry(self) -> Registry:
        """The registry in force."""
        return self.held.registry

    @property
    def view(self) -> View | None:
        """The last decision, published (None before the first step)."""
        return self.held.view

    @property
    def state(self) -> State:
        """The state as last decided (or changed by an operator)."""
        return self.held.state

    def request_refresh(self) -> None:
        """Decide again now, on the current observations (the HTTP layer's revalidation).

        Ages and budgets move with time; systemd's own state is kept fresh by signals
        and the periodic resync, so revalidating a view costs no D-Bus call.
        """
        self._wake()

    def probe_report(self, name: str) -> dict[str, Any] | None:
        """A probe's target, settings and recent latencies (for ``/api/items/{name}``)."""
        snapshot = self.held.snapshot
        policy = snapshot.policies.get(name) if snapshot is not None else None
        return self.prober.report(name, policy.probe) if policy is not None and policy.probe is not None else None

    def probe_histograms(self) -> dict[str, tuple[list[int], float]]:
        """Each probe's response-time counts per bucket and their sum (for ``/metrics``)."""
        return self.prober.histograms()
