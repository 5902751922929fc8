"""History on a real SQLite file: runs once per invocation, retention pruning, online backups."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supervisor.adapters.history import History
from supervisor.core.uptime import uptime

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def run(inv: str, ended: datetime, item: str = "a.timer") -> tuple:  # type: ignore[type-arg]
    t = ended.timestamp()
    return (inv, item, "a.service", t - 2, t, 2.0, "success", 0, "timer")


def test_a_run_is_recorded_once(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    assert h.record_runs([run("i1", NOW)]) == 1
    assert h.record_runs([run("i1", NOW), run("i2", NOW)]) == 1
    assert sorted(r["invocation_id"] for r in h.runs("a.timer")) == ["i1", "i2"]


def test_retention_deletes_only_old_rows(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    old, new = NOW - timedelta(days=31), NOW - timedelta(days=29)
    h.record_runs([run("old", old), run("new", new)])
    h.record_transitions(
        [
            ("a.timer", "ok", "stale", "r", old.timestamp(), False),
            ("a.timer", "stale", "ok", "r", new.timestamp(), False),
        ]
    )
    h.audit(old.timestamp(), "token@x", "run", "a.timer", "ok")
    h.audit(new.timestamp(), "token@x", "run", "a.timer", "ok")
    deleted = h.prune((NOW - timedelta(days=30)).timestamp())
    assert deleted == {"runs": 1, "transitions": 1, "audit": 1}
    assert [r["invocation_id"] for r in h.runs()] == ["new"]
    assert [t["to"] for t in h.transitions()] == ["ok"]
    assert len(h.audit_log()) == 1


def test_backups_are_complete_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    h.record_runs([run("i1", NOW)])
    for i in range(4):
        h.backup(tmp_path / "backups", keep=3, now=NOW + timedelta(days=i))
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert kept == [
        "history-20261123T120000Z.sqlite3",
        "history-20261124T120000Z.sqlite3",
        "history-20261125T120000Z.sqlite3",
    ]
    copy = sqlite3.connect(tmp_path / "backups" / kept[-1])
    assert copy.execute("SELECT invocation_id FROM runs").fetchall() == [("i1",)]


def test_uptime_comes_from_the_status_history(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    start = NOW - timedelta(hours=24)
    h.record_transitions(
        [
            ("a.timer", None, "ok", "", (start - timedelta(hours=5)).timestamp(), True),  # before the window
            ("a.timer", "ok", "stale", "", (start + timedelta(hours=6)).timestamp(), False),
            ("a.timer", "stale", "ok", "", (start + timedelta(hours=12)).timestamp(), False),
        ]
    )
    history = h.status_history("a.timer", start.timestamp())
    assert uptime(history, start, NOW) == 75.0
    assert uptime([], start, NOW) is None
    paused = [(start, "ok"), (start + timedelta(hours=12), "paused")]
    assert uptime(paused, start, NOW) == 100.0
