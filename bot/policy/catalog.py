"""The catalog: every known app with its rules, group, pin and current decision; finding an
app from what someone typed. Pure: built from store rows, rules and `now`.

An app whose formation has no web process (worker or clock only) is not managed unless a
rule says `manage_workers: true`: "no HTTP request" says nothing of its use.

The topology (rules, labels, links, groups, order) depends on the apps' names alone: it is
built once per set of apps (`topology`) and `build_catalog` decides any subset of apps with
it — an app and its group, a page — without deciding every app.

Groups: apps tied by `linked_apps` or sharing a `group` name. A group shares its activity
(a back end reached only through its front end stays up while the front is used) and
sleeps together; waking an app wakes the apps it links to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.policy.idle import NEVER, Decision, Facts, Verdict, decide, settled_until
from bot.policy.rules import AppRules
from bot.policy.schedules import ScheduleState
from bot.policy.topology import CatalogInputs, Named, ProviderInfo, Topology, find_ref, topology
from bot.store.rows import AppRow, Failure, Keep, Ref
from providers.base import AppState

__all__ = ["AppView", "AppsPage", "Catalog", "CatalogInputs", "ProviderInfo", "build_catalog", "worker_only"]


@dataclass(frozen=True)
class AppView:
    row: AppRow
    rules: AppRules
    kind: str  # provider type
    label: str  # what Slack shows: the name, with the provider or id when names collide
    decision: Decision
    keep: Keep | None = None
    group: tuple[Ref, ...] = ()  # every member, itself included
    linked: tuple[Ref, ...] = ()  # the apps waking this one wakes
    schedule: ScheduleState | None = None
    failure: Failure | None = None  # its sleep keeps failing: how often, since when, next try
    # until when its own decision holds as time passes (None: decide again at the next sweep)
    settles: datetime | None = field(default=None, compare=False)

    @property
    def ref(self) -> Ref:
        return self.row.key

    @property
    def name(self) -> str:
        return self.rules.name

    @property
    def state(self) -> AppState:
        return self.row.state

    @property
    def managed(self) -> bool:
        return self.rules.ignored is None

    @property
    def value(self) -> str:
        """The app in a button's value: `provider:app_id`."""
        return f"{self.row.provider}:{self.row.app_id}"


class Catalog:
    def __init__(self, views: Iterable[AppView]) -> None:
        self.views = sorted(views, key=lambda v: (v.row.provider, v.name.lower(), v.row.app_id))
        self._by_ref = {v.ref: v for v in self.views}

    def __iter__(self):
        return iter(self.views)

    def __len__(self) -> int:
        return len(self.views)

    def get(self, ref: Ref) -> AppView | None:
        return self._by_ref.get(ref)

    def due(self, view: AppView) -> datetime | None:
        """When the sweep must decide `view` again: the soonest of its group's members
        (they share activity, and one kept up holds the others). None: at the next sweep."""
        dues = [m.settles for m in self.members(view)] or [view.settles]
        return None if None in dues else min(d for d in dues if d is not None)

    def members(self, view: AppView) -> list[AppView]:
        return [self._by_ref[r] for r in view.group if r in self._by_ref]

    def linked(self, view: AppView) -> list[AppView]:
        """Apps waking `view` wakes too, transitively, without `view` itself."""
        seen, queue, result = {view.ref}, list(view.linked), []
        while queue:
            ref = queue.pop(0)
            if ref in seen or ref not in self._by_ref:
                continue
            seen.add(ref)
            linked_view = self._by_ref[ref]
            result.append(linked_view)
            queue.extend(linked_view.linked)
        return result

    def find(self, text: str) -> AppView:
        """The app someone means by `text`: a label, a name, a provider name, an id,
        or `provider:app`. Raises UnknownApp with the closest names, or AmbiguousApp."""
        named = [Named(v.ref, v.label, v.name, v.row.name, v.row.app_id) for v in self.views]
        return self._by_ref[find_ref(named, text)]

    def search(self, text: str | None) -> list[AppView]:
        """Apps whose label, name or provider contains `text`, or are in state `text`."""
        if not text:
            return list(self.views)
        wanted = text.strip().lower()
        return [
            v
            for v in self.views
            if wanted in v.label.lower()
            or wanted in v.row.name.lower()
            or wanted == v.state.value
            or wanted in v.row.provider.lower()
            or wanted == v.kind
        ]


@dataclass(frozen=True)
class AppsPage:
    """A page of the apps in the catalog's order, and what the whole list counts."""

    shown: list[AppView]
    catalog: Catalog | None  # the apps shown, with their groups (None: their groups are not shown)
    states: Mapping[AppState, int]  # every app, by state (being woken: waking)
    total: int
    number: int  # 1-based, within 1..pages
    pages: int
    start: int  # index of the first app shown


