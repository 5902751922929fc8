"""History on a real SQLite file: runs once per invocation, retention pruning, online backups."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supervisor.adapters.history import History
from supervisor.core.uptime import uptime

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def run(inv: str, ended: datetime, item: str = "a.timer", took: float = 2.0, failure: str | None = None) -> tuple:  # type: ignore[type-arg]
    t = ended.timestamp()
    result = "exit-code" if failure else "success"
    return (inv, item, "a.service", t - took, t, took, result, 1 if failure else 0, "timer", failure, None, failure)


def test_a_run_keeps_its_verdict_and_output(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    h.record_runs([run("bad", NOW, failure="exit-code, exit status 1")])
    [row] = h.runs("a.timer")
    assert (row["failure"], row["has_output"]) == ("exit-code, exit status 1", True) and "output" not in row
    one = h.run("bad")
    assert one is not None and one["output"] == "exit-code, exit status 1"
    assert h.run("nope") is None


def test_stats_count_runs_and_keep_the_last_successful_durations(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    rows = [run(f"r{i}", NOW - timedelta(minutes=60 - i), took=float(i)) for i in range(1, 61)]
    h.record_runs([*rows, run("f", NOW, failure="exit-code, exit status 1"), run("b1", NOW, item="b.timer")])
    stats = h.stats()
    assert stats["a.timer"].finished == 61 and stats["b.timer"].finished == 1
    assert stats["a.timer"].durations == tuple(float(i) for i in range(11, 61))  # the newest 50, oldest first


def test_an_older_history_gains_the_new_columns_in_place(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE runs (invocation_id TEXT PRIMARY KEY, item TEXT NOT NULL, service TEXT NOT NULL,"
        " started_at REAL, ended_at REAL, duration_s REAL, result TEXT, exit_status INTEGER,"
        " trigger TEXT NOT NULL DEFAULT 'timer')"
    )
    db.execute("INSERT INTO runs VALUES ('old', 'a.timer', 'a.service', 1, 2, 1.0, 'success', 0, 'timer')")
    db.commit()
    db.close()
    h = History(path)
    h.record_runs([run("new", NOW)])
    assert [r["id"] for r in h.runs("a.timer")] == ["new", "old"]


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
    h.record_probe_minutes(
        [("site", old.timestamp(), 2, 0, 0, 5.0, 6.0, 7.0), ("site", new.timestamp(), 2, 1, 0, 5.0, 5.0, 5.0)]
    )
    deleted = h.prune((NOW - timedelta(days=30)).timestamp())
    assert deleted == {"runs": 1, "transitions": 1, "audit": 1, "probe_minutes": 1}
    assert [m["down"] for m in h.probe_minutes("site", 0)] == [1]
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
