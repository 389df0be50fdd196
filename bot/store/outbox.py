"""The outbox: channel notices on their way to Slack, kept in the database until Slack takes
them, so that neither an outage nor a restart loses one (bot.slack.outbound posts them, in order).

Its own engine on the database (the Slack side is built before the store and writes from
its own threads): opened on first use, writes in the store's write transactions
(bot/store/database.py). Rows are small JSON payloads; a row is deleted once posted.

Each row names its owner, the process that posts it. With several instances on one
database, one that starts takes over only the rows of processes that are gone
(bot/store/liveness.py), in one write transaction: a notice another instance is about to
post is never posted twice. That transaction holds the store's one write lock (an advisory
lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so two instances taking over at once are
serialised: a `FOR UPDATE SKIP LOCKED` would add nothing under it. A process that never
posts (`paastis proxy`: `sends=False`) leaves its rows nobody's, for the leading `serve` to
take at its next look (every 10 s).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.store import migrations
from bot.store.database import Database, Location, problem_of
from bot.store.files import StoreUnusable
from bot.store.liveness import new_owner, owner_alive, release_owner
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

    def __init__(self, where: Path | str | Location, *, sends: bool = True) -> None:
        self.where = where
        self.owner = new_owner()
        self.sends = sends
        self._database: Database | None = None
        self._lock = threading.Lock()

    def add(self, channel: str, payload: dict[str, Any], at: datetime) -> int | None:
        """The notice's row; None when the database cannot take it (a full disk): the notice
        is still posted, only a restart before Slack takes it would lose it."""
        values = {"channel": channel, "payload": json.dumps(payload, ensure_ascii=False), "created_at": iso(at)}
        try:
            with self._db().transaction() as tx:
                return int(
                    tx.insert(
                        "outbox", {**values, "attempts": 0, "owner": self.owner if self.sends else None}, returning="id"
                    )
                )
        except (SQLAlchemyError, StoreUnusable) as exc:
            log.warning("outbox.unwritable channel=%s error=%s", channel, problem_of(exc))
            return None

    def pending(self) -> list[Pending]:
        """Every notice not yet posted, whoever posts it, oldest first (to look at)."""
        rows = self._db().rows("select id, channel, payload, attempts from outbox order by id")
        return [Pending(r["id"], r["channel"], json.loads(r["payload"]), r["attempts"]) for r in rows]

    def take_pending(self, at: datetime) -> list[Pending]:
        """The notices of processes that are gone (a stopped Paastis, a killed instance), made
        ours, oldest first; none when the database cannot be read."""
        try:
            with self._db().transaction() as tx:
                rows = tx.rows("select id, channel, payload, attempts, owner from outbox order by id")
                taken = [r for r in rows if r["owner"] != self.owner and not owner_alive(tx, r["owner"], None, at)]
                ids = [{"id": r["id"], "me": self.owner} for r in taken]
                if ids:
                    tx.execute("update outbox set owner = :me where id = :id", ids)
        except (SQLAlchemyError, StoreUnusable) as exc:
            log.warning("outbox.unreadable error=%s", problem_of(exc))
            return []
        return [Pending(r["id"], r["channel"], json.loads(r["payload"]), r["attempts"]) for r in taken]

    def posted(self, row_id: int) -> None:
        self._change("delete from outbox where id = :id", {"id": row_id})

    def failed(self, row_id: int, error: str) -> None:
        self._change(
            "update outbox set attempts = attempts + 1, last_error = :error where id = :id",
            {"error": error, "id": row_id},
        )

    def _change(self, sql: str, values: dict[str, Any]) -> None:
        """Bookkeeping of a notice already queued: a database that cannot take it is logged,
        never raised into the sending (the notice goes out all the same)."""
        try:
            with self._db().transaction() as tx:
                tx.execute(sql, values)
        except (SQLAlchemyError, StoreUnusable) as exc:
            log.warning("outbox.unwritable error=%s", problem_of(exc))

    def close(self) -> None:
        release_owner(self.owner)
        with self._lock:
            if self._database is not None:
                self._database.close()
            self._database = None

    def _db(self) -> Database:
        with self._lock:
            if self._database is None:
                database = Database(self.where)
                try:
                    migrations.apply(database)  # a no-op once the store ran them
                except BaseException:
                    database.close()
                    raise
                self._database = database
            return self._database
