"""The catalog: every known app with its rules, group, pin and current decision; finding an
app from what someone typed. Pure: built from store rows, rules and `now`.

An app whose formation has no web process (worker or clock only) is not managed unless a
rule says `manage_workers: true`: "no HTTP request" says nothing of its use.

Groups: apps tied by `linked_apps` or sharing a `group` name. A group shares its activity
(a back end reached only through its front end stays up while the front is used) and
sleeps together; waking an app wakes the apps it links to.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache

from bot.errors import AmbiguousApp, UnknownApp
from bot.policy.idle import NEVER, Decision, Facts, Verdict, decide, settled_until
from bot.policy.rules import AppRules, Rule, resolve
from bot.policy.schedules import ScheduleState
from bot.store.rows import AppRow, Failure, Keep, Ref
from providers.base import AppState


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    kind: str
    zone: str = ""


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
        wanted = text.strip().strip("`").lower()
        if ":" in wanted:
            provider, _, app = wanted.partition(":")
            hits = [
                v
                for v in self.views
                if v.row.provider.lower() == provider
                and app in (v.row.app_id.lower(), v.name.lower(), v.row.name.lower())
            ]
            if len(hits) == 1:
                return hits[0]
        for key in (
            lambda v: v.label.lower(),
            lambda v: v.name.lower(),
            lambda v: v.row.name.lower(),
            lambda v: v.row.app_id.lower(),
        ):
            hits = [v for v in self.views if key(v) == wanted]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise AmbiguousApp(text, [v.label for v in hits])
        names = sorted({v.label for v in self.views} | {v.name for v in self.views})
        close = difflib.get_close_matches(wanted, [n.lower() for n in names], n=3, cutoff=0.5)
        by_lower = {n.lower(): n for n in names}
        prefix = [n for n in names if n.lower().startswith(wanted)][:3] if wanted else []
        suggestions = list(dict.fromkeys([*prefix, *(by_lower[c] for c in close)]))[:3]
        raise UnknownApp(text, suggestions)

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


@dataclass(frozen=True, eq=False)
class CatalogInputs:
    """Everything a catalog is built from besides the store rows."""

    providers: Mapping[str, ProviderInfo]
    rules: Sequence[Rule]
    default_idle: timedelta
    ignored_apps: Sequence[str] = ()
    self_app: str | None = None
    schedule_of: Callable[[str | None, datetime], ScheduleState] | None = None


def build_catalog(
    rows: Sequence[AppRow],
    inputs: CatalogInputs,
    now: datetime,
    *,
    keeps: Mapping[Ref, Keep] | None = None,
    waking: frozenset[Ref] = frozenset(),
    failures: Mapping[Ref, Failure] | None = None,
) -> Catalog:
    """`failures`: the apps whose sleep keeps failing (bot.engine.troubles)."""
    keeps = keeps or {}
    failures = failures or {}
    # an app being woken shows as waking from the first click, before the provider says so
    rows = [
        replace(r, state=AppState.WAKING) if r.key in waking and r.state is not AppState.RUNNING else r for r in rows
    ]
    resolved: dict[Ref, AppRules] = {}
    kinds: dict[Ref, str] = {}
    for row in rows:
        info = inputs.providers.get(row.provider, ProviderInfo(row.provider, row.provider))
        kinds[row.key] = info.kind
        resolved[row.key] = _unless_worker_only(_resolved(inputs, info, row.name), row)
    labels = _labels(rows, resolved)
    linked = _links(rows, resolved)
    groups = _groups(rows, resolved, linked)
    by_ref = {r.key: r for r in rows}
    views = []
    for row in rows:
        rules = resolved[row.key]
        group = groups[row.key]
        members = [by_ref[r] for r in group]
        schedule = inputs.schedule_of(rules.schedule, now) if inputs.schedule_of else None
        failure = failures.get(row.key)
        facts = _facts(row, rules, members, keeps.get(row.key), schedule, row.key in waking, failure)
        decision = decide(facts, now)
        view = AppView(
            row=row,
            rules=rules,
            kind=kinds[row.key],
            label=labels[row.key],
            decision=decision,
            keep=keeps.get(row.key),
            group=tuple(group),
            linked=tuple(linked[row.key]),
            schedule=schedule,
            failure=failure,
            settles=settled_until(facts, decision, now, scheduled=bool(rules.schedule)),
        )
        views.append(view)
    return Catalog(_group_decisions(views))


@lru_cache(maxsize=100_000)
def _resolved(inputs: CatalogInputs, info: ProviderInfo, name: str) -> AppRules:
    """Rules change only with the configuration: resolve each app once."""
    return resolve(
        inputs.rules,
        name,
        provider_name=info.name,
        provider_kind=info.kind,
        provider_zone=info.zone,
        default_idle=inputs.default_idle,
        ignored_apps=inputs.ignored_apps,
        self_app=inputs.self_app,
    )


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


def _labels(rows: Sequence[AppRow], resolved: Mapping[Ref, AppRules]) -> dict[Ref, str]:
    by_name: dict[str, list[AppRow]] = {}
    for row in rows:
        by_name.setdefault(resolved[row.key].name.lower(), []).append(row)
    labels = {}
    for same in by_name.values():
        providers = {r.provider for r in same}
        for row in same:
            name = resolved[row.key].name
            if len(same) == 1:
                labels[row.key] = name
            elif len(providers) == len(same):
                labels[row.key] = f"{name} ({row.provider})"
            else:
                labels[row.key] = f"{name} ({row.app_id})"
    return labels


def _lookup(rows: Sequence[AppRow], resolved: Mapping[Ref, AppRules]) -> Callable[[str, str], Ref | None]:
    by_name: dict[tuple[str, str], Ref] = {}
    anywhere: dict[str, list[Ref]] = {}
    for row in rows:
        for name in {row.name, resolved[row.key].name, row.app_id}:
            by_name.setdefault((row.provider, name), row.key)
            anywhere.setdefault(name, []).append(row.key)

    def find(provider: str, name: str) -> Ref | None:
        if (provider, name) in by_name:
            return by_name[(provider, name)]
        candidates = anywhere.get(name, [])
        return candidates[0] if len(set(candidates)) == 1 else None

    return find


def _links(rows: Sequence[AppRow], resolved: Mapping[Ref, AppRules]) -> dict[Ref, list[Ref]]:
    find = _lookup(rows, resolved)
    links: dict[Ref, list[Ref]] = {}
    for row in rows:
        targets = [find(row.provider, name) for name in resolved[row.key].linked_apps]
        links[row.key] = [t for t in dict.fromkeys(targets) if t and t != row.key]
    by_group: dict[str, list[Ref]] = {}
    for row in rows:
        if resolved[row.key].group:
            by_group.setdefault(resolved[row.key].group, []).append(row.key)
    for members in by_group.values():
        for ref in members:
            links[ref] = list(dict.fromkeys([*links[ref], *(m for m in members if m != ref)]))
    return links


def _groups(
    rows: Sequence[AppRow], resolved: Mapping[Ref, AppRules], links: Mapping[Ref, list[Ref]]
) -> dict[Ref, list[Ref]]:
    parent = {row.key: row.key for row in rows}

    def root(ref: Ref) -> Ref:
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    for ref, targets in links.items():
        for target in targets:
            if target in parent:
                parent[root(target)] = root(ref)
    members: dict[Ref, list[Ref]] = {}
    for row in rows:
        members.setdefault(root(row.key), []).append(row.key)
    return {row.key: sorted(members[root(row.key)]) for row in rows}
