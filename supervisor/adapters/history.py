"""History in SQLite (``state_dir/history.sqlite3``): runs, transitions, audit, maintenance.

Written by the daemon after each decision (in a thread), read by the API. Old
rows are pruned after ``history.retention``; the database is backed up online
with SQLite's backup API, keeping the newest ``history.backups`` copies.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supervisor.adapters.sqlite import Database
from supervisor.core.runs import STATS_WINDOW, RunStats
from supervisor.core.times import iso_ts as _iso

#: Columns added after the first release (added in place to an older database).
_ADDED_COLUMNS = {
    "runs": {"failure": "TEXT", "anomaly": "TEXT", "output": "TEXT"},
    "audit": {"count": "INTEGER NOT NULL DEFAULT 1"},
}
RunRow = tuple[
    str, str, str, float | None, float | None, float | None, str, int | None, str, str | None, str | None, str | None
]

#: item, minute (epoch seconds), results, down, degraded, min / avg / max latency (ms, None without answers)
MinuteRow = tuple[str, float, int, int, int, float | None, float | None, float | None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    invocation_id TEXT PRIMARY KEY,
    item TEXT NOT NULL,
    service TEXT NOT NULL,
    started_at REAL,
    ended_at REAL,
    duration_s REAL,
    result TEXT,
    exit_status INTEGER,
    trigger TEXT NOT NULL DEFAULT 'timer',
    failure TEXT,
    anomaly TEXT,
    output TEXT
);
CREATE INDEX IF NOT EXISTS runs_item ON runs (item, ended_at);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item TEXT NOT NULL,
    old TEXT,
    new TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL,
    initial INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_item ON transitions (item, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    item TEXT,
    result TEXT NOT NULL,
    detail TEXT,
    count INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS probe_minutes (
    item TEXT NOT NULL,
    minute REAL NOT NULL,
    results INTEGER NOT NULL,
    down INTEGER NOT NULL,
    degraded INTEGER NOT NULL,
    min_ms REAL,
    avg_ms REAL,
    max_ms REAL,
    PRIMARY KEY (item, minute)
);
CREATE TABLE IF NOT EXISTS maintenance (
    task TEXT PRIMARY KEY,
    last_run REAL NOT NULL,
    result TEXT NOT NULL,
    detail TEXT
);
"""


