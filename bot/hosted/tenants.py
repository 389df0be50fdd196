"""One complete single-workspace Paastis per workspace (bot.wiring.build), built from the
registry on first use: its own settings (connections, channel, idle time, rules), its own
store file, engine, budgets, chat-ops, scheduler, and Slack side with that workspace's token.
Nothing of one workspace is reachable from another's objects.

    Tenants.get(team, token)   the workspace's Paastis (None before its first connection);
                               built again when its token or its configuration changed
    Tenants.rebuild(team)      after a connection or the settings changed
    Tenants.drop(team)         closed (uninstall)
    Tenants.refresh()          what another instance changed: a workspace uninstalled there is
                               closed here, one whose connections or settings changed is rebuilt

A workspace is started (first discovery, then its scheduler) on a thread of its own, so a
slow or failing provider of one workspace never delays another's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.clock import Clock
from bot.config.loading import Settings, build_settings
from bot.hosted.crypto import SealBroken, Sealer
from bot.hosted.home import workspace_home
from bot.hosted.monitored import MonitoredProvider
from bot.hosted.plans import plan
from bot.hosted.registry import Registry, Workspace
from bot.hosted.settings import HostedSettings
from bot.slack.app import SlackSide, request_client, slack_side
from bot.slack.listeners import Listeners
from bot.wiring import Paastis, build
from providers.base import ProviderDeps, ProviderSpec

log = logging.getLogger(__name__)

RULE_KEYS = ("rules", "schedules", "holidays", "timezone", "idle_timeout", "prices", "reports", "permissions")
DepsFor = Callable[[ProviderSpec], ProviderDeps]


def workspace_settings(
    hosted: HostedSettings,
    workspace: Workspace,
    connections: Mapping[str, tuple[str, dict[str, Any]]],
    token: str | None,
    *,
    channel: str | None = None,
    idle_time: str | None = None,
    rules: str | None = None,
) -> Settings:
    """The settings of one workspace, by the same builder as paastis.yml and the environment
    (so the same messages); ConfigError lists every problem. `connections`: name → (type,
    options). `channel`, `idle_time`, `rules` override the saved ones (the settings modal)."""
    where = hosted.workspace_db(workspace.team_id)
    env = {
        "DATABASE_URL" if hosted.database_url else "PAASTIS_DB": str(where),
        "SLACK_API_URL": hosted.api_url,
        "SLACK_SIGNING_SECRET": hosted.signing_secret,
    }
    values = {
        "PAASTIS_CHANNEL": workspace.channel if channel is None else channel,
        "START_AND_STOP_MAX_IDLE_TIME": workspace.idle_time if idle_time is None else idle_time,
        "SLACK_BOT_TOKEN": token,
    }
    env.update({k: v for k, v in values.items() if v})
    doc = rules_doc(workspace.rules if rules is None else rules)
    doc["providers"] = [{"type": kind, "name": name, **options} for name, (kind, options) in connections.items()]
    return build_settings(env, yaml.safe_dump(doc, sort_keys=False))


def rules_doc(text: str) -> dict[str, Any]:
    """The user's paastis.yml-style rules as a mapping (YAML errors are left to build_settings
    to report in its words); providers and webhooks are not set this way in hosted mode."""
    try:
        doc = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {"rules": "not valid YAML"}
    if not isinstance(doc, dict):
        return {"rules": doc}
    unknown = sorted(set(doc) - set(RULE_KEYS))
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not set here — providers are connected with /paastis connect; "
            f"allowed keys: {', '.join(RULE_KEYS)}"
        )
    return dict(doc)


@dataclass(eq=False)
class Tenant:
    team_id: str
    token: str
    paastis: Paastis
    side: SlackSide
    listeners: Listeners
    source: tuple[Any, ...] = ()  # what it was built from (`Tenants.source`)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _starting: bool = False  # its start runs on its own thread
    _closing: bool = False

    def start(self) -> None:
        """Its first discovery, then its scheduler; a close asked meanwhile happens after."""
        try:
            self.paastis.start(resumed=self.listeners.resume)
        except Exception:  # one workspace failing to start never stops another
            log.exception("hosted.workspace_start_failed team=%s", self.team_id)
        finally:
            with self._lock:
                self._starting = False
                if self._closing:
                    self._close()

    def start_in_background(self) -> None:
        with self._lock:
            self._starting = True
        threading.Thread(target=self.start, name=f"start-{self.team_id}", daemon=True).start()

    def close(self) -> None:
        """Closed now, or by its start thread once the start ends (closing a scheduler that
        is starting races it)."""
        with self._lock:
            self._closing = True
            if not self._starting:
                self._close()

    def _close(self) -> None:
        self.paastis.close()
        self.side.close()


class Tenants:
    def __init__(
        self,
        hosted: HostedSettings,
        registry: Registry,
        sealer: Sealer,
        clock: Clock,
        *,
        deps_for: DepsFor | None = None,
        start: bool = True,
    ) -> None:
        """`start`: start each workspace's jobs once built (False in tests that drive them)."""
        self.hosted = hosted
        self.registry = registry
        self.sealer = sealer
        self.clock = clock
        self.deps_for = deps_for
        self.start = start
        self._tenants: dict[str, Tenant] = {}
        self._lock = threading.RLock()

    def connections(self, team_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
        """name → (type, options) of the workspace's connections it can open."""
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        for connection in self.registry.connections(team_id):
            try:
                found[connection.name] = (connection.kind, dict(self.sealer.open(team_id, connection.sealed)))
            except SealBroken as exc:
                log.error("hosted.connection_unreadable team=%s connection=%s error=%s", team_id, connection.name, exc)
        return found

    def get(self, team_id: str, token: str | None) -> Tenant | None:
        """The workspace's Paastis, built on first use (None: not installed, or nothing connected)."""
        with self._lock:
            tenant = self._tenants.get(team_id)
            if tenant is not None and (token is None or token == tenant.token):
                return tenant
            if tenant is not None:  # its token was rotated: its Slack clients hold the old one
                self._close(team_id)
            return self._build(team_id, token) if token else None

    def rebuild(self, team_id: str, token: str) -> Tenant | None:
        with self._lock:
            self._close(team_id)
            return self._build(team_id, token)

    def source(self, workspace: Workspace) -> tuple[Any, ...]:
        """What a workspace's Paastis is built from: its settings and sealed connections."""
        sealed = tuple((c.name, c.kind, c.sealed) for c in self.registry.connections(workspace.team_id))
        return (workspace.channel, workspace.idle_time, workspace.rules, sealed)

    def refresh(self) -> list[str]:
        """Catch up with what another instance changed (`serve` runs it every minute); the teams closed or rebuilt."""
        changed = []
        with self._lock:
            for team_id, tenant in list(self._tenants.items()):
                workspace = self.registry.workspace(team_id)
                if workspace is not None and not workspace.uninstalled_at and self.source(workspace) == tenant.source:
                    continue
                self._close(team_id)
                if workspace is not None and not workspace.uninstalled_at:
                    self._build(team_id, tenant.token)
                log.info("hosted.workspace_refreshed team=%s running=%s", team_id, team_id in self._tenants)
                changed.append(team_id)
        return changed

    def drop(self, team_id: str) -> None:
        with self._lock:
            self._close(team_id)

    def running(self) -> list[Tenant]:
        with self._lock:
            return list(self._tenants.values())

    def close(self) -> None:
        with self._lock:
            for team_id in list(self._tenants):
                self._close(team_id)

    def _close(self, team_id: str) -> None:
        tenant = self._tenants.pop(team_id, None)
        if tenant is not None:
            tenant.close()

    def _build(self, team_id: str, token: str) -> Tenant | None:
        workspace = self.registry.workspace(team_id)
        connections = self.connections(team_id)
        if workspace is None or workspace.uninstalled_at or not connections:
            return None
        settings = workspace_settings(self.hosted, workspace, connections, token)
        if not settings.database_url:
            settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        names = frozenset(connections)

        def limit() -> int:
            current = self.registry.workspace(team_id)
            return plan(current.plan if current else "free").max_apps

        side = slack_side(settings, self.clock)
        paastis = build(
            settings,
            clock=self.clock,
            deps_for=self.deps_for,
            poster=side.poster,
            groups_of=side.directory.groups_of,
            provider_view=lambda p: MonitoredProvider(p, self.registry, team_id, limit, names),
        )
        listeners = Listeners(
            paastis,
            side.directory,
            side.outbound,
            side.response_urls,
            request_client(settings.slack),
            dashboard=lambda dashboard: workspace_home(self.hosted.offered, self.registry, team_id, dashboard),
        )
        side.outbound.resume()
        tenant = Tenant(team_id, token, paastis, side, listeners, self.source(workspace))
        self._tenants[team_id] = tenant
        log.info("hosted.workspace_built team=%s providers=%s", team_id, ",".join(names))
        if self.start:
            tenant.start_in_background()
        return tenant
