"""Wakes and sleeps in flight, owned across processes: one operation per app at a time,
whichever process (`serve`, a `paastis wake` beside it) asks.

Each row names its owner — the process following it (host, pid, a token per open store) —
and when the owner last said it was still at it (`heartbeat_at`). A claim is taken in one
write transaction (holding the database's write lock): it fails while another owner that
is alive (bot/store/liveness.py) holds a wake or a sleep of that app. A row whose owner is
gone is taken over: a wake is followed again, a sleep intent is finished or rolled back
(bot.engine.reconcile).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bot.store.database import Database, Tx
from bot.store.liveness import owner_alive
from bot.store.rows import InFlightWake, Ref, SleepIntent, iso, parse_iso
from providers.base import Formation


class InFlight:
    """The store's part that records wakes and sleeps in flight (mixed into `Store`, which
    gives it `owner`, `database` and `transaction()`)."""

    owner: str
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    # -- claims ------------------------------------------------------------------------
    def _held_by_other(self, tx: Tx, ref: Ref, now: datetime) -> bool:
        for table in ("wakes", "sleeps"):
            found = tx.one(f"select owner, heartbeat_at from {table} where {_REF}", provider=ref[0], app_id=ref[1])
            if (
                found
                and found["owner"] != self.owner
                and owner_alive(tx, found["owner"], parse_iso(found["heartbeat_at"]), now)
            ):
                return True
        return False

    def claim_wake(self, wake: InFlightWake, now: datetime) -> bool:
        """Record a wake as ours unless another live owner acts on the app; True when ours."""
        with self.transaction() as tx:
            if self._held_by_other(tx, (wake.provider, wake.app_id), now):
                return False
            tx.upsert("wakes", _wake_values(wake, self.owner, now), KEY)
            return True

    def claim_sleep(self, intent: SleepIntent, now: datetime) -> bool:
        """Record a sleep about to be asked of the provider unless another live owner acts on the app."""
        with self.transaction() as tx:
            if self._held_by_other(tx, (intent.provider, intent.app_id), now):
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
            tx.upsert("sleeps", values, KEY)
            return True

    def take_over_sleep(self, intent: SleepIntent, now: datetime) -> bool:
        """Make a left-behind sleep intent ours (one process reconciles it); False when its
        owner is alive after all or someone else took it."""
        return self._take_over("sleeps", (intent.provider, intent.app_id), intent.owner, now)

    def take_over_wake(self, wake: InFlightWake, now: datetime) -> bool:
        """Make a wake whose owner is gone ours (one process follows it again); False when its
        owner is alive after all or someone else took it."""
        return self._take_over("wakes", (wake.provider, wake.app_id), wake.owner, now)

    def _take_over(self, table: str, ref: Ref, was: str | None, now: datetime) -> bool:
        with self.transaction() as tx:
            row = tx.one(f"select owner, heartbeat_at from {table} where {_REF}", provider=ref[0], app_id=ref[1])
            if row is None or row["owner"] != was or row["owner"] == self.owner:
                return False
            if owner_alive(tx, was, parse_iso(row["heartbeat_at"]), now):
                return False
            values = {"me": self.owner, "now": iso(now), "provider": ref[0], "app_id": ref[1]}
            tx.execute(f"update {table} set owner = :me, heartbeat_at = :now where {_REF}", values)
            return True

    def heartbeat(self, ref: Ref, now: datetime) -> None:
        """Say we are still at it (the wake or sleep of `ref` we own)."""
        with self.transaction() as tx:
            for table in ("wakes", "sleeps"):
                tx.execute(
                    f"update {table} set heartbeat_at = :now where {_REF} and owner = :me",
                    {"now": iso(now), "provider": ref[0], "app_id": ref[1], "me": self.owner},
                )

    # -- wakes -------------------------------------------------------------------------
    def begin_wake(self, wake: InFlightWake) -> None:
        """Record a wake as it is given (its owner, if any, included): what a crash leaves."""
        with self.transaction() as tx:
            tx.upsert("wakes", _wake_values(wake, wake.owner, wake.heartbeat_at), KEY)

    def end_wake(self, provider: str, app_id: str, *, ours_only: bool = False) -> None:
        with self.transaction() as tx:
            mine = " and owner = :me" if ours_only else ""
            tx.execute(
                f"delete from wakes where {_REF}{mine}", {"provider": provider, "app_id": app_id, "me": self.owner}
            )

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
            for r in self.database.rows("select * from wakes")
        ]

    def wake_owned_elsewhere(self, ref: Ref, now: datetime) -> bool:
        """True while another live owner follows a wake of `ref` (a sleep must wait)."""
        with self.database.reading() as tx:
            row = tx.one(f"select owner, heartbeat_at from wakes where {_REF}", provider=ref[0], app_id=ref[1])
            return bool(
                row
                and row["owner"] != self.owner
                and owner_alive(tx, row["owner"], parse_iso(row["heartbeat_at"]), now)
            )

    def owner_gone(self, owner: str | None, heartbeat_at: datetime | None, now: datetime) -> bool:
        """True when `owner` (of a wake or sleep row) is neither this store nor a live process:
        its row is to be taken over."""
        if owner == self.owner:
            return False
        with self.database.reading() as tx:
            return not owner_alive(tx, owner, heartbeat_at, now)

    # -- sleeps ------------------------------------------------------------------------
    def end_sleep(self, provider: str, app_id: str) -> None:
        with self.transaction() as tx:
            tx.execute(
                f"delete from sleeps where {_REF} and owner = :me",
                {"provider": provider, "app_id": app_id, "me": self.owner},
            )

    def sleep_intents(self) -> list[SleepIntent]:
        return list(_intents(self.database.rows("select * from sleeps")))


KEY = ("provider", "app_id")
_REF = "provider = :provider and app_id = :app_id"


def _intents(rows: Iterable[dict[str, Any]]) -> Iterator[SleepIntent]:
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
