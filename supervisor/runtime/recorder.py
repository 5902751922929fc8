"""History keeping: every run and transition, and the maintenance of the history itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from supervisor.adapters.history import History
from supervisor.config.registry import Registry
from supervisor.core.model import TimerObservation
from supervisor.core.state import Transition
from supervisor.runtime.observe import Snapshot

log = structlog.get_logger("missionctl.history")

PRUNE_EVERY_S = 3600.0


class Recorder:
    """Writes runs and transitions to the history; prunes and backs it up on schedule."""

    def __init__(self, path: Path) -> None:
        self.history = History(path)
        self._last_run: dict[str, str] = {}  # item -> last recorded invocation id
        self._manual: dict[str, float] = {}  # item -> when a manual run was requested
        self._next_prune = 0.0
        self._next_backup: float | None = None

    def manual_run(self, item: str, at: float) -> None:
        """The next run of ``item`` starting after ``at`` was asked for by a person."""
        self._manual[item] = at

    async def record(self, snapshot: Snapshot, transitions: list[Transition]) -> None:
        """New completed runs (once per invocation) and the step's transitions."""
        runs = []
        for item, obs in snapshot.observations.items():
            if not isinstance(obs, TimerObservation) or obs.service is None:
                continue
            svc = obs.service
            if svc.running or not svc.has_run or not svc.invocation_id or self._last_run.get(item) == svc.invocation_id:
                continue
            self._last_run[item] = svc.invocation_id
            started = svc.started_at.timestamp() if svc.started_at else None
            manual = self._manual.get(item)
            trigger = "manual" if manual is not None and started is not None and started >= manual - 1 else "timer"
            if trigger == "manual":
                self._manual.pop(item, None)
            runs.append(
                (
                    svc.invocation_id,
                    item,
                    svc.name,
                    started,
                    svc.exited_at.timestamp() if svc.exited_at else None,
                    svc.duration_s,
                    svc.result,
                    svc.exit_status,
                    trigger,
                )
            )
        rows = [
            (t.item, t.old.value if t.old else None, t.new.value, t.reason, t.at.timestamp(), t.initial)
            for t in transitions
        ]
        if runs:
            await asyncio.to_thread(self.history.record_runs, runs)
        if rows:
            await asyncio.to_thread(self.history.record_transitions, rows)

    async def maintain(self, registry: Registry, state_dir: Path) -> None:
        """Prune past retention (hourly) and back up (every ``backup_every``), when due."""
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            await self._task("prune", lambda: self._prune(registry.history.retention))
        if self._next_backup is None:
            last = (await asyncio.to_thread(self.history.maintenance)).get("backup")
            last_at = datetime.fromisoformat(last["last_run"].replace("Z", "+00:00")).timestamp() if last else 0.0
            self._next_backup = last_at + registry.history.backup_every
        if now >= self._next_backup and registry.history.backups > 0:
            self._next_backup = now + registry.history.backup_every
            await self._task(
                "backup",
                lambda: str(self.history.backup(state_dir / "backups", registry.history.backups, datetime.now(UTC))),
            )

    def _prune(self, retention_s: float) -> str:
        deleted = self.history.prune(time.time() - retention_s)
        return ", ".join(f"{n} {t}" for t, n in deleted.items()) + " deleted"

    async def _task(self, name: str, work: Callable[[], str]) -> None:
        try:
            detail = await asyncio.to_thread(work)
        except Exception as exc:  # noqa: BLE001 - maintenance failing must not stop supervision
            await asyncio.to_thread(self.history.maintained, name, time.time(), "error", str(exc))
            log.error("maintenance_failed", task=name, error=str(exc))
        else:
            await asyncio.to_thread(self.history.maintained, name, time.time(), "ok", str(detail))
            log.info("maintenance", task=name, detail=str(detail))

    def close(self) -> None:
        """Close the history database."""
        self.history.close()
