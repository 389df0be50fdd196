"""The plan's app limit, kept at the provider seam: the engine of a workspace sees only the
apps its plan monitors, so an app beyond the limit is never checked, slept or woken — it is
not in that workspace's store at all. Which apps: `plans.choose_monitored` over every app the
workspace's providers ever listed (pins first, then the oldest known). An app it managed
and that is asleep stays in, over the limit, until it is woken: a smaller plan or another
choice never leaves an app asleep where Slack cannot wake it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.hosted.plans import KnownApp, choose_monitored
from bot.hosted.registry import Registry
from providers.base import AppState, PaasApp, Provider


class MonitoredProvider:
    """A provider whose `list_apps` keeps the monitored apps only; everything else is the
    provider's own."""

    def __init__(
        self, inner: Provider, registry: Registry, team_id: str, limit: Callable[[], int], providers: frozenset[str]
    ) -> None:
        """`providers`: the names of every provider of the workspace (the limit is for all)."""
        self.inner = inner
        self.providers = providers
        self.registry = registry
        self.team_id = team_id
        self.limit = limit

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def list_apps(self) -> list[PaasApp]:
        apps = self.inner.list_apps()
        self.registry.record_seen(self.team_id, [(self.inner.name, app.id, app.name) for app in apps])
        listed = {app.id for app in apps}
        known = self.registry.known_apps(self.team_id)
        monitored, _ = split(known, self.limit(), self.providers)
        keep = {a.app_id for a in monitored if a.provider == self.inner.name and a.app_id in listed}
        shown = {a.app_id for a in known if a.provider == self.inner.name and a.shown}
        keep |= {app.id for app in apps if app.state is AppState.SLEEPING and app.id in shown}
        self.registry.mark_shown(self.team_id, self.inner.name, keep)
        return [app for app in apps if app.id in keep]


def split(known: list[KnownApp], limit: int, providers: frozenset[str]) -> tuple[list[KnownApp], list[KnownApp]]:
    """(monitored, not monitored) among the apps of the providers connected now."""
    return choose_monitored([a for a in known if a.provider in providers], limit)
