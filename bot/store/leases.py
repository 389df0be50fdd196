"""Leases: which instance leads the scheduled work, and each periodic run claimed once.

A lease is a row (`name`, `owner`, `expires_at`) taken in a write transaction when it is
free or expired, and renewed by its owner before it expires; the same on SQLite and
PostgreSQL. A run of a job for a period (`sweep` at 09:00) is a row too: the first
instance to insert it runs it, any other finds it there. Mixed into `Store`, which gives it
`owner`, `database` and `transaction()`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from bot.store.database import Database, Tx
from bot.store.rows import iso, parse_iso


class Leases:
    owner: str
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    def hold_lease(self, name: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `ttl`; True when it is ours now."""
        with self.transaction() as tx:
            row = tx.one("select owner, expires_at from leases where name = :name", name=name)
            free = row is None or row["owner"] == self.owner or (parse_iso(row["expires_at"]) or now) <= now
            if free:
                values = {"name": name, "owner": self.owner, "expires_at": iso(now + ttl)}
                tx.upsert("leases", values, ("name",))
            old = iso(now - timedelta(days=1))
            tx.execute("delete from leases where name like 'process:%' and expires_at < :old", {"old": old})
            return free

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease `name` now (None: nobody, or it expired)."""
        row = self.database.one("select owner, expires_at from leases where name = :name", name=name)
        expires = parse_iso(row["expires_at"]) if row else None
        return row["owner"] if row and expires and expires > now else None

    def release_lease(self, name: str) -> None:
        with self.transaction() as tx:
            tx.execute("delete from leases where name = :name and owner = :me", {"name": name, "me": self.owner})

    def claim_run(self, job: str, period: datetime, now: datetime) -> bool:
        """Claim the run of `job` for `period`; False when an instance (this one too) claimed it already."""
        with self.transaction() as tx:
            values = {"job": job, "period": iso(period), "owner": self.owner, "at": iso(now)}
            done = tx.execute(
                "insert into job_runs (job, period, owner, at) values (:job, :period, :owner, :at) "
                "on conflict (job, period) do nothing",
                values,
            )
            tx.execute(
                "delete from job_runs where job = :job and at < :old", {"job": job, "old": iso(now - timedelta(days=2))}
            )
            return done.rowcount == 1
