"""The topology of the apps: what follows from their names and the rules alone — each app's
rules, provider type, label (its name, with the provider or id when names collide), links
and group, the catalog's order — and finding an app from what someone typed. Pure. It
changes only when discovery finds, renames or loses apps, so it is built once per set of
apps (bot.engine.fleet keeps it) and shared by every page, answer and sweep."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import NamedTuple

from bot.errors import AmbiguousApp, UnknownApp
from bot.policy.rules import AppRules, Rule, resolve
from bot.policy.schedules import ScheduleState
from bot.store.rows import AppRow, Ref


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    kind: str
    zone: str = ""


class Named(NamedTuple):
    """What someone may call an app by."""

    ref: Ref
    label: str
    name: str  # the name Paastis shows (rules)
    row_name: str  # the provider's name
    app_id: str


def find_ref(apps: Sequence[Named], text: str) -> Ref:
    """The app someone means by `text`: a label, a name, a provider name, an id, or
    `provider:app`. Raises UnknownApp with the closest names, or AmbiguousApp."""
    wanted = text.strip().strip("`").lower()
    if ":" in wanted:
        provider, _, app = wanted.partition(":")
        hits = [
            a
            for a in apps
            if a.ref[0].lower() == provider and app in (a.app_id.lower(), a.name.lower(), a.row_name.lower())
        ]
        if len(hits) == 1:
            return hits[0].ref
    for key in (
        lambda a: a.label.lower(),
        lambda a: a.name.lower(),
        lambda a: a.row_name.lower(),
        lambda a: a.app_id.lower(),
    ):
        hits = [a for a in apps if key(a) == wanted]
        if len(hits) == 1:
            return hits[0].ref
        if len(hits) > 1:
            raise AmbiguousApp(text, [a.label for a in hits])
    names = sorted({a.label for a in apps} | {a.name for a in apps})
    close = difflib.get_close_matches(wanted, [n.lower() for n in names], n=3, cutoff=0.5)
    by_lower = {n.lower(): n for n in names}
    prefix = [n for n in names if n.lower().startswith(wanted)][:3] if wanted else []
    suggestions = list(dict.fromkeys([*prefix, *(by_lower[c] for c in close)]))[:3]
    raise UnknownApp(text, suggestions)


class Listed(NamedTuple):
    """An app as far as the topology is concerned: where it runs, its id and name."""

    provider: str
    app_id: str
    name: str

    @property
    def key(self) -> Ref:
        return (self.provider, self.app_id)


@dataclass(eq=False)
class Topology:
    """What follows from the apps' names and the rules alone: each app's rules (before the
    worker-only check), provider type, label, links and group, and the catalog's order."""

    rules: Mapping[Ref, AppRules]
    kinds: Mapping[Ref, str]
    labels: Mapping[Ref, str]
    linked: Mapping[Ref, list[Ref]]
    groups: Mapping[Ref, list[Ref]]
    order: Sequence[Ref]  # as the catalog lists them: by provider, then name
    names: Mapping[Ref, str]  # the provider's names

    @cached_property
    def named(self) -> list[Named]:
        return [Named(ref, self.labels[ref], self.rules[ref].name, self.names[ref], ref[1]) for ref in self.order]

    def find(self, text: str) -> Ref:
        """The app someone means by `text` (see `find_ref`)."""
        return find_ref(self.named, text)


def topology(apps: Sequence[Listed | AppRow], inputs: CatalogInputs) -> Topology:
    rules: dict[Ref, AppRules] = {}
    kinds: dict[Ref, str] = {}
    for app in apps:
        info = inputs.providers.get(app.provider, ProviderInfo(app.provider, app.provider))
        kinds[app.key] = info.kind
        rules[app.key] = _resolved(inputs, info, app.name)
    linked = _links(apps, rules)
    order = sorted(rules, key=lambda ref: (ref[0], rules[ref].name.lower(), ref[1]))
    names = {app.key: app.name for app in apps}
    return Topology(rules, kinds, _labels(apps, rules), linked, _groups(apps, rules, linked), order, names)


@dataclass(frozen=True, eq=False)
class CatalogInputs:
    """Everything a catalog is built from besides the store rows."""

    providers: Mapping[str, ProviderInfo]
    rules: Sequence[Rule]
    default_idle: timedelta
    ignored_apps: Sequence[str] = ()
    self_app: str | None = None
    schedule_of: Callable[[str | None, datetime], ScheduleState] | None = None


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


def _labels(rows: Sequence[Listed | AppRow], resolved: Mapping[Ref, AppRules]) -> dict[Ref, str]:
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


def _lookup(rows: Sequence[Listed | AppRow], resolved: Mapping[Ref, AppRules]) -> Callable[[str, str], Ref | None]:
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


def _links(rows: Sequence[Listed | AppRow], resolved: Mapping[Ref, AppRules]) -> dict[Ref, list[Ref]]:
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
    rows: Sequence[Listed | AppRow], resolved: Mapping[Ref, AppRules], links: Mapping[Ref, list[Ref]]
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
