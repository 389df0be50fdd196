"""The store: apps, their activity, recorded formations, pins, naps and the events table
that is the audit log; wakes and sleeps in flight (bot/store/inflight.py), what keeps
failing (bot/store/troubles.py) and the first run (bot/store/first_run.py) are its other parts.

On SQLite (PAASTIS_DB, a file) or PostgreSQL (DATABASE_URL): one code path, one write
discipline (bot/store/database.py). Schema versioned (bot/store/migrations.py), applied at
start. Timestamps are ISO-8601 UTC text. Every write of something an app's sleep decision
reads has the next sweep decide it again (the due index, bot/store/queries.py).

`write_problem` says why the last write failed (a full disk, a database gone), None once one succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.policy.idle import NEVER
from bot.store import migrations
from bot.store.activity import ActivityLog
from bot.store.database import Database, Location, Tx, problem_of
from bot.store.events import AuditLog
from bot.store.files import StoreUnusable
from bot.store.first_run import FirstRun, FirstRunState
from bot.store.inflight import InFlight
from bot.store.leases import Leases
from bot.store.liveness import new_owner, release_owner
from bot.store.queries import APP_BY_KEY, Queries, write_app
from bot.store.rows import AppRow, Event, InFlightWake, Keep, Nap, SleepIntent, formation_of, iso, parse_iso
from bot.store.troubles import Troubles
from providers.base import AppState, Formation, PaasApp

__all__ = ["AppRow", "Event", "FirstRunState", "InFlightWake", "Keep", "Nap", "SleepIntent", "Store", "StoreUnusable"]


class Store(Queries, ActivityLog, InFlight, Troubles, AuditLog, FirstRun, Leases):
    def __init__(self, where: Path | str | Location) -> None:
        """`where`: a SQLite file's path, or a database URL (postgresql://…, sqlite:///…)."""
        self.database = Database(where)
        self.where = self.database.where  # for people: the file, or the URL without its password
        self.path = self.database.location.path  # the SQLite file (None on PostgreSQL)
        self.owner = new_owner()  # this process, in the wakes and sleeps it owns
        try:
            migrations.apply(self.database)
        except DBAPIError as exc:
            self.close()
            raise StoreUnusable(f"the database {self.where} cannot be used: {problem_of(exc)}") from None
        except StoreUnusable:
            self.close()
            raise

    @property
    def write_problem(self) -> str | None:
        return self.database.write_problem

    def close(self) -> None:
        release_owner(getattr(self, "owner", ""))
        self.database.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction (holding the write lock); nested ones join the outer one."""
        with self.database.transaction() as tx:
            yield tx

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
        with self.transaction() as tx:
            found = tx.rows(f"select {', '.join(columns)} from apps where provider = :provider", provider=provider)
            known = {row["app_id"]: row for row in found}
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
                    values.setdefault("formation", None)
                    values.setdefault("last_deploy_at", None)
                    values["awake_since"] = stamp if app.state is AppState.RUNNING else None
                    inserts.append(values)
                    continue
                if app.id in hold_state:
                    del values["state"], values["problem"]
                elif app.state is AppState.RUNNING and row["state"] != AppState.RUNNING.value:
                    values["awake_since"] = stamp
                    restarted.append({"at": stamp, "provider": provider, "app_id": app.id})  # its nap ends
                changed = {k: v for k, v in values.items() if row.get(k, v) != v or k == "awake_since"}
                if row["gone"]:
                    changed["gone"] = 0
                if changed:
                    updates.append((app.id, changed))
            tx.insert_many("apps", inserts)
            for app_id, changed in updates:
                write_app(tx, provider, app_id, changed)
            tx.execute(
                "update apps set last_seen = :stamp where provider = :provider", {"stamp": stamp, "provider": provider}
            )
            if restarted:
                tx.execute(_END_NAP, restarted)
            listed = {app.id for app in apps}
            gone = [
                {"p": provider, "a": app_id}
                for app_id, row in known.items()
                if app_id not in listed and not row["gone"]
            ]
            if gone:  # not due while gone: found again, it is decided again
                tx.execute(
                    "update apps set gone = 1, due_at = :never, revision = revision + 1"
                    " where provider = :p and app_id = :a",
                    [{**ref, "never": iso(NEVER)} for ref in gone],
                )
            if inserts or gone or any("name" in changed or "gone" in changed for _, changed in updates):
                tx.execute("update roster set version = version + 1")
        if not inserts:
            return []
        new = {values["app_id"] for values in inserts}
        return [row for row in self._app_rows("where provider = :provider", provider=provider) if row.app_id in new]

    def app(self, provider: str, app_id: str) -> AppRow | None:
        rows = self._app_rows("where provider = :provider and app_id = :app_id", provider=provider, app_id=app_id)
        return rows[0] if rows else None

    def apps(self, *, include_gone: bool = False) -> list[AppRow]:
        return self._app_rows("" if include_gone else "where gone = 0", order="order by provider, name")

    def update_app(self, provider: str, app_id: str, **values: Any) -> None:
        with self.transaction() as tx:
            write_app(tx, provider, app_id, {k: _column(v) for k, v in values.items()})

    def set_state(self, provider: str, app_id: str, state: AppState, now: datetime, problem: str | None = None) -> None:
        with self.transaction() as tx:
            row = tx.one(APP_BY_KEY, provider=provider, app_id=app_id)
            values: dict[str, Any] = {"state": state.value, "problem": problem}
            if row and state is AppState.RUNNING and row["state"] != AppState.RUNNING.value:
                values["awake_since"] = iso(now)
            write_app(tx, provider, app_id, values)

    # -- formations and naps -------------------------------------------------------------
    def record_formation(self, provider: str, app_id: str, formation: Formation, at: datetime) -> None:
        if not formation.running:
            return  # never overwrite what to restore with "nothing"
        self.update_app(provider, app_id, recorded_formation=formation.to_json(), recorded_at=iso(at))

    def begin_nap(self, provider: str, app_id: str, at: datetime, formation: Formation | None) -> None:
        with self.transaction() as tx:
            if not tx.one(_OPEN_NAP, provider=provider, app_id=app_id):
                tx.insert(
                    "naps",
                    {
                        "provider": provider,
                        "app_id": app_id,
                        "start": iso(at),
                        "end": None,
                        "formation": formation.to_json() if formation else None,
                    },
                )

    def end_nap(self, provider: str, app_id: str, at: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(_END_NAP, {"at": iso(at), "provider": provider, "app_id": app_id})

    def naps(self, since: datetime) -> list[Nap]:
        rows = self.database.rows(
            'select * from naps where "end" is null or "end" > :since order by start, id', since=iso(since)
        )
        return [
            Nap(r["provider"], r["app_id"], parse_iso(r["start"]), parse_iso(r["end"]), formation_of(r["formation"]))
            for r in rows
        ]

    # -- pins (keep awake) ---------------------------------------------------------------
    def set_keep(self, provider: str, app_id: str, keep: Keep) -> None:
        with self.transaction() as tx:
            tx.upsert(
                "keeps",
                {
                    "provider": provider,
                    "app_id": app_id,
                    "until": iso(keep.until),
                    "by": keep.by,
                    "by_name": keep.by_name,
                    "reason": keep.reason,
                    "created_at": iso(keep.created_at),
                },
                ("provider", "app_id"),
            )
            write_app(tx, provider, app_id, {})

    def drop_keep(self, provider: str, app_id: str) -> bool:
        with self.transaction() as tx:
            write_app(tx, provider, app_id, {})
            found = tx.execute(
                "delete from keeps where provider = :provider and app_id = :app_id",
                {"provider": provider, "app_id": app_id},
            )
            return found.rowcount > 0

    def keeps(self, now: datetime) -> dict[tuple[str, str], Keep]:
        rows = self.database.rows("select * from keeps where until > :now", now=iso(now))
        return {
            (r["provider"], r["app_id"]): Keep(
                parse_iso(r["until"]), r["by"], r["by_name"], r["reason"], parse_iso(r["created_at"])
            )
            for r in rows
        }


_OPEN_NAP = 'select id from naps where provider = :provider and app_id = :app_id and "end" is null'
_END_NAP = 'update naps set "end" = :at where provider = :provider and app_id = :app_id and "end" is null'


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Formation):
        return value.to_json()
    if isinstance(value, AppState):
        return value.value
    return value
