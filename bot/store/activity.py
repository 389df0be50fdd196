"""Apps' activity as observed: what the sweep and observation read from the providers, each
observation kept in `activity` and summed up on its app (newest request, last check, the
check failing since when). Mixed into `Store`, which gives it `transaction()`.

The sweep's checks are written together (`record_activities`, one transaction for many
apps): a transaction costs more than the statements in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bot.store.database import Tx
from bot.store.queries import APP_BY_KEY, write_app
from bot.store.rows import iso, parse_iso
from providers.base import Activity

Observed = tuple[str, str, datetime, Activity]  # provider, app id, when it was read, what was read


class ActivityLog:
    transaction: Callable[[], AbstractContextManager[Tx]]

    def record_activity(
        self,
        provider: str,
        app_id: str,
        *,
        at: datetime,
        since: datetime,
        until: datetime,
        requests: int,
        last_request_at: datetime | None,
        last_deploy_at: datetime | None,
    ) -> None:
        """A successful observation (see `record_activities`)."""
        activity = Activity(since, until, requests, last_request_at, last_deploy_at)
        self.record_activities([(provider, app_id, at, activity)])

    def record_activities(self, observed: Sequence[Observed]) -> None:
        """Successful observations, in one write. With no request in the window, the app has
        been idle at least since the window's start: that is the newest request we can vouch for."""
        if not observed:
            return
        with self.transaction() as tx:
            rows = [_observed(tx, provider, app_id, at, activity) for provider, app_id, at, activity in observed]
            tx.insert_many("activity", rows)

    def record_check_failure(self, provider: str, app_id: str, error: str, at: datetime) -> None:
        with self.transaction() as tx:
            row = tx.one(APP_BY_KEY, provider=provider, app_id=app_id) or {}
            values = {"check_error": error, "check_failed_at": row.get("check_failed_at") or iso(at)}
            write_app(tx, provider, app_id, values)

    def prune_activity(self, older_than: datetime) -> int:
        with self.transaction() as tx:
            return tx.execute("delete from activity where at < :before", {"before": iso(older_than)}).rowcount


def _observed(tx: Tx, provider: str, app_id: str, at: datetime, activity: Activity) -> dict[str, Any]:
    """Sum one observation up on its app; returns its row of `activity`."""
    row = tx.one(APP_BY_KEY, provider=provider, app_id=app_id) or {}
    previous = parse_iso(row.get("last_request_at"))
    previous_check = parse_iso(row.get("checked_at"))
    if activity.last_request_at is not None:
        newest = max(activity.last_request_at, previous) if previous else activity.last_request_at
    elif previous_check is not None and previous_check >= activity.since and previous is not None:
        newest = previous  # this window continues what we saw: nothing new
    else:
        # a gap in what we observed: a request may have come just before the window
        newest = max(activity.since, previous) if previous else activity.since
    values: dict[str, Any] = {
        "last_request_at": iso(newest),
        "checked_at": iso(activity.until),
        "check_error": None,
        "check_failed_at": None,
    }
    if activity.last_deploy_at:
        previous_deploy = parse_iso(row.get("last_deploy_at"))
        if previous_deploy is None or activity.last_deploy_at > previous_deploy:
            values["last_deploy_at"] = iso(activity.last_deploy_at)
    write_app(tx, provider, app_id, values)
    return {
        "provider": provider,
        "app_id": app_id,
        "at": iso(at),
        "since": iso(activity.since),
        "until": iso(activity.until),
        "requests": activity.requests,
        "last_request_at": iso(activity.last_request_at),
    }
