"""Uninstall and purge.

`app_uninstalled` and `tokens_revoked` (either may come first, and Slack retries) run the same
idempotent `uninstall`: the workspace's Slack tokens and provider credentials are deleted at
once, its Paastis closed, and which apps were asleep kept as the uninstall notice — Slack has
revoked the token before the event arrives, so it cannot be posted there: it is logged, listed
by `paastis workspaces` and shown again if the workspace reinstalls Paastis. Everything else
of the workspace (its database file, plan, rules, known apps) is kept for the grace period
(PAASTIS_PURGE_AFTER_DAYS, 7 days) — a reinstall within it finds its history — then purged by
`purge_due`, which `paastis serve` runs every hour.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.clock import Clock
from bot.hosted.registry import Registry
from bot.hosted.settings import HostedSettings
from bot.hosted.tenants import Tenants
from bot.store.store import Store
from providers.base import AppState

log = logging.getLogger(__name__)


def asleep_apps(hosted: HostedSettings, team_id: str) -> list[str]:
    """The apps the workspace's store says are asleep (its Paastis need not be running)."""
    path = hosted.workspace_db(team_id)
    if not path.exists():
        return []
    store = Store(path)
    try:
        return sorted(row.name for row in store.apps() if row.state is AppState.SLEEPING)
    finally:
        store.close()


def uninstall(registry: Registry, tenants: Tenants, clock: Clock, team_id: str) -> None:
    tenants.drop(team_id)
    notice = ", ".join(asleep_apps(tenants.hosted, team_id))
    if registry.uninstall(team_id, clock.now().isoformat(), notice):
        log.warning(
            "hosted.uninstalled team=%s asleep=%s note=tokens and credentials deleted; these apps stay asleep "
            "until scaled up from the provider's console",
            team_id,
            notice or "none",
        )


def purge_due(registry: Registry, hosted: HostedSettings, clock: Clock) -> list[str]:
    """Purge every workspace uninstalled longer than the grace period; the teams purged."""
    now = clock.now()
    purged = []
    for workspace in registry.workspaces():
        if not workspace.uninstalled_at or now - datetime.fromisoformat(workspace.uninstalled_at) < hosted.grace:
            continue
        path = hosted.workspace_db(workspace.team_id)
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            file.unlink(missing_ok=True)
        registry.purge(workspace.team_id)
        log.info("hosted.purged team=%s", workspace.team_id)
        purged.append(workspace.team_id)
    return purged
