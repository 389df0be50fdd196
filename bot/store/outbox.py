"""The outbox: channel notices on their way to Slack, kept in SQLite until Slack takes them,
so that neither an outage nor a restart loses one (bot.slack.outbound posts them, in order).

Its own connection to the database file (the Slack side is built before the store and
writes from its own threads): opened on first use, writes in `BEGIN IMMEDIATE`
transactions. Rows are small JSON payloads; a row is deleted once posted.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.migrations import migrations
from bot.store.rows import iso

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    id: int
    channel: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    """Notices not yet taken by Slack. Thread-safe."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        # an outbox dropped without close() still closes its connection, once it is collected
        weakref.finalize(self, _close_all, self._opened)

    def add(self, channel: str, payload: dict[str, Any], at: datetime) -> int | None:
        """The notice's row; None when the database cannot take it (a full disk): the notice
        is still posted, only a restart before Slack takes it would lose it."""
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "insert into outbox (channel, payload, created_at, attempts) values (?, ?, ?, 0)",
                    [channel, json.dumps(payload, ensure_ascii=False), iso(at)],
                )
                return int(cursor.lastrowid or 0)
        except sqlite3.Error as exc:
            log.warning("outbox.unwritable channel=%s error=%s", channel, exc)
            return None

    def pending(self) -> list[Pending]:
        """Every notice not yet posted, oldest first (none when the database cannot be read)."""
        query = "select id, channel, payload, attempts from outbox order by id"
        try:
            with self._lock:
                rows = self._connection().execute(query).fetchall()
        except sqlite3.Error as exc:
            log.warning("outbox.unreadable error=%s", exc)
            return []
        return [Pending(row[0], row[1], json.loads(row[2]), row[3]) for row in rows]

    def posted(self, row_id: int) -> None:
        self._change("delete from outbox where id = ?", [row_id])

    def failed(self, row_id: int, error: str) -> None:
        self._change("update outbox set attempts = attempts + 1, last_error = ? where id = ?", [error, row_id])

    def _change(self, sql: str, values: list[Any]) -> None:
        """Bookkeeping of a notice already queued: a database that cannot take it is logged,
        never raised into the sending (the notice goes out all the same)."""
        try:
            with self._write() as conn:
                conn.execute(sql, values)
        except sqlite3.Error as exc:
            log.warning("outbox.unwritable error=%s", exc)

    def close(self) -> None:
        with self._lock:
            _close_all(self._opened)
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            migrations.apply(sqlite_utils.Database(conn, execute_plugins=False))  # a no-op once the store ran them
            self._conn = conn
            self._opened.append(conn)
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def _close_all(connections: list[sqlite3.Connection]) -> None:
    for conn in connections:
        conn.close()
    connections.clear()