class History(Database):
    """Short blocking calls; the daemon runs them off the event loop."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        super().__init__(path, SCHEMA, readonly=readonly)
        if not readonly:
            for table, columns in _ADDED_COLUMNS.items():
                have = {r["name"] for r in self._read(f"PRAGMA table_info({table})")}
                with self._tx() as db:
                    for column, kind in columns.items():
                        if column not in have:
                            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _write(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> int:
        with self._tx() as db:
            return db.executemany(sql, rows).rowcount

    # writes ------------------------------------------------------------------------

    def record_runs(self, runs: Iterable[RunRow]) -> int:
        """(id, item, service, started, ended, duration, result, exit_status, trigger, failure, anomaly, output).

        A run is written once; a row for the same id written again (a replayed step) is ignored.
        """
        return self._write(
            "INSERT OR IGNORE INTO runs (invocation_id, item, service, started_at, ended_at, duration_s, result,"
            " exit_status, trigger, failure, anomaly, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            runs,
        )

    def record_transitions(self, rows: Iterable[tuple[str, str | None, str, str, float, bool]]) -> int:
        """(item, old, new, reason, at, initial)."""
        return self._write(
            "INSERT INTO transitions (item, old, new, reason, at, initial) VALUES (?, ?, ?, ?, ?, ?)", rows
        )

    def audit(self, at: float, actor: str, action: str, item: str | None, result: str, detail: str = "") -> int:
        """One audit entry; returns its row id."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO audit (at, actor, action, item, result, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (at, actor, action, item, result, detail),
            )
            return int(cur.lastrowid or 0)

    def audit_count(self, row: int, count: int) -> None:
        """An entry that stands for ``count`` requests (refusals coalesced per window)."""
        self._write("UPDATE audit SET count = ? WHERE id = ?", [(count, row)])

    def record_probe_minutes(self, rows: Iterable[MinuteRow]) -> int:
        """Per-minute aggregates of probe results (a minute written twice keeps the later one)."""
        return self._write("INSERT OR REPLACE INTO probe_minutes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def probe_minutes(self, item: str, since: float) -> list[dict[str, Any]]:
        """An item's probe latencies per minute since ``since``, oldest first."""
        rows = self._read("SELECT * FROM probe_minutes WHERE item = ? AND minute >= ? ORDER BY minute", (item, since))
        return [
            {
                "minute": _iso(r["minute"]),
                "results": r["results"],
                "down": r["down"],
                "degraded": r["degraded"],
                "min_ms": r["min_ms"],
                "avg_ms": r["avg_ms"],
                "max_ms": r["max_ms"],
            }
            for r in rows
        ]

    def maintained(self, task: str, at: float, result: str, detail: str) -> None:
        """Record a maintenance task's last run."""
        self._write("INSERT OR REPLACE INTO maintenance VALUES (?, ?, ?, ?)", [(task, at, result, detail)])

    def prune(self, before: float) -> dict[str, int]:
        """Delete runs, transitions and audit entries older than ``before``."""
        out = {}
        for table, col in (("runs", "ended_at"), ("transitions", "at"), ("audit", "at"), ("probe_minutes", "minute")):
            out[table] = self._write(f"DELETE FROM {table} WHERE {col} < ?", [(before,)])  # noqa: S608 - fixed names
        return out

    def backup(self, directory: Path, keep: int, now: datetime) -> Path:
        """An online copy (SQLite backup API) named by time; keep the newest ``keep``."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"history-{now.strftime('%Y%m%dT%H%M%SZ')}.sqlite3"
        dest = sqlite3.connect(target)
        try:
            with self._lock:
                self._db.backup(dest)
        finally:
            dest.close()
        target.chmod(0o600)
        for old in sorted(directory.glob("history-*.sqlite3"))[:-keep] if keep > 0 else []:
            old.unlink()
        return target

    # reads ---------------------------------------------------------------------------

    def runs(self, item: str | None = None, since: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self._read(
            "SELECT * FROM runs WHERE (? IS NULL OR item = ?) AND (? IS NULL OR ended_at >= ?)"
            " ORDER BY ended_at DESC LIMIT ?",
            (item, item, since, since, limit),
        )
        return [_run_row(r) for r in rows]

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run by its id (with its output)."""
        rows = self._read("SELECT * FROM runs WHERE invocation_id = ?", (run_id,))
        return _run_row(rows[0], output=True) if rows else None

    def stats(self) -> dict[str, RunStats]:
        """Per item: finished runs known, and the durations of the last successful ones (oldest first)."""
        counts = {r["item"]: r["n"] for r in self._read("SELECT item, count(*) AS n FROM runs GROUP BY item")}
        rows = self._read(
            "SELECT item, duration_s FROM (SELECT item, duration_s, ended_at, row_number() OVER"
            " (PARTITION BY item ORDER BY ended_at DESC) AS k FROM runs WHERE result = 'success'"
            " AND failure IS NULL AND duration_s IS NOT NULL) WHERE k <= ? ORDER BY item, ended_at",
            (STATS_WINDOW,),
        )
        durations: dict[str, list[float]] = {}
        for r in rows:
            durations.setdefault(r["item"], []).append(float(r["duration_s"]))
        return {item: RunStats(n, tuple(durations.get(item, ()))) for item, n in counts.items()}

    def transitions(
        self, item: str | None = None, since: float | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self._read(
            "SELECT * FROM transitions WHERE (? IS NULL OR item = ?) AND (? IS NULL OR at >= ?)"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (item, item, since, since, limit),
        )
        return [
            {
                "item": r["item"],
                "from": r["old"],
                "to": r["new"],
                "reason": r["reason"],
                "at": _iso(r["at"]),
                "initial": bool(r["initial"]),
            }
            for r in rows
        ]

    def status_history(self, item: str, since: float) -> list[tuple[datetime, str]]:
        """(at, status) from the last change before ``since`` on, oldest first (for uptime)."""
        rows = self._read(
            "SELECT at, new FROM transitions WHERE item = ? AND at >= coalesce("
            "(SELECT max(at) FROM transitions WHERE item = ? AND at < ?), ?) ORDER BY at, id",
            (item, item, since, since),
        )
        return [(datetime.fromtimestamp(r["at"], UTC), r["new"]) for r in rows]

    def first_seen(self, item: str) -> datetime | None:
        """When the item was first observed (its oldest transition still in the history)."""
        rows = self._read("SELECT min(at) AS at FROM transitions WHERE item = ?", (item,))
        return datetime.fromtimestamp(rows[0]["at"], UTC) if rows and rows[0]["at"] is not None else None

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self._read("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [
            {
                "at": _iso(r["at"]),
                "actor": r["actor"],
                "action": r["action"],
                "item": r["item"],
                "result": r["result"],
                "detail": r["detail"],
                "count": r["count"],
            }
            for r in rows
        ]

    def maintenance(self) -> dict[str, dict[str, Any]]:
        """Last run of every maintenance task."""
        return {
            r["task"]: {"last_run": _iso(r["last_run"]), "result": r["result"], "detail": r["detail"]}
            for r in self._read("SELECT * FROM maintenance")
        }

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {
            t: self._read(f"SELECT count(*) FROM {t}")[0][0]  # noqa: S608 - fixed names
            for t in ("runs", "transitions", "audit")
        }


def _run_row(r: sqlite3.Row, *, output: bool = False) -> dict[str, Any]:
    doc = {
        "id": r["invocation_id"],
        "item": r["item"],
        "service": r["service"],
        "invocation_id": r["invocation_id"],
        "started_at": _iso(r["started_at"]),
        "ended_at": _iso(r["ended_at"]),
        "duration_s": r["duration_s"],
        "result": r["result"],
        "exit_status": r["exit_status"],
        "trigger": r["trigger"],
        "failure": r["failure"],
        "anomaly": r["anomaly"],
        "has_output": r["output"] is not None,
    }
    if output:
        doc["output"] = r["output"]
    return doc
