"""The safe first run, as the store keeps it: whether Paastis was started (it acts only then,
unless PAASTIS_DRY_RUN says otherwise), by whom, and when the plan was posted (once).
One row; mixed into `Store`, which gives it `database` and `transaction()`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Database, Tx
from bot.store.rows import iso, parse_iso


@dataclass(frozen=True)
class FirstRunState:
    started_at: datetime | None = None
    started_by: str | None = None
    plan_posted_at: datetime | None = None

    @property
    def started(self) -> bool:
        return self.started_at is not None


class FirstRun:
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    def first_run(self) -> FirstRunState:
        row = self.database.one("select * from first_run where id = 1")
        if not row:
            return FirstRunState()
        return FirstRunState(parse_iso(row["started_at"]), row["started_by"], parse_iso(row["plan_posted_at"]))

    def mark_started(self, at: datetime, by: str) -> bool:
        """Start Paastis; False when it was started already (the first start is kept)."""
        return self._set_once("started_at", at, {"started_by": by})

    def mark_plan_posted(self, at: datetime) -> bool:
        """Claim the plan's one posting; False when it was posted already (here or by another process)."""
        return self._set_once("plan_posted_at", at, {})

    def _set_once(self, column: str, at: datetime, more: dict[str, str]) -> bool:
        with self.transaction() as tx:
            tx.execute("INSERT INTO first_run (id) VALUES (1) ON CONFLICT DO NOTHING")
            assignments = "".join(f", {key} = :{key}" for key in more)  # column names are fixed here
            cursor = tx.execute(
                f"UPDATE first_run SET {column} = :at{assignments} WHERE id = 1 AND {column} IS NULL",
                {"at": iso(at), **more},
            )
            return cursor.rowcount == 1
