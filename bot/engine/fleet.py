"""The fleet: the apps Paastis manages, as every part of the engine reads them.

    providers   where the apps run, by provider name
    store       what Paastis knows of them (SQLite)
    clock       the time
    catalog()   the store's apps with their rules, keeps, wakes in flight and failing sleeps, decided now
    stale(…)    running apps whose activity was not read lately, least recently first (no catalog)
    topology()  the apps' rules, labels and groups: made again only when the set of apps changes
    around(…)   some apps with their groups, decided as the whole catalog decides them
    find(…), page(…), states()  an app someone names, a page of apps, the counts by state: no catalog
    wakes       the wakes in flight: one job per app (bot.engine.wake_jobs)
    lock(ref)   one provider operation (a sleep, a wake) at a time per app

It holds no policy (bot.policy.catalog decides) and calls no provider.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from bot.engine.wake_jobs import WakeCoordinator
from bot.errors import ActionRefused
from bot.policy.catalog import AppsPage, AppView, Catalog, CatalogInputs, build_catalog
from bot.policy.topology import Listed, Topology, topology
from bot.store.rows import Ref
from bot.store.store import Store
from providers.base import AppState, Clock, Provider


class Fleet:
    def __init__(self, providers: Mapping[str, Provider], store: Store, clock: Clock, inputs: CatalogInputs) -> None:
        self.providers = providers
        self.store = store
        self.clock = clock
        self.inputs = inputs
        self.wakes = WakeCoordinator()
        self._locks: dict[Ref, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._topology: tuple[int, Topology] | None = None  # with the roster version it was made at

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

    def topology(self) -> Topology:
        version = self.store.roster_version()  # read before the apps: never newer than them
        cached = self._topology
        if cached is None or cached[0] != version:
            listed = self.store.listed()
            cached = (version, topology([Listed(*app) for app in listed], self.inputs))
            self._topology = cached
        return cached[1]

    def around(self, refs: Iterable[Ref], apps: Topology | None = None) -> Catalog:
        apps = apps or self.topology()
        wanted = {member for ref in refs for member in apps.groups.get(ref, ())}
        rows = [row for row in self.store.apps_of(wanted) if row.key in apps.rules]
        now = self.clock.now()
        waking = self.wakes.in_flight()
        keeps, failures = self.store.keeps(now), self.store.failures("sleep")
        return build_catalog(rows, self.inputs, now, keeps=keeps, waking=waking, failures=failures, apps=apps)

    def find(self, text: str) -> AppView:
        return self.find_around(text)[0]

    def find_around(self, text: str) -> tuple[AppView, Catalog]:
        """The app someone names (UnknownApp, AmbiguousApp), with its group: the apps a
        wake or a sleep of it concerns."""
        apps = self.topology()
        ref = apps.find(text)
        catalog = self.around([ref], apps)
        view = catalog.get(ref)
        if view is None:  # lost since the topology was read
            catalog = self.catalog()
            view = catalog.find(text)
        return view, catalog

    def page(self, number: int, size: int, max_blocks: int) -> AppsPage | None:
        """Page `number` of every app, `size` apps a page. None when provider headings could
        push a page past `max_blocks` (2 blocks an app): pages then split by blocks, which
        takes every app's decision (the whole catalog)."""
        apps = self.topology()
        if len({provider for provider, _ in apps.order}) + 2 * size > max_blocks:
            return None
        total = len(apps.order)
        pages = max(1, -(-total // size))
        number = min(max(number, 1), pages)
        start = (number - 1) * size
        refs = apps.order[start : start + size]
        catalog = self.around(refs, apps)
        states: Counter[AppState] = Counter()
        for (_, state), count in self.states().items():
            states[state] += count
        shown = [view for ref in refs if (view := catalog.get(ref))]
        return AppsPage(shown, catalog, states, total, number, pages, start)

    def states(self) -> Counter[tuple[str, AppState]]:
        """How many apps of each provider are in each state, as the catalog shows them."""
        states = Counter({(provider, AppState(state)): n for (provider, state), n in self.store.count_states().items()})
        for row in self.store.apps_of(self.wakes.in_flight()):
            if row.state is not AppState.RUNNING:  # shown as waking from the first click
                states[row.provider, row.state] -= 1
                states[row.provider, AppState.WAKING] += 1
        return +states  # without the states counted down to nothing

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
