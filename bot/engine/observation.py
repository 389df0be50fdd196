"""Observation: apps' activity read from their providers into the store, within API budgets.

`check` reads one app (the sweep calls it when an app's sleep decision falls due);
`observe` refreshes running apps not checked lately, with a provider's spare budget only;
`used_since_decided` is the fresh look taken right before an idle app is put to sleep.
Sleeping apps are never polled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.engine.fleet import Fleet
from bot.policy.catalog import AppView
from bot.policy.idle import FRESH
from bot.store.activity import Observed
from providers.base import Provider, ProviderError

log = logging.getLogger(__name__)

ACTIVITY_MARGIN = timedelta(minutes=5)  # a check looks this much further back than the idle timeout
INGESTION_LAG = timedelta(minutes=2)  # requests may show up in provider metrics this late
STALE_AFTER = timedelta(minutes=5)  # observation refreshes activity older than this, budget permitting


class Observer:
    """Reads apps' activity from their providers into the store, within API budgets."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def check(self, view: AppView, *, later: list[Observed] | None = None) -> bool:
        """Read one app's activity into the store; False when it could not be read. With
        `later`, a successful reading is added there for the caller to write with others
        (`Store.record_activities`); a failure is written at once."""
        provider = self.fleet.providers.get(view.row.provider)
        if provider is None:
            return False
        now = self.fleet.clock.now()
        since = now - view.rules.idle_timeout - ACTIVITY_MARGIN
        if view.row.checked_at and view.row.checked_at - INGESTION_LAG > since:
            since = view.row.checked_at - INGESTION_LAG
        try:
            activity = provider.activity(view.row.as_paas_app(), since)
        except ProviderError as exc:
            log.warning("activity.unreadable provider=%s app=%s error=%s", view.row.provider, view.name, exc)
            self.fleet.store.record_check_failure(view.row.provider, view.row.app_id, str(exc), now)
            return False
        observed = (view.row.provider, view.row.app_id, now, activity)
        if later is None:
            self.fleet.store.record_activities([observed])
        else:
            later.append(observed)
        return True

    def observe(self, *, limit_per_provider: int = 50) -> int:
        """Refresh the activity of running apps not checked lately, with spare budget only."""
        checked = 0
        before = self.fleet.clock.now() - STALE_AFTER
        for name, provider in self.fleet.providers.items():
            for number, view in enumerate(self.fleet.stale(name, before)):
                budget = provider.budget()
                if number >= limit_per_provider or (budget is not None and budget.spare < 1):
                    break
                checked += self.check(view)
        return checked

    def used_since_decided(self, view: AppView, provider: Provider) -> bool:
        """Sleeping many apps takes time (API budget waits): when the confirming check has
        aged, check again — with budget for that check and the scale right behind it — so
        the scale follows a check by seconds, never by a minute of waiting."""
        if "forced-sleep" in view.decision.reason:
            return False
        now = self.fleet.clock.now()
        if view.row.checked_at is not None and now - view.row.checked_at <= FRESH:
            return False  # the decision was made on a fresh check (no read of the store needed)
        checked = self.fleet.store.app(*view.ref).checked_at
        if checked is not None and now - checked <= FRESH:
            return False
        self._await_headroom(provider, calls=2)
        if not self.check(view):
            return True  # unreadable now: unknown is never idle
        row = self.fleet.store.app(*view.ref)
        before = view.row.last_activity
        return row is not None and row.last_activity is not None and (before is None or row.last_activity > before)

    def _await_headroom(self, provider: Provider, *, calls: int, patience: float = 90.0) -> None:
        waited = 0.0
        while waited < patience:
            budget = provider.budget()
            if budget is None or budget.limit_per_minute - budget.used_last_minute >= calls:
                return
            self.fleet.clock.sleep(1.0)
            waited += 1.0
