"""What keeps failing: each provider's health, and each app's failures that repeat (a sleep
retried with back-off, a wake, a hook), with when the channel was last told of them.
Mixed into `Store`, which gives it `database` and `transaction()`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bot.store.database import Database, Tx
from bot.store.queries import DECIDE_AGAIN
from bot.store.rows import Failure, Ref, iso, parse_iso


class Troubles:
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    # -- apps ----------------------------------------------------------------------------
    def app_failed(self, ref: Ref, kind: str, reason: str, at: datetime, next_try_at: datetime | None) -> Failure:
        """One more failure of `kind` for an app; returns the failure as it stands now."""
        with self.transaction() as tx:
            previous = _failure(tx, ref, kind)
            tx.upsert(
                "failures",
                {
                    "provider": ref[0],
                    "app_id": ref[1],
                    "kind": kind,
                    "count": (previous.count if previous else 0) + 1,
                    "first_at": iso(previous.first_at if previous else at),
                    "last_at": iso(at),
                    "reason": reason,
                    "next_try_at": iso(next_try_at),
                    "notified_at": iso(previous.notified_at if previous else None),
                },
                ("provider", "app_id", "kind"),
            )
            _decide_again(tx, ref)
            failure = _failure(tx, ref, kind)
            assert failure is not None
            return failure

    def app_recovered(self, ref: Ref, kind: str) -> Failure | None:
        """The failure of `kind` has ended: forget it; returns it as it was (None: there was none)."""
        if _failure(self.database, ref, kind) is None:
            return None  # the usual case, read without taking the write lock
        with self.transaction() as tx:
            previous = _failure(tx, ref, kind)
            if previous:
                tx.execute(
                    f"delete from failures where {_FAILURE}", {"provider": ref[0], "app_id": ref[1], "kind": kind}
                )
                _decide_again(tx, ref)
            return previous

    def failure_told(self, ref: Ref, kind: str, at: datetime) -> None:
        with self.transaction() as tx:
            tx.execute(
                f"update failures set notified_at = :at where {_FAILURE}",
                {"at": iso(at), "provider": ref[0], "app_id": ref[1], "kind": kind},
            )

    def failures(self, kind: str) -> dict[Ref, Failure]:
        rows = self.database.rows("select * from failures where kind = :kind", kind=kind)
        return {(f.provider, f.app_id): f for f in map(_from_row, rows)}

    # -- providers -----------------------------------------------------------------------
    def provider_failed(self, provider: str, error: str, at: datetime) -> dict[str, Any]:
        """Record a failure; returns the health row (failing_since, notified_at)."""
        with self.transaction() as tx:
            row = tx.one(_HEALTH, provider=provider)
            values = {
                "provider": provider,
                "ok": 0,
                "error": error,
                "failing_since": (row or {}).get("failing_since") or iso(at),
            }
            if row and row["ok"]:
                values["failing_since"] = iso(at)
            tx.upsert("provider_health", values, ("provider",))
            return tx.one(_HEALTH, provider=provider) or {}

    def provider_ok(self, provider: str, at: datetime) -> bool:
        """Record a success; True when the provider was failing until now."""
        with self.transaction() as tx:
            row = tx.one(_HEALTH, provider=provider)
            tx.upsert(
                "provider_health",
                {
                    "provider": provider,
                    "ok": 1,
                    "error": None,
                    "failing_since": None,
                    "last_ok_at": iso(at),
                    "notified_at": None,
                },
                ("provider",),
            )
            return bool(row and not row["ok"])

    def provider_notified(self, provider: str, at: datetime) -> None:
        with self.transaction() as tx:
            tx.update("provider_health", {"provider": provider}, {"notified_at": iso(at)})

    def provider_health(self) -> dict[str, dict[str, Any]]:
        return {r["provider"]: r for r in self.database.rows("select * from provider_health")}


_FAILURE = "provider = :provider and app_id = :app_id and kind = :kind"
_HEALTH = "select * from provider_health where provider = :provider"


def _decide_again(tx: Tx, ref: Ref) -> None:
    """A failure (its next try) is read by the app's decision: the next sweep decides it again."""
    tx.update("apps", {"provider": ref[0], "app_id": ref[1]}, {}, also=DECIDE_AGAIN)


def _failure(tx: Tx | Database, ref: Ref, kind: str) -> Failure | None:
    row = tx.one(f"select * from failures where {_FAILURE}", provider=ref[0], app_id=ref[1], kind=kind)
    return _from_row(row) if row else None


def _from_row(r: dict[str, Any]) -> Failure:
    return Failure(
        r["provider"],
        r["app_id"],
        r["kind"],
        r["count"],
        parse_iso(r["first_at"]),
        parse_iso(r["last_at"]),
        r["reason"],
        parse_iso(r["next_try_at"]),
        parse_iso(r["notified_at"]),
    )
