"""`paastis db copy`: every table of a SQLite file into the database of DATABASE_URL, in one
transaction, so a team moves to PostgreSQL without losing its history (formations to
restore, the audit log, keeps, naps, notices not yet posted)."""

from __future__ import annotations

from pathlib import Path

from bot.store import migrations
from bot.store.database import Database
from bot.store.files import StoreUnusable

# what a team's history is; leases and job runs belong to the instances of the moment
TABLES = ("apps", "activity", "events", "keeps", "naps", "wakes", "sleeps", "failures", "provider_health")
TABLES += ("outbox", "first_run")
SERIAL = ("activity", "events", "naps", "outbox")


def copy_database(source: Path, target: Database, *, force: bool = False) -> dict[str, int]:
    """Rows copied per table. StoreUnusable when the source is no Paastis database or the
    target already holds data (unless `force`: then it is replaced)."""
    if not source.is_file():
        raise StoreUnusable(f"{source} does not exist: give the path of the SQLite file to copy (sqlite:///path)")
    origin = Database(source)
    try:
        migrations.apply(origin)  # an older file is brought to this version's schema first
        migrations.apply(target)
        with target.transaction() as tx:
            held = [t for t in TABLES if tx.one(f"select 1 as found from {t} limit 1")]
            if held and not force:
                raise StoreUnusable(
                    f"the database {target.where} already holds data ({', '.join(held)}): nothing was copied; "
                    "add --force to replace it with the file's"
                )
            counts = {}
            for table in TABLES:
                tx.execute(f"delete from {table}")
                rows = origin.rows(f"select * from {table}")
                tx.insert_many(table, rows)
                counts[table] = len(rows)
            tx.execute("update roster set version = version + 1")  # other apps: topologies are made again
            if target.kind == "postgresql":  # ids go on after the copied ones
                for table in SERIAL:
                    tx.execute(
                        f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((select max(id) from {table}), 0) + 1, false)"
                    )
            return counts
    finally:
        origin.close()
