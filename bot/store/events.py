"""The events table: the audit log (who, what, when, why, how long). Mixed into `Store`,
which gives it `database` and `transaction()`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from bot.store.database import Database, Tx
from bot.store.rows import Event, iso, parse_iso
from bot.store.statements import one_of


class AuditLog:
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    def add_event(
        self,
        *,
        at: datetime,
        action: str,
        actor: str,
        actor_name: str = "",
        provider: str | None = None,
        app_id: str | None = None,
        app_name: str | None = None,
        outcome: str = "ok",
        reason: str | None = None,
        duration: timedelta | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        with self.transaction() as tx:
            return tx.insert(
                "events",
                {
                    "at": iso(at),
                    "provider": provider,
                    "app_id": app_id,
                    "app_name": app_name,
                    "action": action,
                    "outcome": outcome,
                    "actor": actor,
                    "actor_name": actor_name,
                    "reason": reason,
                    "duration_ms": int(duration.total_seconds() * 1000) if duration is not None else None,
                    "details": json.dumps(dict(details or {}), default=str),
                },
                returning="id",
            )

    def events(
        self,
        *,
        provider: str | None = None,
        app_id: str | None = None,
        since: datetime | None = None,
        actions: tuple[str, ...] = (),
        limit: int = 20,
    ) -> list[Event]:
        clauses, params = [], {"limit": limit}
        if provider and app_id:
            clauses.append("provider = :provider and app_id = :app_id")
            params |= {"provider": provider, "app_id": app_id}
        if since:
            clauses.append("at >= :since")
            params["since"] = iso(since)
        if actions:
            among, named = one_of("action", actions)
            clauses.append(f"action in {among}")
            params |= named
        where = f"where {' and '.join(clauses)}" if clauses else ""
        rows = self.database.rows(f"select * from events {where} order by id desc limit :limit", **params)
        return [
            Event(
                r["id"],
                parse_iso(r["at"]),
                r["provider"],
                r["app_id"],
                r["app_name"],
                r["action"],
                r["outcome"],
                r["actor"],
                r["actor_name"],
                r["reason"],
                r["duration_ms"],
                json.loads(r["details"] or "{}"),
            )
            for r in rows
        ]
