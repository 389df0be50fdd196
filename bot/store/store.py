"""The SQLite store: apps, their activity, recorded formations, pins, naps and the events
table that is the audit log; wakes and sleeps in flight (bot/store/inflight.py), what keeps
failing (bot/store/troubles.py) and the first run (bot/store/first_run.py) are its other parts.

One connection per thread (Bolt listeners, scheduler jobs and wake workers each have
theirs), WAL journal. Every write is a `BEGIN IMMEDIATE` transaction: it takes the write
lock first, so another process writing (a `paastis wake` beside `serve`) makes it wait
(busy timeout) instead of failing as a deferred transaction upgraded to a write does.
Writes of this process are serialised by one lock. Schema versioned with sqlite-utils
migrations (bot/store/migrations.py). Timestamps are ISO-8601 UTC text. A new database
file is created readable by its owner only (0600).

`write_problem` says why the last write failed (a full disk), None once one succeeds.

The due index: `apps.due_at` is when an app's sleep decision may change by itself (its idle
timeout runs out, a keep ends, a failed sleep's next try comes); NULL means "decide at the
next sweep". Every write of something a decision reads (activity, state, formation, keeps,
failures) sets it back to NULL and bumps `apps.revision`; the sweep writes the new due
times only where the revision is still the one it read (`settle`), so a write made while
it decided is never hidden. Hot paths are plain, portable SQL (sqlite-utils' per-row
helpers read the schema at each call).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.policy.idle import NEVER
from bot.store.events import AuditLog
from bot.store.files import StoreUnusable, unusable
from bot.store.first_run import FirstRun, FirstRunState
from bot.store.inflight import InFlight, new_owner, release_owner
from bot.store.migrations import migrations
from bot.store.rows import AppRow, Event, InFlightWake, Keep, Nap, Ref, SleepIntent, formation_of, iso, parse_iso
from bot.store.troubles import Troubles
from providers.base import AppState, Formation, PaasApp

DECIDE_AGAIN = "due_at = NULL, revision = revision + 1"  # in an update of apps: decide this app again
APP_COLUMNS = ", ".join(AppRow.columns())

__all__ = ["AppRow", "Event", "FirstRunState", "InFlightWake", "Keep", "Nap", "SleepIntent", "Store", "StoreUnusable"]


class Store(InFlight, Troubles, AuditLog, FirstRun):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        # a Store dropped without close() still closes what it opened, once it is collected
        weakref.finalize(self, _close_all, self._connections, self._write_lock)
        self.write_problem: str | None = None
        problem = unusable(self.path, create=True)
        if problem:
            raise StoreUnusable(f"PAASTIS_DB {self.path} {problem}")
        self.owner = new_owner()  # this process, in the wakes and sleeps it owns
        try:
            db = self.db
            db.enable_wal()
            with self.transaction() as db:
                migrations.apply(db)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreUnusable(f"PAASTIS_DB {self.path} cannot be used: {exc}") from None

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            # each thread uses its own connection; another thread only ever closes it (close())
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            db = sqlite_utils.Database(conn, execute_plugins=False)
            self._local.db = db
            with self._write_lock:
                self._connections.append(conn)
        return db

    def close(self) -> None:
        release_owner(getattr(self, "owner", ""))
        _close_all(self._connections, self._write_lock)
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction (BEGIN IMMEDIATE); nested ones join the outer one."""
        db = self.db
        with self._write_lock:
            if db.conn.in_transaction:
                with db.atomic():
                    yield db
                return
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
                db.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):  # contention is no readiness problem; a full disk is
                    self.write_problem = str(exc)
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            self.write_problem = None

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
            for names, batch in _by_columns(inserts):
                db.conn.executemany(
                    f"insert into apps ({', '.join(names)}) values ({', '.join('?' * len(names))})", batch
                )
            for app_id, changed in updates:
                assignments = ", ".join(f"{k} = ?" for k in changed)
                db.execute(
                    f"update apps set {assignments}, {DECIDE_AGAIN} where provider = ? and app_id = ?",
                    [*changed.values(), provider, app_id],
                )
            db.execute("update apps set last_seen = ? where provider = ?", [stamp, provider])
            db.conn.executemany("update naps set end = ? where provider = ? and app_id = ? and end is null", restarted)
            listed = {app.id for app in apps}
            gone = [(provider, app_id) for app_id, row in known.items() if app_id not in listed and not row["gone"]]
            db.conn.executemany(  # not due while gone: found again, it is decided again
                "update apps set gone = 1, due_at = ?, revision = revision + 1 where provider = ? and app_id = ?",
                [(iso(NEVER), *ref) for ref in gone],
            )
            if inserts or gone or any("name" in changed or "gone" in changed for _, changed in updates):
                db.conn.execute("update roster set version = version + 1")
        if not inserts:
            return []
        new = {values["app_id"] for values in inserts}
        return [row for row in self._app_rows("where provider = ?", [provider]) if row.app_id in new]

    def app(self, provider: str, app_id: str) -> AppRow | None:
        rows = self._app_rows("where provider = ? and app_id = ?", [provider, app_id])
        return rows[0] if rows else None

    def apps(self, *, include_gone: bool = False) -> list[AppRow]:
        return self._app_rows("" if include_gone else "where gone = 0", [], order="order by provider, name")

    def _app_rows(self, where: str, args: list[Any], *, order: str = "") -> list[AppRow]:
        cursor = self.db.conn.execute(f"select {APP_COLUMNS} from apps {where} {order}", args)
        return [AppRow.from_values(values) for values in cursor.fetchall()]

    def _app_values(self, db: sqlite_utils.Database, provider: str, app_id: str, *columns: str) -> tuple:
        """Some columns of one app (a NotFoundError, as sqlite-utils' get, when it is unknown)."""
        row = db.conn.execute(
            f"select {', '.join(columns)} from apps where provider = ? and app_id = ?", [provider, app_id]
        ).fetchone()
        if row is None:
            raise sqlite_utils.db.NotFoundError(f"no app {provider}:{app_id}")
        return row

    def _update(self, db: sqlite_utils.Database, provider: str, app_id: str, values: dict[str, Any]) -> None:
        """Write `values` of one app, and have the next sweep decide it again."""
        assignments = ", ".join([*(f"{k} = ?" for k in values), DECIDE_AGAIN])
        db.conn.execute(
            f"update apps set {assignments} where provider = ? and app_id = ?",
            [*values.values(), provider, app_id],
        )

    def update_app(self, provider: str, app_id: str, **values: Any) -> None:
        with self.transaction() as db:
            self._update(db, provider, app_id, {k: _column(v) for k, v in values.items()})

    def set_state(self, provider: str, app_id: str, state: AppState, now: datetime, problem: str | None = None) -> None:
        with self.transaction() as db:
            (current,) = self._app_values(db, provider, app_id, "state")
            values: dict[str, Any] = {"state": state.value, "problem": problem}
            if state is AppState.RUNNING and current != AppState.RUNNING.value:
                values["awake_since"] = iso(now)
            self._update(db, provider, app_id, values)

    def roster_version(self) -> int:
        """Changes whenever apps are found, renamed or lost (`listed` would differ)."""
        (version,) = self.db.conn.execute("select version from roster").fetchone()
        return version

    def listed(self) -> list[tuple[str, str, str]]:
        """Every app not gone, as (provider, app_id, name): what the topology is made of."""
        return self.db.conn.execute(
            "select provider, app_id, name from apps where gone = 0 order by provider, app_id"
        ).fetchall()

    def apps_of(self, refs: Collection[Ref]) -> list[AppRow]:
        """Some apps not gone, read by key (a page, an app and its group)."""
        ids: dict[str, list[str]] = {}
        for provider, app_id in refs:
            ids.setdefault(provider, []).append(app_id)
        rows: list[AppRow] = []
        for provider, app_ids in sorted(ids.items()):
            for i in range(0, len(app_ids), 500):
                chunk = app_ids[i : i + 500]
                where = f"where gone = 0 and provider = ? and app_id in ({', '.join('?' * len(chunk))})"
                rows += self._app_rows(where, [provider, *chunk])
        return rows

    def count_states(self) -> dict[tuple[str, str], int]:
        """How many apps not gone are in each state, by (provider, state)."""
        cursor = self.db.conn.execute(
            "select provider, state, count(*) from apps where gone = 0 group by provider, state"
        )
        return {(provider, state): count for provider, state, count in cursor.fetchall()}

    def noteworthy(self, unused_since: datetime) -> set[Ref]:
        """Apps the report names: crashed, running with activity unreadable, or first seen
        before `unused_since` and not used since."""
        cut = iso(_utc(unused_since))
        unused = " and ".join(f"({c} is null or {c} <= ?)" for c in AppRow.ACTIVITY)
        cursor = self.db.conn.execute(
            "select provider, app_id from apps where gone = 0 and (state = ?"
            f" or (state = ? and check_error is not null) or (first_seen <= ? and {unused}))",
            [AppState.CRASHED.value, AppState.RUNNING.value, cut, *[cut] * len(AppRow.ACTIVITY)],
        )
        return {(provider, app_id) for provider, app_id in cursor.fetchall()}

    # -- the due index -------------------------------------------------------------------
    def due_apps(self, now: datetime) -> set[Ref]:
        """The apps whose decision may have changed: written since the last sweep, or due by now."""
        cursor = self.db.conn.execute(  # two ranges of the due_at index (an OR would read every app)
            "select provider, app_id, gone from apps where due_at is null"
            " union all select provider, app_id, gone from apps where due_at <= ?",
            [iso(_utc(now))],
        )
        return {(provider, app_id) for provider, app_id, gone in cursor.fetchall() if not gone}

    def settle(self, dues: list[tuple[Ref, datetime | None, int]]) -> int:
        """Record when each app's decision may change next (None: at the next sweep), unless
        it was written since its `revision` was read. Returns how many were recorded."""
        rows = [(iso(_utc(due)) if due else None, ref[0], ref[1], revision) for ref, due, revision in dues]
        with self.transaction() as db:
            cursor = db.conn.executemany(
                "update apps set due_at = ? where provider = ? and app_id = ? and revision = ?", rows
            )
            return cursor.rowcount

    def stale_apps(self, provider: str, checked_before: datetime) -> Iterator[AppRow]:
        """Running apps of `provider` whose activity was not read since `checked_before`, the
        least recently read first (never read: first of all)."""
        cursor = self.db.conn.execute(
            f"select {APP_COLUMNS} from apps where provider = ? and state = ? and gone = 0"
            " and (checked_at is null or checked_at < ?) order by coalesce(checked_at, ''), name, app_id",
            [provider, AppState.RUNNING.value, iso(_utc(checked_before))],
        )
        for values in cursor:
            yield AppRow.from_values(values)

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
            last_request, last_check, last_deploy = self._app_values(
                db, provider, app_id, "last_request_at", "checked_at", "last_deploy_at"
            )
            previous = parse_iso(last_request)
            previous_check = parse_iso(last_check)
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
                previous_deploy = parse_iso(last_deploy)
                if previous_deploy is None or last_deploy_at > previous_deploy:
                    values["last_deploy_at"] = iso(last_deploy_at)
            self._update(db, provider, app_id, values)
            db.conn.execute(
                "insert into activity (provider, app_id, at, since, until, requests, last_request_at)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                [provider, app_id, iso(at), iso(since), iso(until), requests, iso(last_request_at)],
            )

    def record_check_failure(self, provider: str, app_id: str, error: str, at: datetime) -> None:
        with self.transaction() as db:
            (failed_at,) = self._app_values(db, provider, app_id, "check_failed_at")
            self._update(db, provider, app_id, {"check_error": error, "check_failed_at": failed_at or iso(at)})

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
            open_nap = db.conn.execute(
                "select 1 from naps where provider = ? and app_id = ? and end is null", [provider, app_id]
            ).fetchone()
            if open_nap is None:
                db.conn.execute(
                    "insert into naps (provider, app_id, start, formation) values (?, ?, ?, ?)",
                    [provider, app_id, iso(at), formation.to_json() if formation else None],
                )

    def end_nap(self, provider: str, app_id: str, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "update naps set end = ? where provider = ? and app_id = ? and end is null", [iso(at), provider, app_id]
            )

    def naps(self, since: datetime) -> list[Nap]:
        cursor = self.db.conn.execute(
            "select provider, app_id, start, end, formation from naps where end is null or end > ? order by start",
            [iso(since)],
        )
        return [
            Nap(provider, app_id, parse_iso(start), parse_iso(end), formation_of(formation))
            for provider, app_id, start, end, formation in cursor.fetchall()
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
            self._update(db, provider, app_id, {})

    def drop_keep(self, provider: str, app_id: str) -> bool:
        with self.transaction() as db:
            self._update(db, provider, app_id, {})
            return db.execute("delete from keeps where provider = ? and app_id = ?", [provider, app_id]).rowcount > 0

    def keeps(self, now: datetime) -> dict[tuple[str, str], Keep]:
        rows = self.db["keeps"].rows_where("until > ?", [iso(now)])
        return {
            (r["provider"], r["app_id"]): Keep(
                parse_iso(r["until"]), r["by"], r["by_name"], r["reason"], parse_iso(r["created_at"])
            )
            for r in rows
        }


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Formation):
        return value.to_json()
    if isinstance(value, AppState):
        return value.value
    return value


def _utc(moment: datetime) -> datetime:
    """Due times are compared as text: always written in UTC."""
    return moment.astimezone(UTC)


def _by_columns(rows: list[dict[str, Any]]) -> Iterator[tuple[tuple[str, ...], list[tuple]]]:
    """Rows grouped by the columns they set, for one `executemany` per group."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(tuple(row.values()))
    yield from groups.items()


def _close_all(connections: list[sqlite3.Connection], lock: threading.RLock) -> None:
    with lock:
        for conn in connections:
            conn.close()
        connections.clear()
