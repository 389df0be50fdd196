"""The hosted edition assembled (`Edition`), `paastis serve` in hosted mode, and the
operator's commands.

    Edition(hosted, clock)       the registry, the sealer, one Tenants, the admin, the Bolt app;
                                 wsgi(): /slack/events, /slack/install, /slack/oauth_redirect,
                                 /healthz, /readyz, /metrics
    serve_hosted(hosted)         HTTP on $PORT until SIGTERM; every workspace installed is
                                 started at once (each on its own thread); purges hourly
    paastis plan set <team> <plan> [--note green|sre|npo]
    paastis secrets rotate       every sealed value encrypted again with the first key
    paastis workspaces           workspaces, plans, providers, monitored apps, problems
    paastis workspaces wake-all <team>   wake every app the workspace's Paastis put to sleep
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TextIO

from apscheduler.schedulers.background import BackgroundScheduler

from bot.chat.messages import WAKE
from bot.clock import Clock, SystemClock
from bot.engine.actors import Actor
from bot.hosted import redaction
from bot.hosted.admin import Admin
from bot.hosted.app import build_hosted_app
from bot.hosted.crypto import Sealer
from bot.hosted.metrics import Metrics
from bot.hosted.monitored import MonitoredProvider, split
from bot.hosted.plans import NOTES, PLANS, plan
from bot.hosted.registry import Registry
from bot.hosted.rotation import TokenKeeper
from bot.hosted.settings import HostedSettings
from bot.hosted.stores import RegistryInstallationStore
from bot.hosted.tenants import Tenants, workspace_settings
from bot.hosted.uninstall import purge_due
from bot.slack.server import http_app
from bot.terminal import Terminal, TerminalDestination
from bot.web import Check, HttpServer, WSGIApp, health_app
from bot.wiring import build
from providers.base import AppState, ProviderDeps, ProviderSpec

log = logging.getLogger(__name__)


class Edition:
    def __init__(
        self,
        hosted: HostedSettings,
        clock: Clock,
        *,
        deps_for: Callable[[ProviderSpec], ProviderDeps] | None = None,
        start: bool = True,
    ) -> None:
        self.hosted = hosted
        self.clock = clock
        self.sealer = Sealer(hosted.secret_key)  # refuses to start without a key
        self.registry = Registry(hosted.registry_path)
        self.tenants = Tenants(hosted, self.registry, self.sealer, clock, deps_for=deps_for, start=start)
        self.admin = Admin(hosted, self.registry, self.sealer, self.tenants, clock, deps_for=deps_for)
        self.bolt = build_hosted_app(hosted, self.registry, self.tenants, self.admin, clock)
        self.metrics = Metrics(self.registry, self.tenants, app_labels=hosted.app_labels)
        self.installations = RegistryInstallationStore(self.registry, self.sealer, clock)
        self.tokens = TokenKeeper(hosted, self.registry, self.installations, self.tenants)

    def wsgi(self) -> WSGIApp:
        health = health_app(lambda: True, list, self.readiness)
        slack = http_app(self.bolt, health)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]):
            if environ.get("PATH_INFO") == "/metrics":
                return self.metrics.wsgi(environ, start_response)
            return slack(environ, start_response)

        return app

    def readiness(self) -> list[Check]:
        running = self.tenants.running()
        problems = [f"{t.team_id}: {'; '.join(t.paastis.problems())}" for t in running if t.paastis.problems()]
        return [
            Check("registry", True, f"{len(self.registry.workspaces())} workspace(s)"),
            Check("workspaces", not problems, "; ".join(problems) or f"{len(running)} running"),
        ]

    def start_all(self) -> None:
        """Every workspace installed with a connection, built and started (each on its own thread)."""
        for workspace in self.registry.workspaces():
            if workspace.uninstalled_at:
                continue
            found = self.installations.find_installation(enterprise_id=None, team_id=workspace.team_id)
            if found is not None and found.bot_token:
                try:
                    self.tenants.get(workspace.team_id, found.bot_token)
                except Exception:  # one workspace that cannot be built never stops the others
                    log.exception("hosted.workspace_build_failed team=%s", workspace.team_id)

    def close(self) -> None:
        self.tenants.close()
        self.admin.checks.shutdown(wait=False)
        self.bolt.listener_runner.listener_executor.shutdown(wait=False)
        self.registry.close()


def serve_hosted(hosted: HostedSettings, stop: threading.Event) -> int:
    redaction.install()
    clock = SystemClock()
    edition = Edition(hosted, clock)
    server = HttpServer(edition.wsgi(), "0.0.0.0", hosted.port)
    log.info("hosted.listening port=%s paths=/slack/events /slack/install /slack/oauth_redirect /metrics", server.port)
    purger = BackgroundScheduler(timezone="UTC")
    purger.add_job(purge_due, "interval", hours=1, args=(edition.registry, hosted, clock), id="purge")
    purger.add_job(edition.tokens.rotate_due, "interval", hours=1, id="rotate-tokens")
    purger.add_job(edition.tenants.refresh, "interval", minutes=1, id="refresh")  # other instances' changes
    purger.start()
    try:
        edition.tokens.rotate_due()
        edition.start_all()
        stop.wait()
        return 0
    finally:
        purger.shutdown(wait=False)
        server.stop()
        edition.close()


# -- operator commands ---------------------------------------------------------------------


def set_plan(hosted: HostedSettings, team_id: str, name: str, note: str | None, out: TextIO) -> int:
    if name not in PLANS or (note and note not in NOTES):
        print(f"paastis: plans are {', '.join(PLANS)}; notes are {', '.join(NOTES)}", file=out)
        return 2
    if not Registry(hosted.registry_path).set_plan(team_id, name, note):
        print(f"paastis: no workspace {team_id}; `paastis workspaces` lists them", file=out)
        return 1
    limits = plan(name)
    providers = limits.max_providers if limits.max_providers is not None else "unlimited"
    print(
        f"{team_id}: plan {name}{f' ({note})' if note else ''}: {providers} provider(s), {limits.max_apps} apps",
        file=out,
    )
    return 0


def rotate_secrets(hosted: HostedSettings, out: TextIO) -> int:
    sealer = Sealer(hosted.secret_key)
    count = Registry(hosted.registry_path).reseal(sealer.rotate)
    print(
        f"{count} secret(s) encrypted again with the first key of PAASTIS_SECRET_KEY; older keys may now be removed",
        file=out,
    )
    return 0


def list_workspaces(hosted: HostedSettings, out: TextIO) -> int:
    registry = Registry(hosted.registry_path)
    rows = registry.workspaces()
    if not rows:
        print("No workspace has installed Paastis yet.", file=out)
    for ws in rows:
        connections = registry.connections(ws.team_id)
        limits = plan(ws.plan)
        monitored, others = split(
            registry.known_apps(ws.team_id), limits.max_apps, frozenset(c.name for c in connections)
        )
        state = f"uninstalled {ws.uninstalled_at[:16]}" if ws.uninstalled_at else "installed"
        print(f"{ws.team_id} {ws.name!r} · {state} · plan {ws.plan}{f' ({ws.note})' if ws.note else ''}", file=out)
        kinds = ", ".join(f"{c.name} ({c.kind})" for c in connections) or "none"
        print(f"  providers {limits.providers_text(len(connections))}: {kinds}", file=out)
        print(
            f"  apps monitored {len(monitored)}/{limits.max_apps}: {', '.join(a.name for a in monitored) or 'none'}",
            file=out,
        )
        if others:
            print(f"  not monitored (plan limit: {limits.max_apps}): {', '.join(a.name for a in others)}", file=out)
        if ws.uninstalled_at:
            print(f"  asleep at uninstall: {ws.asleep_at_uninstall or 'none'}", file=out)
    return 0


def wake_all(
    hosted: HostedSettings,
    team_id: str,
    out: TextIO,
    *,
    clock: Clock | None = None,
    deps_for: Callable[[ProviderSpec], ProviderDeps] | None = None,
) -> int:
    """Wake every app the workspace's Paastis put to sleep (an operator, before an offboarding),
    each followed until it is up. After an uninstall its credentials are gone: it says which
    apps were asleep, to scale up from the provider's console."""
    registry = Registry(hosted.registry_path)
    workspace = registry.workspace(team_id)
    if workspace is None:
        print(f"paastis: no workspace {team_id}; `paastis workspaces` lists them", file=out)
        return 1
    clock = clock or SystemClock()
    tenants = Tenants(hosted, registry, Sealer(hosted.secret_key), clock, deps_for=deps_for, start=False)
    connections = tenants.connections(team_id)
    if not connections:
        asleep = workspace.asleep_at_uninstall or "none recorded"
        print(f"{team_id} has no provider credentials left (deleted at uninstall); asleep then: {asleep}", file=out)
        print("Scale those apps up from the provider's console.", file=out)
        return 1
    settings = workspace_settings(hosted, workspace, connections, None)
    limit = plan(workspace.plan).max_apps
    paastis = build(
        settings,
        clock=clock,
        deps_for=deps_for,
        one_shot=True,
        provider_view=lambda p: MonitoredProvider(p, registry, team_id, lambda: limit, frozenset(connections)),
    )
    try:
        paastis.engine.discover()
        asleep = [v for v in paastis.engine.catalog() if v.row.state is AppState.SLEEPING]
        operator = Actor("operator", "operator", is_admin=True, via="cli")
        reply = TerminalDestination(Terminal(out), min_interval=5.0, context={"via": "cli"})
        for view in asleep:
            paastis.chatops.click(WAKE, view.value, operator, reply)
        paastis.engine.wait_idle(timeout=3600)
        print(
            f"{len(asleep)} app(s) asleep in {team_id}, each woken: {', '.join(v.label for v in asleep) or 'none'}",
            file=out,
        )
        return 0
    finally:
        paastis.close()
