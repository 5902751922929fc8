"""History keeping: every run and transition, and the maintenance of the history itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from supervisor.adapters.history import History, MinuteRow, RunRow
from supervisor.config.registry import Registry
from supervisor.core.decide import Decision
from supervisor.core.runs import RunFinished, RunStats
from supervisor.core.times import parse

log = structlog.get_logger("missionctl.history")

PRUNE_EVERY_S = 3600.0


class Recorder:
    """Writes the core's facts (finished runs, transitions) to the history; prunes and backs it up."""

    def __init__(self, path: Path) -> None:
        self.history = History(path)
        self._next_prune = 0.0
        self._next_backup: float | None = None

    async def stats(self) -> dict[str, RunStats]:
        """Every item's run history, as the core needs it (read once at start-up)."""
        return await asyncio.to_thread(self.history.stats)

    async def record(
        self, decision: Decision, outputs: Mapping[str, str], probe_minutes: Sequence[MinuteRow] = ()
    ) -> None:
        """The step's finished runs (once per run, with their excerpts), transitions and probe latencies."""
        runs: list[RunRow] = []
        for fact in decision.runs:
            run = fact.run
            if isinstance(fact, RunFinished):  # a hung run's excerpt stays with it until it ends
                runs.append(
                    (
                        run.id,
                        fact.item,
                        fact.service,
                        run.started_at.timestamp() if run.started_at else None,
                        run.finished_at.timestamp() if run.finished_at else None,
                        run.duration_s,
                        run.result,
                        run.exit_status,
                        run.trigger.value,
                        run.failure,
                        run.anomaly,
                        outputs.get(run.id, run.output),
                    )
                )
        rows = [
            (t.item, t.old.value if t.old else None, t.new.value, t.reason, t.at.timestamp(), t.initial)
            for t in decision.transitions
        ]
        if runs:
            await asyncio.to_thread(self.history.record_runs, runs)
        if rows:
            await asyncio.to_thread(self.history.record_transitions, rows)
        if probe_minutes:
            await asyncio.to_thread(self.history.record_probe_minutes, probe_minutes)

    async def maintain(self, registry: Registry, state_dir: Path) -> None:
        """Prune past retention (hourly) and back up (every ``backup_every``), when due."""
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            await self._task("prune", lambda: self._prune(registry.history.retention))
        if self._next_backup is None:
            last = (await asyncio.to_thread(self.history.maintenance)).get("backup")
            moment = parse(last["last_run"]) if last else None
            last_at = moment.timestamp() if moment else 0.0
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
