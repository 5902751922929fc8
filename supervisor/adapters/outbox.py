"""The durable alert outbox: SQLite in the state directory.

An alert is inserted (once per channel) before it is sent and before the state
that caused it is saved; ``(alert_id, channel)`` is unique, so a replayed step
cannot queue a message twice. Each row is marked sent right after its delivery,
so a crash re-sends at most the one message that was in flight.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.adapters.sqlite import Database
from supervisor.core.times import iso_ts as _iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    item TEXT,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    sent_at REAL,
    UNIQUE (alert_id, channel)
);
CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (channel, state, seq);
"""


@dataclass(frozen=True, slots=True)
class Message:
    """One row of the outbox."""

    seq: int
    alert_id: str
    channel: str
    event: str
    item: str | None
    payload: dict[str, Any]
    created_at: float
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    sent_at: float | None

    def summary(self) -> dict[str, Any]:
        """The row as the CLI and the API show it (times ISO-8601 UTC)."""
        return {
            "id": self.alert_id,
            "channel": self.channel,
            "event": self.event,
            "item": self.item,
            "state": self.state,
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "sent_at": _iso(self.sent_at),
            "next_attempt_at": _iso(self.next_attempt_at) if self.state == "pending" else None,
            "last_error": self.last_error,
        }


class Outbox(Database):
    """``outbox.sqlite3``; writes are synchronous=FULL: an alert must survive a power cut."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        super().__init__(path, SCHEMA, readonly=readonly, synchronous="FULL")

    def enqueue(self, rows: Iterable[tuple[str, str, dict[str, Any]]], now: float) -> int:
        """Queue ``(alert_id, channel, payload)`` rows in one transaction; returns how many were new."""
        added = 0
        with self._tx() as db:
            for alert_id, channel, payload in rows:
                cur = db.execute(
                    "INSERT OR IGNORE INTO outbox (alert_id, channel, event, item, payload, created_at,"
                    " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (alert_id, channel, payload["event"], payload.get("item"), json.dumps(payload), now, now),
                )
                added += cur.rowcount
        return added

    def head(self, channel: str) -> Message | None:
        """The oldest pending message of a channel (delivery is in order per channel)."""
        rows = self._read(
            "SELECT * FROM outbox WHERE channel = ? AND state = 'pending' ORDER BY seq LIMIT 1", (channel,)
        )
        return _message(rows[0]) if rows else None

    def mark_sent(self, seq: int, now: float) -> None:
        """Record a delivery."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE seq = ?",
                (now, seq),
            )

    def mark_retry(self, seq: int, error: str, next_attempt_at: float) -> None:
        """Record a failed attempt that will be retried."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE seq = ?",
                (error, next_attempt_at, seq),
            )

    def mark_dead(self, seq: int, error: str) -> None:
        """Give up on a message: it stays visible as dead-lettered."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error, seq),
            )

    def counts(self) -> dict[str, int]:
        """Messages per state."""
        rows = self._read("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        return {"pending": 0, "sent": 0, "dead": 0} | {r[0]: r[1] for r in rows}

    def listing(self, state: str | None = None, limit: int = 50) -> list[Message]:
        """Newest first, optionally of one state."""
        query = "SELECT * FROM outbox"
        args: tuple[Any, ...] = ()
        if state:
            query += " WHERE state = ?"
            args = (state,)
        rows = self._read(query + " ORDER BY seq DESC LIMIT ?", (*args, limit))
        return [_message(r) for r in rows]


def _message(row: sqlite3.Row) -> Message:
    return Message(
        seq=row["seq"],
        alert_id=row["alert_id"],
        channel=row["channel"],
        event=row["event"],
        item=row["item"],
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
    )
