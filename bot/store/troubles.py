"""What keeps failing: each provider's health, and each app's failures that repeat (a sleep
retried with back-off, a wake, a hook), with when the channel was last told of them.
Mixed into `Store`, which gives it `db` and `transaction()`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.store.rows import Failure, Ref, iso, parse_iso


class Troubles:
    db: sqlite_utils.Database
    transaction: Callable[[], AbstractContextManager[sqlite_utils.Database]]

    # -- apps ----------------------------------------------------------------------------
    def app_failed(self, ref: Ref, kind: str, reason: str, at: datetime, next_try_at: datetime | None) -> Failure:
        """One more failure of `kind` for an app; returns the failure as it stands now."""
        with self.transaction() as db:
            previous = _failure(db, ref, kind)
            db["failures"].upsert(
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
                pk=("provider", "app_id", "kind"),
            )
            _decide_again(db, ref)
            failure = _failure(db, ref, kind)
            assert failure is not None
            return failure

    def app_recovered(self, ref: Ref, kind: str) -> Failure | None:
        """The failure of `kind` has ended: forget it; returns it as it was (None: there was none)."""
        if _failure(self.db, ref, kind) is None:
            return None  # the usual case, read without taking the write lock
        with self.transaction() as db:
            previous = _failure(db, ref, kind)
            if previous:
                db.execute(
                    "delete from failures where provider = ? and app_id = ? and kind = ?", [ref[0], ref[1], kind]
                )
                _decide_again(db, ref)
            return previous

    def failure_told(self, ref: Ref, kind: str, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "update failures set notified_at = ? where provider = ? and app_id = ? and kind = ?",
                [iso(at), ref[0], ref[1], kind],
            )

    def failures(self, kind: str) -> dict[Ref, Failure]:
        rows = self.db["failures"].rows_where("kind = ?", [kind])
        return {(f.provider, f.app_id): f for f in map(_from_row, rows)}

    # -- providers -----------------------------------------------------------------------
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


def _decide_again(db: sqlite_utils.Database, ref: Ref) -> None:
    """A failure (its next try) is read by the app's decision: the next sweep decides it again."""
    db.execute("update apps set due_at = NULL, revision = revision + 1 where provider = ? and app_id = ?", list(ref))


def _failure(db: sqlite_utils.Database, ref: Ref, kind: str) -> Failure | None:
    rows = list(db["failures"].rows_where("provider = ? and app_id = ? and kind = ?", [ref[0], ref[1], kind]))
    return _from_row(rows[0]) if rows else None


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
