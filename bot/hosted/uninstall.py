"""Uninstall and purge.

`app_uninstalled` and `tokens_revoked` (either may come first, and Slack retries) run the same
idempotent `uninstall`: the workspace's Slack tokens and provider credentials are deleted at
once, its Paastis closed, and which apps were asleep kept as the uninstall notice — Slack has
revoked the token before the event arrives, so it cannot be posted there: it is logged, listed
by `paastis workspaces` and shown again if the workspace reinstalls Paastis. Everything else
of the workspace (its store — a SQLite file, or a PostgreSQL schema —, plan, rules, known
apps) is kept for the grace period (PAASTIS_PURGE_AFTER_DAYS, 7 days) — a reinstall within it
finds its history — then purged by `purge_due`, which `paastis serve` runs every hour: the
registry's rows and the workspace's file deleted, or its schema dropped, in one go.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.clock import Clock
from bot.hosted.registry import Registry
from bot.hosted.settings import HostedSettings, workspace_schema
from bot.hosted.tenants import Tenants
from bot.store.database import Tx
from bot.store.store import Store
from providers.base import AppState

log = logging.getLogger(__name__)


def has_store(hosted: HostedSettings, registry: Registry, team_id: str) -> bool:
    """Whether the workspace's store exists (its file, or its schema), without making it."""
    where = hosted.workspace_db(team_id)
    if isinstance(where, Path):
        return where.exists()
    found = registry.database.one(
        "select 1 as found from information_schema.schemata where schema_name = :name", name=workspace_schema(team_id)
    )
    return found is not None


def asleep_apps(hosted: HostedSettings, registry: Registry, team_id: str) -> list[str]:
    """The apps the workspace's store says are asleep (its Paastis need not be running)."""
    if not has_store(hosted, registry, team_id):
        return []
    store = Store(hosted.workspace_db(team_id))
    try:
        return sorted(row.name for row in store.apps() if row.state is AppState.SLEEPING)
    finally:
        store.close()


def uninstall(registry: Registry, tenants: Tenants, clock: Clock, team_id: str) -> None:
    tenants.drop(team_id)
    notice = ", ".join(asleep_apps(tenants.hosted, registry, team_id))
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
        registry.purge(workspace.team_id, lambda tx, team=workspace.team_id: _drop_store(hosted, tx, team))
        log.info("hosted.purged team=%s", workspace.team_id)
        purged.append(workspace.team_id)
    return purged


def _drop_store(hosted: HostedSettings, tx: Tx, team_id: str) -> None:
    where = hosted.workspace_db(team_id)
    if isinstance(where, Path):
        for file in (where, where.with_name(where.name + "-wal"), where.with_name(where.name + "-shm")):
            file.unlink(missing_ok=True)
    else:
        tx.execute(f'drop schema if exists "{workspace_schema(team_id)}" cascade')