def build_catalog(
    rows: Sequence[AppRow],
    inputs: CatalogInputs,
    now: datetime,
    *,
    keeps: Mapping[Ref, Keep] | None = None,
    waking: frozenset[Ref] = frozenset(),
    failures: Mapping[Ref, Failure] | None = None,
    apps: Topology | None = None,
) -> Catalog:
    """`failures`: the apps whose sleep keeps failing (bot.engine.troubles). `apps`: the
    topology of every app, when `rows` are some of them (each with its whole group)."""
    keeps = keeps or {}
    failures = failures or {}
    # an app being woken shows as waking from the first click, before the provider says so
    rows = [
        replace(r, state=AppState.WAKING) if r.key in waking and r.state is not AppState.RUNNING else r for r in rows
    ]
    apps = apps or topology(rows, inputs)
    by_ref = {r.key: r for r in rows}
    views = []
    for row in rows:
        rules = _unless_worker_only(apps.rules[row.key], row)
        group = apps.groups[row.key]
        members = [by_ref[r] for r in group if r in by_ref]
        schedule = inputs.schedule_of(rules.schedule, now) if inputs.schedule_of else None
        failure = failures.get(row.key)
        facts = _facts(row, rules, members, keeps.get(row.key), schedule, row.key in waking, failure)
        decision = decide(facts, now)
        view = AppView(
            row=row,
            rules=rules,
            kind=apps.kinds[row.key],
            label=apps.labels[row.key],
            decision=decision,
            keep=keeps.get(row.key),
            group=tuple(group),
            linked=tuple(apps.linked[row.key]),
            schedule=schedule,
            failure=failure,
            settles=settled_until(facts, decision, now, scheduled=bool(rules.schedule)),
        )
        views.append(view)
    return Catalog(_group_decisions(views))


def _facts(
    row: AppRow,
    rules: AppRules,
    members: Sequence[AppRow],
    keep: Keep | None,
    schedule: ScheduleState | None,
    waking: bool,
    failure: Failure | None,
) -> Facts:
    activities = [m.last_activity for m in members if m.last_activity]
    running = [m for m in members if m.state is AppState.RUNNING]
    checks = [m.checked_at for m in running] or [row.checked_at]
    return Facts(
        state=row.state,
        idle_timeout=rules.idle_timeout,
        last_activity=max(activities) if activities and all(m.last_activity for m in running) else None,
        checked_at=None if any(c is None for c in checks) else min(checks),
        ignored=rules.ignored,
        protected=rules.protected,
        kept_until=keep.until if keep else None,
        kept_by=keep.by_name if keep else None,
        keep_window=schedule.keep_window if schedule else None,
        forced_sleep_since=schedule.forced_since if schedule else None,
        forced_sleep_window=schedule.forced_window if schedule else None,
        awake_since=row.awake_since,
        waking=waking,
        sleep_failures=failure.count if failure else 0,
        next_sleep_try=failure.next_try_at if failure else None,
        worker_only=worker_only(row),
    )


NO_WEB = "no web process: add `manage_workers: true` to a rule to manage it"


def worker_only(row: AppRow) -> bool:
    """Its formation is known and has no web process (worker or clock only)."""
    formation = row.formation or row.recorded_formation
    return bool(formation and formation.processes) and all(p.name != "web" for p in formation.processes)


def _unless_worker_only(rules: AppRules, row: AppRow) -> AppRules:
    if rules.ignored is None and not rules.manage_workers and worker_only(row):
        return replace(rules, ignored=NO_WEB)
    return rules


def _group_decisions(views: list[AppView]) -> list[AppView]:
    """A group sleeps together: while one running member must stay up (kept, protected,
    in a window, waking), none of the others is put to sleep."""
    by_ref = {v.ref: v for v in views}
    result = []
    for view in views:
        if view.decision.verdict in (Verdict.SLEEP, Verdict.CHECK) and len(view.group) > 1:
            holders = [
                by_ref[r]
                for r in view.group
                if r != view.ref
                and r in by_ref
                and by_ref[r].managed
                and by_ref[r].state is AppState.RUNNING
                and by_ref[r].decision.verdict is Verdict.KEEP
                and by_ref[r].decision.sleeps_at is None
            ]
            if holders and "forced-sleep" not in view.decision.reason:
                reason = f"its group is kept up by {holders[0].label} ({holders[0].decision.reason})"
                # held up by the others, it waits for them: the group's soonest due covers it
                view = replace(view, decision=Decision(Verdict.KEEP, reason), settles=NEVER)
        result.append(view)
    return result
