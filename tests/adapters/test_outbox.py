"""The outbox on a real SQLite file: once per (alert, channel), in order, durable."""

from __future__ import annotations

from pathlib import Path

from supervisor.adapters.outbox import Outbox


def row(i: int, channel: str = "discord") -> tuple[str, str, dict[str, object]]:
    return (f"a{i}", channel, {"id": f"a{i}", "event": "down", "item": "x.timer"})


def test_it_queues_each_alert_once_per_channel(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    assert box.enqueue([row(1), row(1, "email")], 1.0) == 2
    assert box.enqueue([row(1), row(2)], 2.0) == 1  # a replayed step adds nothing twice
    assert box.counts() == {"pending": 3, "sent": 0, "dead": 0}


def test_the_head_is_the_oldest_pending_message(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.enqueue([row(1), row(2), row(3)], 1.0)
    first = box.head("discord")
    assert first is not None and first.alert_id == "a1"
    box.mark_retry(first.seq, "HTTP 500", 99.0)
    again = box.head("discord")
    assert again is not None and (again.alert_id, again.attempts, again.last_error) == ("a1", 1, "HTTP 500")
    box.mark_sent(first.seq, 5.0)
    nxt = box.head("discord")
    assert nxt is not None and nxt.alert_id == "a2"
    box.mark_dead(nxt.seq, "HTTP 404")
    last = box.head("discord")
    assert last is not None and last.alert_id == "a3"


def test_it_survives_reopening_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.enqueue([row(1)], 1.0)
    box.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    reopened = Outbox(path, readonly=True)
    [msg] = reopened.listing("pending")
    assert msg.payload == {"id": "a1", "event": "down", "item": "x.timer"}
