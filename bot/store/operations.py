"""The database as an operator sees it: `paastis check-config` (which one, reachable,
migrated to which version), `paastis db upgrade` and `paastis db copy`. Each answers in one
sentence naming the problem and its fix — never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.store import migrations
from bot.store.copying import copy_database
from bot.store.database import FIX, Database, StoreError, locate, problem_of
from bot.store.files import StoreUnusable, masked_location


def describe_database(where: Path | str) -> tuple[str, bool]:
    """One line: the database used (password masked), whether it is reachable and migrated."""
    try:
        location = locate(where)
        if location.path is not None and not location.path.exists():
            return f"database: SQLite {location.path}: created at the first start", True
        database = Database(location)
    except StoreUnusable as exc:
        return f"database: {exc}", False
    try:
        applied, pending = migrations.status(database)
    except StoreError as exc:  # the settings are valid; the database does not answer now
        return f"warning: database: {database.kind} {database.where} cannot be reached: {problem_of(exc)} ({FIX})", True
    except StoreUnusable as exc:
        return f"database: {exc}", False
    finally:
        database.close()
    version = applied[-1] if applied else "empty"
    todo = f"; {len(pending)} migration(s) to apply at start ({', '.join(pending)})" if pending else ""
    return f"database: {database.kind} {database.where}: reachable, migrated to {version}{todo}", True


def upgrade_command(where: Path | str, out: TextIO) -> int:
    def upgrade() -> str:
        database = Database(where)
        try:
            done = migrations.apply(database)
        finally:
            database.close()
        return f"Applied {', '.join(done)}." if done else f"Up to date ({migrations.latest()})."

    return _answer(out, upgrade, f"the database {masked_location(where)} cannot be used")


def copy_command(source: str, target_url: str | None, out: TextIO, *, force: bool = False) -> int:
    if not target_url:
        print("paastis: DATABASE_URL is not set: set it to the PostgreSQL to copy into, then run this again", file=out)
        return 2

    def copy() -> str:
        origin = locate(source)
        if origin.path is None:
            raise StoreUnusable(f"--from {masked_location(source)} is not a SQLite file: write it sqlite:///path")
        target = Database(target_url)
        try:
            counts = copy_database(origin.path, target, force=force)
        finally:
            target.close()
        copied = ", ".join(f"{table} {count}" for table, count in counts.items() if count)
        return f"Copied {origin.path} into {masked_location(target_url)}: {copied or 'no rows'}."

    return _answer(out, copy, "the copy failed, nothing was copied")


def _answer(out: TextIO, work: Callable[[], str], failed: str) -> int:
    """Run a database command: its one line and 0, or the problem with its fix and 2 — never a traceback."""
    try:
        said = work()
    except StoreUnusable as exc:
        print(f"paastis: {exc}", file=out)
        return 2
    except StoreError as exc:
        print(f"paastis: {failed}: {problem_of(exc)} ({FIX})", file=out)
        return 2
    print(said, file=out)
    return 0
