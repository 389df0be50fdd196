"""The fleet: the apps Paastis manages, as every part of the engine reads them.

    providers   where the apps run, by provider name
    store       what Paastis knows of them (SQLite)
    clock       the time
    catalog()   the store's apps with their rules, keeps, wakes in flight and failing sleeps, decided now
    stale(…)    running apps whose activity was not read lately, least recently first (no catalog)
    wakes       the wakes in flight: one job per app (bot.engine.wake_jobs)
    lock(ref)   one provider operation (a sleep, a wake) at a time per app

It holds no policy (bot.policy.catalog decides) and calls no provider.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime

from bot.engine.wake_jobs import WakeCoordinator
from bot.errors import ActionRefused
from bot.policy.catalog import AppView, Catalog, CatalogInputs, build_catalog
from bot.store.rows import Ref
from bot.store.store import Store
from providers.base import Clock, Provider


class Fleet:
    def __init__(self, providers: Mapping[str, Provider], store: Store, clock: Clock, inputs: CatalogInputs) -> None:
        self.providers = providers
        self.store = store
        self.clock = clock
        self.inputs = inputs
        self.wakes = WakeCoordinator()
        self._locks: dict[Ref, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def catalog(self) -> Catalog:
        now = self.clock.now()
        return build_catalog(
            self.store.apps(),
            self.inputs,
            now,
            keeps=self.store.keeps(now),
            waking=self.wakes.in_flight(),
            failures=self.store.failures("sleep"),
        )

    def stale(self, provider: str, checked_before: datetime) -> Iterator[AppView]:
        """Managed running apps of `provider` not checked since `checked_before`, the least
        recently checked first, each with its rules (read a few at a time: no catalog)."""
        now = self.clock.now()
        for row in self.store.stale_apps(provider, checked_before):
            view = next(iter(build_catalog([row], self.inputs, now)))
            if view.managed:
                yield view

    def find(self, text: str) -> AppView:
        return self.catalog().find(text)

    def provider_of(self, view: AppView) -> Provider:
        """The provider an app belongs to; ActionRefused when it is not configured any more."""
        provider = self.providers.get(view.row.provider)
        if provider is None:
            raise ActionRefused(
                f"{view.label} belongs to provider {view.row.provider}, which is not configured any more."
            )
        return provider

    def lock(self, ref: Ref) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(ref, threading.Lock())
