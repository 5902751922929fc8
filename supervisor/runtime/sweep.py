"""One-shot sweeps for the CLI: observe, decide, optionally restart (``check --fix``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from supervisor.adapters.history import History
from supervisor.adapters.statefile import StateStore
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import SystemdError
from supervisor.config.registry import Registry
from supervisor.core.decide import Decision, Restart, Stop, decide
from supervisor.core.runs import RunStats
from supervisor.runtime.observe import Snapshot, observe_all


@dataclass(frozen=True)
class SweepResult:
    """A snapshot, the decision taken on it, and restart outcomes."""

    snapshot: Snapshot
    decision: Decision
    restart_errors: dict[str, str]


def run_stats(state_dir: Path) -> dict[str, RunStats]:
    """The items' run history from the daemon's history database (none yet: empty)."""
    path = state_dir / "history.sqlite3"
    if not path.exists():
        return {}
    try:
        history = History(path, readonly=True)
    except sqlite3.Error:
        return {}
    try:
        return history.stats()
    except sqlite3.Error:
        return {}
    finally:
        history.close()


def sweep(client: SystemdClient, registry: Registry, store: StateStore, *, fix: bool) -> SweepResult:
    """Observe everything once and decide; with ``fix`` persist and run restarts."""
    state = store.load() if fix else store.peek()
    snapshot = observe_all(client, registry)
    if fix:  # a person asked for the fix now: no settle delay before restarting what is dead or down
        snapshot = replace(
            snapshot,
            policies={n: replace(p, restart=replace(p.restart, after_s=0)) for n, p in snapshot.policies.items()},
        )
    now = datetime.now(UTC)
    stats = run_stats(registry.state_dir)
    decision = decide(
        snapshot.policies, snapshot.observations, state, now, act=fix, stats=stats, windows=registry.windows()
    )
    errors: dict[str, str] = {}
    if fix:
        store.save(decision.state)  # persist the attempts before acting
        for action in decision.actions:
            if not isinstance(action, Restart | Stop):
                continue
            try:
                if isinstance(action, Restart):
                    client.restart_unit(action.unit)
                else:
                    client.stop_unit(action.unit)
            except SystemdError as exc:
                errors[action.unit] = str(exc)
    return SweepResult(snapshot, decision, errors)
