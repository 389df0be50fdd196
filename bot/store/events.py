"""The events table: the audit log (who, what, when, why, how long). Mixed into `Store`,
which gives it `db` and `transaction()`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.store.rows import Event, iso, parse_iso


class AuditLog:
    db: sqlite_utils.Database
    transaction: Callable[[], AbstractContextManager[sqlite_utils.Database]]

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
        values = {
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
        }
        with self.transaction() as db:  # plain SQL: sqlite-utils' insert reads the schema each time
            cursor = db.conn.execute(
                f"insert into events ({', '.join(values)}) values ({', '.join('?' * len(values))})",
                list(values.values()),
            )
            return int(cursor.lastrowid or 0)

    def events(
        self,
        *,
        provider: str | None = None,
        app_id: str | None = None,
        since: datetime | None = None,
        actions: tuple[str, ...] = (),
        limit: int = 20,
    ) -> list[Event]:
        clauses, params = [], []
        if provider and app_id:
            clauses.append("provider = ? and app_id = ?")
            params += [provider, app_id]
        if since:
            clauses.append("at >= ?")
            params.append(iso(since))
        if actions:
            clauses.append(f"action in ({', '.join('?' for _ in actions)})")
            params += list(actions)
        rows = self.db["events"].rows_where(" and ".join(clauses) or None, params, order_by="id desc", limit=limit)
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
