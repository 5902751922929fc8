"""One-shot sweeps for the CLI: observe, decide, optionally restart (``check --fix``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from supervisor.adapters.statefile import StateStore
from supervisor.adapters.systemd.client import SystemdClient, SystemdError
from supervisor.config.registry import Registry
from supervisor.core.decide import Decision, Restart, decide
from supervisor.runtime.observe import Snapshot, observe_all


@dataclass(frozen=True)
class SweepResult:
    """A snapshot, the decision taken on it, and restart outcomes."""

    snapshot: Snapshot
    decision: Decision
    restart_errors: dict[str, str]


def sweep(client: SystemdClient, registry: Registry, store: StateStore, *, fix: bool) -> SweepResult:
    """Observe everything once and decide; with ``fix`` persist and run restarts."""
    state = store.load() if fix else store.peek()
    snapshot = observe_all(client, registry)
    now = datetime.now(UTC)
    decision = decide(snapshot.policies, snapshot.observations, state, now, act=fix)
    errors: dict[str, str] = {}
    if fix:
        store.save(decision.state)  # persist the attempts before acting
        for action in decision.actions:
            if isinstance(action, Restart):
                try:
                    client.restart_unit(action.unit)
                except SystemdError as exc:
                    errors[action.unit] = str(exc)
    return SweepResult(snapshot, decision, errors)
