"""The SQLite store: apps, their activity, recorded formations, pins, naps, in-flight wakes
and the events table that is the audit log.

One connection per thread (Bolt listeners, scheduler jobs and wake workers each have
theirs), WAL journal, writes serialised by one lock and wrapped in transactions, schema
versioned with sqlite-utils migrations (bot/store/migrations.py). Timestamps are ISO-8601 UTC text.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.migrations import migrations
from bot.store.rows import AppRow, Event, InFlightWake, Keep, Nap, iso, parse_iso
from providers.base import AppState, Formation, PaasApp

__all__ = ["AppRow", "Event", "InFlightWake", "Keep", "Nap", "Store"]


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self.db
        db.enable_wal()
        with self._write_lock:
            migrations.apply(db)

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            db = sqlite_utils.Database(conn, execute_plugins=False)
            self._local.db = db
            with self._write_lock:
                self._connections.append(conn)
        return db

    def close(self) -> None:
        with self._write_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.ProgrammingError):  # a connection of a thread that is gone
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        db = self.db
        with self._write_lock, db.atomic():
            yield db

    # -- apps ----------------------------------------------------------------------------
    def sync_apps(
        self, provider: str, apps: list[PaasApp], now: datetime, *, hold_state: frozenset[str] = frozenset()
    ) -> list[AppRow]:
        """Record what a provider listed: new apps appear, changed states update, missing
        apps are marked gone. The state of apps in `hold_state` (being woken) is left as
        it is; an app found running again (a deploy, the console) ends its nap. Returns the apps
        seen for the first time. Only what changed is written."""
        columns = ("app_id", "name", "state", "url", "problem", "formation", "last_deploy_at", "gone")
        stamp = iso(now)
        with self.transaction() as db:
            cursor = db.execute(f"select {', '.join(columns)} from apps where provider = ?", [provider])
            known = {row[0]: dict(zip(columns, row, strict=False)) for row in cursor.fetchall()}
            inserts, updates, restarted = [], [], []
            for app in apps:
                row = known.get(app.id)
                values: dict[str, Any] = {
                    "name": app.name,
                    "state": app.state.value,
                    "url": app.url,
                    "problem": app.problem,
                }
                if app.formation is not None:
                    values["formation"] = app.formation.to_json()
                if app.last_deployed_at:
                    previous = parse_iso(row["last_deploy_at"]) if row else None
                    if previous is None or app.last_deployed_at > previous:
                        values["last_deploy_at"] = iso(app.last_deployed_at)
                if row is None:
                    values.update(provider=provider, app_id=app.id, first_seen=stamp, last_seen=stamp, gone=0)
                    if app.state is AppState.RUNNING:
                        values["awake_since"] = stamp
                    inserts.append(values)
                    continue
                if app.id in hold_state:
                    del values["state"], values["problem"]
                elif app.state is AppState.RUNNING and row["state"] != AppState.RUNNING.value:
                    values["awake_since"] = stamp
                    restarted.append((stamp, provider, app.id))  # started outside Paastis: its nap ends
                changed = {k: v for k, v in values.items() if row.get(k, v) != v or k == "awake_since"}
                if row["gone"]:
                    changed["gone"] = 0
                if changed:
                    updates.append((app.id, changed))
            if inserts:
                db["apps"].insert_all(inserts, alter=False)
            for app_id, changed in updates:
                assignments = ", ".join(f"{k} = ?" for k in changed)
                db.execute(
                    f"update apps set {assignments} where provider = ? and app_id = ?",
                    [*changed.values(), provider, app_id],
                )
            db.execute("update apps set last_seen = ? where provider = ?", [stamp, provider])
            db.conn.executemany("update naps set end = ? where provider = ? and app_id = ? and end is null", restarted)
            listed = {app.id for app in apps}
            gone = [(provider, app_id) for app_id, row in known.items() if app_id not in listed and not row["gone"]]
            db.conn.executemany("update apps set gone = 1 where provider = ? and app_id = ?", gone)
        return [self.app(provider, values["app_id"]) for values in inserts]

    def app(self, provider: str, app_id: str) -> AppRow | None:
        rows = list(self.db["apps"].rows_where("provider = ? and app_id = ?", [provider, app_id]))
        return AppRow.from_row(rows[0]) if rows else None

    def apps(self, *, include_gone: bool = False) -> list[AppRow]:
        where = "" if include_gone else "where gone = 0"
        cursor = self.db.execute(f"select * from apps {where} order by provider, name")
        names = [d[0] for d in cursor.description]
        return [AppRow.from_row(dict(zip(names, values, strict=False))) for values in cursor.fetchall()]

    def update_app(self, provider: str, app_id: str, **values: Any) -> None:
        converted = {k: _column(v) for k, v in values.items()}
        with self.transaction() as db:
            db["apps"].update((provider, app_id), converted)

    def set_state(self, provider: str, app_id: str, state: AppState, now: datetime, problem: str | None = None) -> None:
        with self.transaction() as db:
            row = db["apps"].get((provider, app_id))
            values: dict[str, Any] = {"state": state.value, "problem": problem}
            if state is AppState.RUNNING and row["state"] != AppState.RUNNING.value:
                values["awake_since"] = iso(now)
            db["apps"].update((provider, app_id), values)

    # -- activity ------------------------------------------------------------------------
    def record_activity(
        self,
        provider: str,
        app_id: str,
        *,
        at: datetime,
        since: datetime,
        until: datetime,
        requests: int,
        last_request_at: datetime | None,
        last_deploy_at: datetime | None,
    ) -> None:
        """A successful observation. With no request in the window, the app has been idle
        at least since the window's start: that is the newest request we can vouch for."""
        with self.transaction() as db:
            row = db["apps"].get((provider, app_id))
            previous = parse_iso(row.get("last_request_at"))
            previous_check = parse_iso(row.get("checked_at"))
            if last_request_at is not None:
                newest = max(last_request_at, previous) if previous else last_request_at
            elif previous_check is not None and previous_check >= since and previous is not None:
                newest = previous  # this window continues what we saw: nothing new
            else:
                # a gap in what we observed: a request may have come just before the window
                newest = max(since, previous) if previous else since
            values: dict[str, Any] = {
                "last_request_at": iso(newest),
                "checked_at": iso(until),
                "check_error": None,
                "check_failed_at": None,
            }
            if last_deploy_at:
                previous_deploy = parse_iso(row.get("last_deploy_at"))
                if previous_deploy is None or last_deploy_at > previous_deploy:
                    values["last_deploy_at"] = iso(last_deploy_at)
            db["apps"].update((provider, app_id), values)
            db["activity"].insert(
                {
                    "provider": provider,
                    "app_id": app_id,
                    "at": iso(at),
                    "since": iso(since),
                    "until": iso(until),
                    "requests": requests,
                    "last_request_at": iso(last_request_at),
                }
            )

    def record_check_failure(self, provider: str, app_id: str, error: str, at: datetime) -> None:
        with self.transaction() as db:
            row = db["apps"].get((provider, app_id))
            db["apps"].update(
                (provider, app_id),
                {"check_error": error, "check_failed_at": row.get("check_failed_at") or iso(at)},
            )

    def prune_activity(self, older_than: datetime) -> int:
        with self.transaction() as db:
            cursor = db.execute("delete from activity where at < ?", [iso(older_than)])
            return cursor.rowcount

    # -- formations and naps -------------------------------------------------------------
    def record_formation(self, provider: str, app_id: str, formation: Formation, at: datetime) -> None:
        if not formation.running:
            return  # never overwrite what to restore with "nothing"
        self.update_app(provider, app_id, recorded_formation=formation.to_json(), recorded_at=iso(at))

    def begin_nap(self, provider: str, app_id: str, at: datetime, formation: Formation | None) -> None:
        with self.transaction() as db:
            open_naps = list(db["naps"].rows_where("provider = ? and app_id = ? and end is null", [provider, app_id]))
            if not open_naps:
                db["naps"].insert(
                    {
                        "provider": provider,
                        "app_id": app_id,
                        "start": iso(at),
                        "end": None,
                        "formation": formation.to_json() if formation else None,
                    }
                )

    def end_nap(self, provider: str, app_id: str, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "update naps set end = ? where provider = ? and app_id = ? and end is null", [iso(at), provider, app_id]
            )

    def naps(self, since: datetime) -> list[Nap]:
        rows = self.db["naps"].rows_where("end is null or end > ?", [iso(since)], order_by="start")
        return [
            Nap(
                r["provider"],
                r["app_id"],
                parse_iso(r["start"]),
                parse_iso(r["end"]),
                Formation.from_json(r["formation"]) if r["formation"] else None,
            )
            for r in rows
        ]

    # -- pins (keep awake) ---------------------------------------------------------------
    def set_keep(self, provider: str, app_id: str, keep: Keep) -> None:
        with self.transaction() as db:
            db["keeps"].upsert(
                {
                    "provider": provider,
                    "app_id": app_id,
                    "until": iso(keep.until),
                    "by": keep.by,
                    "by_name": keep.by_name,
                    "reason": keep.reason,
                    "created_at": iso(keep.created_at),
                },
                pk=("provider", "app_id"),
            )

    def drop_keep(self, provider: str, app_id: str) -> bool:
        with self.transaction() as db:
            return db.execute("delete from keeps where provider = ? and app_id = ?", [provider, app_id]).rowcount > 0

    def keeps(self, now: datetime) -> dict[tuple[str, str], Keep]:
        rows = self.db["keeps"].rows_where("until > ?", [iso(now)])
        return {
            (r["provider"], r["app_id"]): Keep(
                parse_iso(r["until"]), r["by"], r["by_name"], r["reason"], parse_iso(r["created_at"])
            )
            for r in rows
        }

    # -- wakes in flight -----------------------------------------------------------------
    def begin_wake(self, wake: InFlightWake) -> None:
        with self.transaction() as db:
            db["wakes"].upsert(
                {
                    "provider": wake.provider,
                    "app_id": wake.app_id,
                    "started_at": iso(wake.started_at),
                    "actor": wake.actor,
                    "actor_name": wake.actor_name,
                    "context": json.dumps(wake.context),
                },
                pk=("provider", "app_id"),
            )

    def end_wake(self, provider: str, app_id: str) -> None:
        with self.transaction() as db:
            db.execute("delete from wakes where provider = ? and app_id = ?", [provider, app_id])

    def wakes_in_flight(self) -> list[InFlightWake]:
        return [
            InFlightWake(
                r["provider"],
                r["app_id"],
                parse_iso(r["started_at"]),
                r["actor"],
                r["actor_name"],
                json.loads(r["context"] or "{}"),
            )
            for r in self.db["wakes"].rows
        ]

    # -- provider health -----------------------------------------------------------------
    def provider_failed(self, provider: str, error: str, at: datetime) -> dict[str, Any]:
        """Record a failure; returns the health row (failing_since, notified_at)."""
        with self.transaction() as db:
            row = next(iter(db["provider_health"].rows_where("provider = ?", [provider])), None)
            values = {
                "provider": provider,
                "ok": 0,
                "error": error,
                "failing_since": (row or {}).get("failing_since") or iso(at),
            }
            if row and row["ok"]:
                values["failing_since"] = iso(at)
            db["provider_health"].upsert(values, pk="provider")
            return dict(db["provider_health"].get(provider))

    def provider_ok(self, provider: str, at: datetime) -> bool:
        """Record a success; True when the provider was failing until now."""
        with self.transaction() as db:
            row = next(iter(db["provider_health"].rows_where("provider = ?", [provider])), None)
            db["provider_health"].upsert(
                {
                    "provider": provider,
                    "ok": 1,
                    "error": None,
                    "failing_since": None,
                    "last_ok_at": iso(at),
                    "notified_at": None,
                },
                pk="provider",
            )
            return bool(row and not row["ok"])

    def provider_notified(self, provider: str, at: datetime) -> None:
        with self.transaction() as db:
            db["provider_health"].update(provider, {"notified_at": iso(at)})

    def provider_health(self) -> dict[str, dict[str, Any]]:
        return {r["provider"]: dict(r) for r in self.db["provider_health"].rows}

    # -- events: the audit log -----------------------------------------------------------
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
        with self.transaction() as db:
            return (
                db["events"]
                .insert(
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
                    }
                )
                .last_pk
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


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Formation):
        return value.to_json()
    if isinstance(value, AppState):
        return value.value
    return value
