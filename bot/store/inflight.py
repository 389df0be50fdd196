"""Wakes and sleeps in flight, owned across processes: one operation per app at a time,
whichever process (`serve`, a `paastis wake` beside it) asks.

Each row names its owner — the process following it (host, pid, a token per open store) —
and when the owner last said it was still at it (`heartbeat_at`). A claim is taken in one
`BEGIN IMMEDIATE` transaction: it fails while another owner that is alive holds a wake or
a sleep of that app. An owner is alive while, on this host, its process exists (in this
process: while its store is open); on another host, while its heartbeat is younger than
`LEASE`. A row whose owner is gone is taken over: a wake is followed again, a sleep
intent is finished or rolled back (bot.engine.reconcile).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.store.rows import InFlightWake, Ref, SleepIntent, iso, parse_iso
from providers.base import Formation

LEASE = timedelta(minutes=2)  # an owner on another host silent this long is taken for gone
HOST = socket.gethostname()
_OPEN: set[str] = set()  # owners of the stores open in this process


def new_owner() -> str:
    owner = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"
    _OPEN.add(owner)
    return owner


def release_owner(owner: str) -> None:
    _OPEN.discard(owner)


def owner_alive(owner: str | None, heartbeat_at: datetime | None, now: datetime) -> bool:
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == HOST and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return owner in _OPEN
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # a process of another user holds that pid: alive
        return True
    return heartbeat_at is not None and now - heartbeat_at < LEASE


class InFlight:
    """The store's part that records wakes and sleeps in flight (mixed into `Store`, which
    gives it `owner`, `db` and `transaction()`)."""

    owner: str
    db: sqlite_utils.Database
    transaction: Callable[[], AbstractContextManager[sqlite_utils.Database]]

    # -- claims ------------------------------------------------------------------------
    def _held_by_other(self, db: sqlite_utils.Database, ref: Ref, now: datetime) -> bool:
        for table in ("wakes", "sleeps"):
            row = db.execute(f"select owner, heartbeat_at from {table} where provider = ? and app_id = ?", ref)
            found = row.fetchone()
            if found and found[0] != self.owner and owner_alive(found[0], parse_iso(found[1]), now):
                return True
        return False

    def claim_wake(self, wake: InFlightWake, now: datetime) -> bool:
        """Record a wake as ours unless another live owner acts on the app; True when ours."""
        with self.transaction() as db:
            if self._held_by_other(db, (wake.provider, wake.app_id), now):
                return False
            _put(db, "wakes", _wake_values(wake, self.owner, now))
            return True

    def claim_sleep(self, intent: SleepIntent, now: datetime) -> bool:
        """Record a sleep about to be asked of the provider unless another live owner acts on the app."""
        with self.transaction() as db:
            if self._held_by_other(db, (intent.provider, intent.app_id), now):
                return False
            values = {
                "provider": intent.provider,
                "app_id": intent.app_id,
                "started_at": iso(intent.started_at),
                "owner": self.owner,
                "heartbeat_at": iso(now),
                "actor": intent.actor,
                "actor_name": intent.actor_name,
                "reason": intent.reason,
                "formation": intent.formation.to_json() if intent.formation else None,
            }
            _put(db, "sleeps", values)
            return True

    def take_over_sleep(self, intent: SleepIntent, now: datetime) -> bool:
        """Make a left-behind sleep intent ours (one process reconciles it); False when its
        owner is alive after all or someone else took it."""
        with self.transaction() as db:
            if owner_alive(intent.owner, intent.heartbeat_at, now):
                return False
            cursor = db.execute(
                "update sleeps set owner = ?, heartbeat_at = ? where provider = ? and app_id = ? and owner is ?",
                [self.owner, iso(now), intent.provider, intent.app_id, intent.owner],
            )
            return cursor.rowcount == 1

    def heartbeat(self, ref: Ref, now: datetime) -> None:
        """Say we are still at it (the wake or sleep of `ref` we own)."""
        with self.transaction() as db:
            for table in ("wakes", "sleeps"):
                db.execute(
                    f"update {table} set heartbeat_at = ? where provider = ? and app_id = ? and owner = ?",
                    [iso(now), *ref, self.owner],
                )

    # -- wakes -------------------------------------------------------------------------
    def begin_wake(self, wake: InFlightWake) -> None:
        """Record a wake as it is given (its owner, if any, included): what a crash leaves."""
        with self.transaction() as db:
            _put(db, "wakes", _wake_values(wake, wake.owner, wake.heartbeat_at))

    def end_wake(self, provider: str, app_id: str, *, ours_only: bool = False) -> None:
        with self.transaction() as db:
            if ours_only:
                db.execute(
                    "delete from wakes where provider = ? and app_id = ? and owner = ?", [provider, app_id, self.owner]
                )
            else:
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
                r.get("owner"),
                parse_iso(r.get("heartbeat_at")),
            )
            for r in self.db["wakes"].rows
        ]

    def wake_owned_elsewhere(self, ref: Ref, now: datetime) -> bool:
        """True while another live owner follows a wake of `ref` (a sleep must wait)."""
        row = self.db.execute("select owner, heartbeat_at from wakes where provider = ? and app_id = ?", ref).fetchone()
        return bool(row and row[0] != self.owner and owner_alive(row[0], parse_iso(row[1]), now))

    # -- sleeps ------------------------------------------------------------------------
    def end_sleep(self, provider: str, app_id: str) -> None:
        with self.transaction() as db:
            db.execute(
                "delete from sleeps where provider = ? and app_id = ? and owner = ?", [provider, app_id, self.owner]
            )

    def sleep_intents(self) -> list[SleepIntent]:
        return list(_intents(self.db["sleeps"].rows))


def _intents(rows: Iterator[dict[str, Any]]) -> Iterator[SleepIntent]:
    for r in rows:
        yield SleepIntent(
            r["provider"],
            r["app_id"],
            parse_iso(r["started_at"]),
            r["actor"],
            r["actor_name"],
            r["reason"],
            Formation.from_json(r["formation"]) if r["formation"] else None,
            r["owner"],
            parse_iso(r["heartbeat_at"]),
        )


def _put(db: sqlite_utils.Database, table: str, values: dict[str, Any]) -> None:
    """Write the whole row of an app (its key in `values`) in `table`, in the caller's
    transaction: plain SQL, which sqlite-utils' upsert costs several times."""
    db.execute(f"delete from {table} where provider = ? and app_id = ?", [values["provider"], values["app_id"]])
    placeholders = ", ".join("?" * len(values))
    db.conn.execute(f"insert into {table} ({', '.join(values)}) values ({placeholders})", list(values.values()))


def _wake_values(wake: InFlightWake, owner: str | None, heartbeat: datetime | None) -> dict[str, Any]:
    return {
        "provider": wake.provider,
        "app_id": wake.app_id,
        "started_at": iso(wake.started_at),
        "actor": wake.actor,
        "actor_name": wake.actor_name,
        "context": json.dumps(wake.context),
        "owner": owner,
        "heartbeat_at": iso(heartbeat),
    }
