"""The plans of the hosted edition and their limits (pure).

    free        1 provider connection,  3 apps monitored at once (the default)
    team        3 provider connections, 20 apps
    enterprise  unlimited connections, 100 apps

A note (green, sre, npo) records a special offer; it changes no limit by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    max_providers: int | None  # None: unlimited
    max_apps: int

    def providers_text(self, used: int) -> str:
        return f"{used}/{self.max_providers}" if self.max_providers is not None else f"{used} (unlimited)"


PLANS = {
    "free": Plan("free", 1, 3),
    "team": Plan("team", 3, 20),
    "enterprise": Plan("enterprise", None, 100),
}
NOTES = ("green", "sre", "npo")
DEFAULT_PLAN = "free"


def plan(name: str) -> Plan:
    return PLANS.get(name, PLANS[DEFAULT_PLAN])


@dataclass(frozen=True)
class KnownApp:
    """An app a workspace's providers listed: `pinned` (a `/paastis monitor`) or `excluded`
    (an `/paastis unmonitor`), and its rank among the apps first seen (older first)."""

    provider: str
    app_id: str
    name: str
    seen_rank: int
    pinned_at: str | None = None
    excluded: bool = False
    shown: bool = False  # in the workspace's Paastis at the last discovery


def choose_monitored(apps: Sequence[KnownApp], limit: int) -> tuple[list[KnownApp], list[KnownApp]]:
    """(monitored, not monitored): the pinned apps first (earliest pin first), then the oldest
    known; an excluded app is never monitored. Deterministic for the same apps."""
    pinned = sorted((a for a in apps if a.pinned_at and not a.excluded), key=lambda a: (a.pinned_at, a.seen_rank))
    rest = sorted((a for a in apps if not a.pinned_at and not a.excluded), key=lambda a: a.seen_rank)
    ordered = [*pinned, *rest]
    excluded = sorted((a for a in apps if a.excluded), key=lambda a: a.seen_rank)
    return ordered[:limit], [*ordered[limit:], *excluded]
