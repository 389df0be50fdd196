"""The schema, versioned: each migration runs once, in a transaction, recorded by
sqlite-utils in `_sqlite_migrations`. Add a function; never edit one that has shipped."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("paastis")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["apps"].create(
        {
            "provider": str,
            "app_id": str,
            "name": str,
            "state": str,
            "url": str,
            "formation": str,
            "problem": str,
            "first_seen": str,
            "last_seen": str,
            "gone": int,
            "last_request_at": str,
            "last_deploy_at": str,
            "last_wake_at": str,
            "last_used_at": str,
            "checked_at": str,
            "check_error": str,
            "check_failed_at": str,
            "awake_since": str,
            "recorded_formation": str,
            "recorded_at": str,
        },
        pk=("provider", "app_id"),
    )
    db["activity"].create(
        {
            "id": int,
            "provider": str,
            "app_id": str,
            "at": str,
            "since": str,
            "until": str,
            "requests": int,
            "last_request_at": str,
        },
        pk="id",
    )
    db["activity"].create_index(["provider", "app_id", "at"])
    db["events"].create(
        {
            "id": int,
            "at": str,
            "provider": str,
            "app_id": str,
            "app_name": str,
            "action": str,
            "outcome": str,
            "actor": str,
            "actor_name": str,
            "reason": str,
            "duration_ms": int,
            "details": str,
        },
        pk="id",
    )
    db["events"].create_index(["at"])
    db["events"].create_index(["provider", "app_id", "at"])
    db["keeps"].create(
        {"provider": str, "app_id": str, "until": str, "by": str, "by_name": str, "reason": str, "created_at": str},
        pk=("provider", "app_id"),
    )
    db["naps"].create(
        {"id": int, "provider": str, "app_id": str, "start": str, "end": str, "formation": str},
        pk="id",
    )
    db["naps"].create_index(["provider", "app_id", "start"])
    db["wakes"].create(
        {"provider": str, "app_id": str, "started_at": str, "actor": str, "actor_name": str, "context": str},
        pk=("provider", "app_id"),
    )
    db["provider_health"].create(
        {"provider": str, "ok": int, "error": str, "failing_since": str, "last_ok_at": str, "notified_at": str},
        pk="provider",
    )


@migrations()
def m002_claims_intents_failures(db: sqlite_utils.Database) -> None:
    """Who acts on an app across processes (a wake's owner and heartbeat, a sleep's intent,
    written before the provider call), and the failures that repeat (a sleep retried with back-off)."""
    db["wakes"].add_column("owner", str)
    db["wakes"].add_column("heartbeat_at", str)
    db["sleeps"].create(
        {
            "provider": str,
            "app_id": str,
            "started_at": str,
            "owner": str,
            "heartbeat_at": str,
            "actor": str,
            "actor_name": str,
            "reason": str,
            "formation": str,
        },
        pk=("provider", "app_id"),
    )
    db["failures"].create(
        {
            "provider": str,
            "app_id": str,
            "kind": str,
            "count": int,
            "first_at": str,
            "last_at": str,
            "reason": str,
            "next_try_at": str,
            "notified_at": str,
        },
        pk=("provider", "app_id", "kind"),
    )


@migrations()
def m003_outbox(db: sqlite_utils.Database) -> None:
    """Channel notices on their way to Slack: kept until Slack takes them, posted in order."""
    db["outbox"].create(
        {
            "id": int,
            "channel": str,
            "payload": str,
            "created_at": str,
            "attempts": int,
            "last_error": str,
        },
        pk="id",
    )


@migrations()
def m004_first_run(db: sqlite_utils.Database) -> None:
    """The safe first run: when Paastis was started (and by whom), when its plan was posted.
    A database that already knows apps comes from a version that swept from the start: it
    counts as started, so an upgrade changes nothing."""
    db["first_run"].create(
        {"id": int, "started_at": str, "started_by": str, "plan_posted_at": str},
        pk="id",
    )
    if db["apps"].exists() and db["apps"].count:
        db["first_run"].insert({"id": 1, "started_at": "1970-01-01T00:00:00+00:00", "started_by": "upgrade"})


@migrations()
def m005_scale(db: sqlite_utils.Database) -> None:
    """The due index: when each app's sleep decision may change next (NULL: at the next
    sweep), and a revision bumped by every write a decision reads; the roster's version,
    bumped when the set of apps or their names change (bot/store/store.py)."""
    db["apps"].add_column("due_at", str)
    db["apps"].add_column("revision", int, not_null_default=0)
    db["apps"].create_index(["due_at"])
    db["apps"].create_index(["gone", "provider", "state"])  # counts by state, read by an index alone
    # bumped when discovery finds, renames or loses apps: the topology is made again then only
    db["roster"].create({"id": int, "version": int}, pk="id")
    db["roster"].insert({"id": 1, "version": 0})
