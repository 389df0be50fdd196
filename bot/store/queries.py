"""What the sweep, status, App Home and the report read: apps by key and by page, counts by
state, and the due index — in SQL, never the whole catalog. Mixed into `Store`, which gives
it `database` and `transaction()`.

The due index: `apps.due_at` is when an app's sleep decision may change by itself (its idle
timeout runs out, a keep ends, a failed sleep's next try comes); NULL means "decide at the
next sweep". Every write of something a decision reads (activity, state, formation, keeps,
failures) sets it back to NULL and bumps `apps.revision` (DECIDE_AGAIN); the sweep writes
the new due times only where the revision is still the one it read (`settle`), so a write
made while it decided is never hidden. Due times are ISO-8601 text, always in UTC, so they
compare as text on both databases. `roster.version` changes when discovery finds, renames
or loses apps: the topology (bot.policy.topology) is made again then only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from bot.store.database import Database, Tx
from bot.store.rows import AppRow, Ref, iso
from bot.store.statements import one_of
from providers.base import AppState

APP_BY_KEY = "select * from apps where provider = :provider and app_id = :app_id"
DECIDE_AGAIN = "due_at = NULL, revision = revision + 1"  # in an update of apps: decide this app again
APP_COLUMNS = ", ".join(f'"{c}"' for c in AppRow.columns())
CHUNK = 500  # keys per `in (…)`: well under both databases' limits on parameters
STALE_BATCH = 100  # stale apps read at a time (no connection is held while the caller works)


class Queries:
    database: Database
    transaction: Callable[[], AbstractContextManager[Tx]]

    def _app_rows(self, where: str, *, order: str = "", **params: Any) -> list[AppRow]:
        with self.database.reading(single=True) as tx:
            found = tx.execute(f"select {APP_COLUMNS} from apps {where} {order}", params).all()
        return [AppRow.from_values(values) for values in found]

    # -- pages and keys ------------------------------------------------------------------
    def roster_version(self) -> int:
        """Changes whenever apps are found, renamed or lost (`listed` would differ)."""
        row = self.database.one("select version from roster")
        return row["version"] if row else 0

    def listed(self) -> list[tuple[str, str, str]]:
        """Every app not gone, as (provider, app_id, name): what the topology is made of."""
        rows = self.database.rows("select provider, app_id, name from apps where gone = 0 order by provider, app_id")
        return [(r["provider"], r["app_id"], r["name"]) for r in rows]

    def apps_of(self, refs: Collection[Ref]) -> list[AppRow]:
        """Some apps not gone, read by key (a page, an app and its group)."""
        ids: dict[str, list[str]] = {}
        for provider, app_id in refs:
            ids.setdefault(provider, []).append(app_id)
        rows: list[AppRow] = []
        for provider, app_ids in sorted(ids.items()):
            for i in range(0, len(app_ids), CHUNK):
                among, params = one_of("id", app_ids[i : i + CHUNK])
                rows += self._app_rows(
                    f"where gone = 0 and provider = :provider and app_id in {among}", **params, provider=provider
                )
        return rows

    def count_states(self) -> dict[tuple[str, str], int]:
        """How many apps not gone are in each state, by (provider, state)."""
        rows = self.database.rows(
            "select provider, state, count(*) as n from apps where gone = 0 group by provider, state"
        )
        return {(r["provider"], r["state"]): r["n"] for r in rows}

    def noteworthy(self, unused_since: datetime) -> set[Ref]:
        """Apps the report names: crashed, running with activity unreadable, or first seen
        before `unused_since` and not used since."""
        unused = " and ".join(f"({c} is null or {c} <= :cut)" for c in AppRow.ACTIVITY)
        rows = self.database.rows(
            "select provider, app_id from apps where gone = 0 and (state = :crashed"
            f" or (state = :running and check_error is not null) or (first_seen <= :cut and {unused}))",
            crashed=AppState.CRASHED.value,
            running=AppState.RUNNING.value,
            cut=iso(_utc(unused_since)),
        )
        return {(r["provider"], r["app_id"]) for r in rows}

    # -- the due index -------------------------------------------------------------------
    def due_apps(self, now: datetime) -> set[Ref]:
        """The apps whose decision may have changed: written since the last sweep, or due by now."""
        rows = self.database.rows(  # two ranges of the due_at index (an OR would read every app)
            "select provider, app_id, gone from apps where due_at is null"
            " union all select provider, app_id, gone from apps where due_at <= :now",
            now=iso(_utc(now)),
        )
        return {(r["provider"], r["app_id"]) for r in rows if not r["gone"]}

    def settle(self, dues: list[tuple[Ref, datetime | None, int]]) -> int:
        """Record when each app's decision may change next (None: at the next sweep), unless
        it was written since its `revision` was read. Returns how many were recorded."""
        rows = [
            {"due": iso(_utc(due)) if due else None, "provider": ref[0], "app_id": ref[1], "revision": revision}
            for ref, due, revision in dues
        ]
        if not rows:
            return 0
        with self.transaction() as tx:
            return tx.execute(
                "update apps set due_at = :due"
                " where provider = :provider and app_id = :app_id and revision = :revision",
                rows,
            ).rowcount

    def stale_apps(self, provider: str, checked_before: datetime) -> Iterator[AppRow]:
        """Running apps of `provider` whose activity was not read since `checked_before`, the
        least recently read first (never read: first of all). Read STALE_BATCH at a time,
        each batch after the last one read (the caller may write in between)."""
        params: dict[str, Any] = {
            "provider": provider,
            "running": AppState.RUNNING.value,
            "before": iso(_utc(checked_before)),
            "n": STALE_BATCH,
        }
        order = "coalesce(checked_at, ''), name, app_id"
        after = ""
        while True:
            batch = self._app_rows(
                "where provider = :provider and state = :running and gone = 0"
                f" and (checked_at is null or checked_at < :before){after}",
                order=f"order by {order} limit :n",
                **params,
            )
            yield from batch
            if len(batch) < STALE_BATCH:
                return
            last = batch[-1]
            after = f" and ({order}) > (:last_checked, :last_name, :last_id)"
            params |= {"last_checked": iso(last.checked_at) or "", "last_name": last.name, "last_id": last.app_id}


def _utc(moment: datetime) -> datetime:
    """Due times are compared as text: always written in UTC."""
    return moment.astimezone(UTC)


def write_app(tx: Tx, provider: str, app_id: str, values: dict[str, Any]) -> None:
    """Write `values` of one app, and have the next sweep decide it again."""
    tx.update("apps", {"provider": provider, "app_id": app_id}, values, also=DECIDE_AGAIN)
