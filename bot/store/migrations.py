"""The schema, versioned: each migration runs once, in the order written, inside the write
transaction that records it in `paastis_migrations` — so two instances starting together
apply it once (the second waits for the write lock, then finds it done). Add a function at
the end; never edit one that has shipped.

A SQLite file of an earlier Paastis recorded its migrations with sqlite-utils in
`_sqlite_migrations`: they are adopted as applied, never run again. A database that names
a migration this code does not know was migrated by a newer Paastis: refused, untouched.
Column and table names are quoted where written (`end` is reserved in PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.store.database import Database, Tx
from bot.store.files import StoreUnusable

Migration = Callable[[Tx, str], None]  # (transaction, "sqlite" | "postgresql")
MIGRATIONS: list[Migration] = []


def migration(function: Migration) -> Migration:
    MIGRATIONS.append(function)
    return function


def _create(tx: Tx, kind: str, table: str, columns: dict[str, type], pk: str | tuple[str, ...]) -> None:
    serial = pk == "id" and columns.get("id") is int
    parts = []
    for name, kind_of in columns.items():
        if serial and name == "id":
            parts.append('"id" INTEGER PRIMARY KEY' if kind == "sqlite" else '"id" BIGSERIAL PRIMARY KEY')
        else:
            parts.append(f'"{name}" {"INTEGER" if kind_of is int else "TEXT"}')
    if not serial:
        keys = ", ".join(f'"{k}"' for k in ((pk,) if isinstance(pk, str) else pk))
        parts.append(f"PRIMARY KEY ({keys})")
    tx.execute(f'CREATE TABLE "{table}" ({", ".join(parts)})')


def _index(tx: Tx, table: str, columns: list[str]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    tx.execute(f'CREATE INDEX "idx_{table}_{"_".join(columns)}" ON "{table}" ({quoted})')


def _add_column(tx: Tx, table: str, column: str, kind_of: type, *, not_null_default: int | None = None) -> None:
    """A new column; with `not_null_default`, NOT NULL and that default for the rows already there."""
    default = "" if not_null_default is None else f" NOT NULL DEFAULT {int(not_null_default)}"
    tx.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {"INTEGER" if kind_of is int else "TEXT"}{default}')


def apply(db: Database) -> list[str]:
    """Apply what is missing; returns the names applied now. StoreUnusable for a newer schema."""
    with db.transaction() as tx:
        applied = _recorded(tx, db.kind)
        _refuse_newer(applied, db.where)
        done = []
        for function in MIGRATIONS:
            if function.__name__ not in applied:
                function(tx, db.kind)
                _record(tx, function.__name__)
                done.append(function.__name__)
        return done


def status(db: Database) -> tuple[list[str], list[str]]:
    """(applied, pending) migration names, read without writing anything."""
    with db.reading() as tx:
        if not _has_table(tx, db.kind, "paastis_migrations"):
            applied = _legacy(tx, db.kind)
        else:
            applied = [r["name"] for r in tx.rows('select "name" from paastis_migrations')]
    _refuse_newer(set(applied), db.where)
    return applied, [f.__name__ for f in MIGRATIONS if f.__name__ not in applied]


def latest() -> str:
    return MIGRATIONS[-1].__name__


def _refuse_newer(applied: set[str], where: str) -> None:
    unknown = sorted(applied - {f.__name__ for f in MIGRATIONS})
    if unknown:
        raise StoreUnusable(
            f"the database {where} was migrated by a newer Paastis ({', '.join(unknown)}; this one knows up to "
            f"{latest()}): run that version or a newer one, or restore a backup made before the upgrade"
        )


def _recorded(tx: Tx, kind: str) -> set[str]:
    """The migrations applied, the record table created (and an earlier Paastis's adopted) first."""
    if not _has_table(tx, kind, "paastis_migrations"):
        tx.execute('CREATE TABLE "paastis_migrations" ("name" TEXT PRIMARY KEY, "applied_at" TEXT)')
        for name in _legacy(tx, kind):
            _record(tx, name)
    return {r["name"] for r in tx.rows('select "name" from paastis_migrations')}


def _record(tx: Tx, name: str) -> None:
    tx.execute("insert into paastis_migrations values (:name, cast(current_timestamp as text))", {"name": name})


def _legacy(tx: Tx, kind: str) -> list[str]:
    """What sqlite-utils recorded for an earlier Paastis (SQLite only)."""
    if kind != "sqlite" or not _has_table(tx, kind, "_sqlite_migrations"):
        return []
    found = tx.rows("select name from _sqlite_migrations where migration_set = 'paastis' order by applied_at")
    return [r["name"] for r in found]


def _has_table(tx: Tx, kind: str, table: str) -> bool:
    if kind == "sqlite":
        return tx.one("select 1 as found from sqlite_master where type = 'table' and name = :t", t=table) is not None
    return tx.one("select to_regclass(:t) is not null as found", t=table)["found"]  # type: ignore[index]  # search_path


@migration
def m001_initial(tx: Tx, kind: str) -> None:
    apps: dict[str, type] = dict.fromkeys(("provider", "app_id", "name", "state", "url", "formation", "problem"), str)
    apps |= {"first_seen": str, "last_seen": str, "gone": int}
    apps |= dict.fromkeys(("last_request_at", "last_deploy_at", "last_wake_at", "last_used_at", "checked_at"), str)
    apps |= dict.fromkeys(("check_error", "check_failed_at", "awake_since", "recorded_formation", "recorded_at"), str)
    _create(tx, kind, "apps", apps, ("provider", "app_id"))
    activity = {"id": int, "provider": str, "app_id": str, "at": str, "since": str, "until": str}
    _create(tx, kind, "activity", {**activity, "requests": int, "last_request_at": str}, "id")
    _index(tx, "activity", ["provider", "app_id", "at"])
    events: dict[str, type] = {
        "id": int,
        **dict.fromkeys(("at", "provider", "app_id", "app_name", "action", "outcome", "actor", "actor_name"), str),
        "reason": str,
        "duration_ms": int,
        "details": str,
    }
    _create(tx, kind, "events", events, "id")
    _index(tx, "events", ["at"])
    _index(tx, "events", ["provider", "app_id", "at"])
    keeps = dict.fromkeys(("provider", "app_id", "until", "by", "by_name", "reason", "created_at"), str)
    _create(tx, kind, "keeps", keeps, ("provider", "app_id"))
    _create(
        tx, kind, "naps", {"id": int, **dict.fromkeys(("provider", "app_id", "start", "end", "formation"), str)}, "id"
    )
    _index(tx, "naps", ["provider", "app_id", "start"])
    wakes = dict.fromkeys(("provider", "app_id", "started_at", "actor", "actor_name", "context"), str)
    _create(tx, kind, "wakes", wakes, ("provider", "app_id"))
    health: dict[str, type] = {"provider": str, "ok": int, "error": str, "failing_since": str, "last_ok_at": str}
    _create(tx, kind, "provider_health", {**health, "notified_at": str}, "provider")


@migration
def m002_claims_intents_failures(tx: Tx, kind: str) -> None:
    """Who acts on an app across processes (a wake's owner and heartbeat, a sleep's intent,
    written before the provider call), and the failures that repeat (a sleep retried with back-off)."""
    _add_column(tx, "wakes", "owner", str)
    _add_column(tx, "wakes", "heartbeat_at", str)
    sleeps = ("provider", "app_id", "started_at", "owner", "heartbeat_at", "actor", "actor_name", "reason", "formation")
    _create(tx, kind, "sleeps", dict.fromkeys(sleeps, str), ("provider", "app_id"))
    failures: dict[str, type] = {"provider": str, "app_id": str, "kind": str, "count": int}
    failures |= dict.fromkeys(("first_at", "last_at", "reason", "next_try_at", "notified_at"), str)
    _create(tx, kind, "failures", failures, ("provider", "app_id", "kind"))


@migration
def m003_outbox(tx: Tx, kind: str) -> None:
    """Channel notices on their way to Slack: kept until Slack takes them, posted in order."""
    outbox: dict[str, type] = {"id": int, "channel": str, "payload": str, "created_at": str, "attempts": int}
    _create(tx, kind, "outbox", {**outbox, "last_error": str}, "id")


@migration
def m004_first_run(tx: Tx, kind: str) -> None:
    """The safe first run: when Paastis was started (and by whom), when its plan was posted.
    A database that already knows apps comes from a version that swept from the start: it
    counts as started, so an upgrade changes nothing."""
    first_run = {"id": int, "started_at": str, "started_by": str, "plan_posted_at": str}
    _create(tx, kind, "first_run", first_run, "id")
    if tx.one("select 1 as found from apps limit 1"):
        tx.insert("first_run", {"id": 1, "started_at": "1970-01-01T00:00:00+00:00", "started_by": "upgrade"})


@migration
def m005_pg(tx: Tx, kind: str) -> None:
    """Several instances on one database: who leads the scheduled work (a lease each renews
    while it lives), and each run of a periodic job claimed once per period."""
    _create(tx, kind, "leases", dict.fromkeys(("name", "owner", "expires_at"), str), "name")
    _create(tx, kind, "job_runs", dict.fromkeys(("job", "period", "owner", "at"), str), ("job", "period"))


@migration
def m006_pg2(tx: Tx, kind: str) -> None:
    """Each notice in the outbox belongs to the process that posts it: another instance takes
    it over only once that process is gone (bot/store/liveness.py). Rows of before: nobody's."""
    _add_column(tx, "outbox", "owner", str)


@migration
def m007_scale(tx: Tx, kind: str) -> None:
    """The due index: when each app's sleep decision may change next (NULL: at the next
    sweep), and a revision bumped by every write a decision reads; counts by state read by
    an index alone; the roster's version, bumped when discovery finds, renames or loses
    apps: the topology is made again then only (bot/store/queries.py)."""
    _add_column(tx, "apps", "due_at", str)
    _add_column(tx, "apps", "revision", int, not_null_default=0)
    _index(tx, "apps", ["due_at"])
    _index(tx, "apps", ["gone", "provider", "state"])
    _create(tx, kind, "roster", {"id": int, "version": int}, "id")
    tx.insert("roster", {"id": 1, "version": 0})
