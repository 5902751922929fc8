"""What the outbox and the history share: one SQLite connection, a lock, transactions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: SQLite's own page cache per connection, KiB (its default is 2,000). The files are small and the
#: kernel caches them anyway; with the default, the daemon at 1,000 timers settled about 2 MB higher
#: after 100 failing runs (the latency bench).
CACHE_KIB = 256


class Database:
    """A private (0600) SQLite file in WAL mode; calls are short, blocking and thread-safe."""

    def __init__(self, path: Path, schema: str, *, readonly: bool = False, synchronous: str = "NORMAL") -> None:
        self.path = path
        self._lock = threading.Lock()
        if readonly:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(schema)
            path.chmod(0o600)
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so readers never see half of it)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()
