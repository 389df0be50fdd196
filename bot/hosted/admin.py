"""What a workspace admin does from Slack in the hosted edition, transport-light: answers are
`Message`s (bot.chat.messages, escaped by construction), modals are views (bot.hosted.modals).

    connect [type]                         the connect modal (or a button per provider type offered)
    connections · disconnect <name>        the connections, each with Replace and Remove
    settings                               channel, idle time, rules
    plan                                   the plan, what it allows, which apps are monitored
    monitor <app> · unmonitor <app>        choose which apps the plan's limit keeps

Only the workspace's admins and owners (users.info) and whoever installed Paastis may change
anything; everyone may read `plan` and `connections`. A connection is checked with one real
call (its provider lists its apps) before it is saved; the provider's reason comes back in
the modal, never the secret typed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from bot.chat.answers import help_message
from bot.chat.messages import Actions, Button, Header, Message, Section, md
from bot.clock import Clock
from bot.errors import ConfigError
from bot.hosted import home, modals
from bot.hosted.crypto import Sealer
from bot.hosted.home import CONNECT, REMOVE, REPLACE, SETTINGS
from bot.hosted.modals import check_credentials
from bot.hosted.monitored import split
from bot.hosted.plans import plan
from bot.hosted.registry import Connection, QuotaReached, Registry
from bot.hosted.settings import HostedSettings
from bot.hosted.tenants import Tenants, workspace_settings
from providers import parse_spec, provider_type
from providers.base import ProviderDeps, ProviderSpec

log = logging.getLogger(__name__)

ACTIONS = (CONNECT, REPLACE, REMOVE, SETTINGS)
WORDS = ("connect", "connections", "disconnect", "settings", "plan", "monitor", "unmonitor")
CHECK_WITHIN = 2.5  # seconds a credentials check may take inside Slack's 3 seconds
HOSTED_HELP = (
    "*/paastis connect* [type] — connect a provider account (admins)\n"
    "*/paastis connections* — the accounts connected; *disconnect* <name> removes one (admins)\n"
    "*/paastis settings* — channel, idle time, rules (admins)\n"
    "*/paastis plan* — your plan, and which apps it monitors\n"
    "*/paastis monitor* <app> · *unmonitor* <app> — choose them (admins)"
)
NOT_ADMIN = "⚠️ Only this workspace's admins and owners, or whoever installed Paastis, may {}."


@dataclass(frozen=True)
class Checked:
    """A connect submission's outcome: `errors` by block id (the modal stays open), or `done`."""

    errors: dict[str, str]
    done: str = ""


class Admin:
    def __init__(
        self,
        hosted: HostedSettings,
        registry: Registry,
        sealer: Sealer,
        tenants: Tenants,
        clock: Clock,
        *,
        deps_for: Callable[[ProviderSpec], ProviderDeps] | None = None,
    ) -> None:
        self.hosted = hosted
        self.registry = registry
        self.sealer = sealer
        self.tenants = tenants
        self.clock = clock
        self.deps_for = deps_for or (lambda spec: ProviderDeps(clock=clock, user_agent="paastis"))
        self.checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="credentials-check")

    def kinds(self) -> tuple[str, ...]:
        return self.hosted.offered

    # -- answers ---------------------------------------------------------------------------
    def connect_choice(self) -> Message:
        buttons = tuple(Button(f"Connect {modals.label(k)}", CONNECT, k) for k in self.kinds())
        return Message(
            "Connect a provider",
            (Section("Which provider account should Paastis manage?"), Actions(buttons)),
            private=True,
        )

    def connections(self, team_id: str) -> Message:
        return home.connections_message(self.kinds(), self.registry, team_id)

    def plan_message(self, team_id: str) -> Message:
        return home.plan_message(self.registry, team_id)

    def help(self) -> Message:
        """The commands of every Paastis, then those of the hosted edition."""
        base = help_message()
        hosted = Section(HOSTED_HELP)
        return Message(base.text, (*base.blocks, Header("This workspace's Paastis"), hosted), private=True)

    def refused(self, what: str) -> Message:
        return Message(NOT_ADMIN.format(what), private=True)

    # -- monitor / unmonitor ---------------------------------------------------------------
    def monitor(self, team_id: str, name: str, *, on: bool) -> Message:
        ws = self.registry.workspace(team_id)
        limits = plan(ws.plan if ws else "free")
        known = [a for a in self.registry.known_apps(team_id) if a.name == name]
        if not name or not known:
            return Message(
                md("❌ No app named `{}` in this workspace's providers. See /paastis plan.", name), private=True
            )
        app = known[0]
        names = frozenset(c.name for c in self.registry.connections(team_id))
        monitored, _ = split(self.registry.known_apps(team_id), limits.max_apps, names)
        watched = {(a.provider, a.app_id) for a in monitored}
        if on:
            if (app.provider, app.app_id) not in watched and len(monitored) >= limits.max_apps:
                return Message(
                    md(
                        "⚠️ Plan {} monitors {} apps at once and {} are monitored ({}). "
                        "Unmonitor one first, or ask for a larger plan.",
                        limits.name,
                        limits.max_apps,
                        len(monitored),
                        ", ".join(a.name for a in monitored),
                    ),
                    private=True,
                )
            self.registry.choose(
                team_id, app.provider, app.app_id, pinned_at=self.clock.now().isoformat(), excluded=False
            )
        else:
            tenant = self.tenants.get(team_id, None)
            view = tenant.paastis.engine.catalog().get((app.provider, app.app_id)) if tenant else None
            if view is not None and view.row.state.value != "running":
                return Message(
                    md("⚠️ `{}` is asleep: wake it first, or it would stay asleep unwatched.", name), private=True
                )
            self.registry.choose(team_id, app.provider, app.app_id, pinned_at=None, excluded=True)
        tenant = self.tenants.get(team_id, None)
        if tenant is not None:
            tenant.paastis.engine.executor.submit(tenant.paastis.engine.discover)
        verb = "monitored" if on else "no longer monitored"
        return Message(
            md("✅ `{}` is {}.", name, verb),
            (Section(md("✅ `{}` is {}.", name, verb)), *self.plan_message(team_id).blocks),
            private=True,
        )

    # -- connections -----------------------------------------------------------------------
    def submit_connect(
        self, team_id: str, token: str, metadata: str, view: dict[str, Any], on_late: Callable[[str], None]
    ) -> Checked:
        """Check and save a connect modal's submission. Within CHECK_WITHIN seconds the
        outcome is returned; a slower provider's comes later through `on_late(text)`."""
        kind, _, replacing = metadata.partition("|")
        if kind not in self.kinds():
            return Checked({}, "This provider type is not offered here.")
        typed, problems = modals.values(view)
        first = modals.fields(kind)[0]
        if problems:
            return Checked(problems)
        name = replacing or typed.get("name") or None
        spec, option_problems = parse_spec(kind, modals.option_values(kind, typed), where="connect", name=name)
        if option_problems or spec is None:
            errors = {}
            for p in option_problems:
                block = p.key.removeprefix("connect.")
                errors[block if block in modals.fields(kind) else first] = p.why[:2000]
            return Checked(errors)
        ws = self.registry.workspace(team_id)
        limits = plan(ws.plan if ws else "free")
        existing = {c.name for c in self.registry.connections(team_id)}
        if spec.name not in existing and limits.max_providers is not None and len(existing) >= limits.max_providers:
            return Checked({("name" if not replacing else first): self._over_quota(limits.name, limits.max_providers)})
        future: Future[str | None] = self.checks.submit(check_credentials, spec, self.deps_for(spec), typed)
        try:
            reason = future.result(timeout=CHECK_WITHIN)
        except FutureTimeout:
            future.add_done_callback(lambda f: on_late(self._finish(team_id, token, kind, spec, f.result())))
            return Checked({}, "⏳ Checking the credentials with the provider… this view will tell the outcome.")
        if reason is not None:
            return Checked({first: reason})
        return Checked({}, self._finish(team_id, token, kind, spec, None))

    def _finish(self, team_id: str, token: str, kind: str, spec: ProviderSpec, reason: str | None) -> str:
        if reason is not None:
            return f"❌ {reason}"
        secrets = [
            str(spec.options[k])
            for k in modals.fields(kind)
            if provider_type(kind).options[k].secret and spec.options.get(k)
        ]
        hint = secrets[0][-4:] if secrets else "—"
        options = {k: v for k, v in spec.options.items() if k in modals.fields(kind) and v is not None}
        connection = Connection(
            team_id, spec.name, kind, self.sealer.seal(team_id, options), hint, self.clock.now().isoformat()
        )
        ws = self.registry.workspace(team_id)
        limits = plan(ws.plan if ws else "free")
        try:
            self.registry.save_connection(connection, limits.max_providers)
        except QuotaReached:
            return f"⚠️ {self._over_quota(limits.name, limits.max_providers or 0)}"
        log.info("hosted.connected team=%s connection=%s kind=%s", team_id, spec.name, kind)
        self.tenants.rebuild(team_id, token)
        return f"✅ Connected *{spec.name}*. Paastis is discovering its apps; see /paastis plan and /paastis status."

    def _over_quota(self, plan_name: str, limit: int) -> str:
        return (
            f"Plan {plan_name} allows {limit} provider connection(s): "
            "remove one first (/paastis connections), or ask for the team plan."
        )

    def remove(self, team_id: str, token: str, name: str) -> Message:
        if not self.registry.remove_connection(team_id, name):
            return Message(md("❌ No connection named `{}` in this workspace.", name), private=True)
        log.info("hosted.disconnected team=%s connection=%s", team_id, name)
        self.tenants.rebuild(team_id, token)
        return Message(
            md("✅ Removed `{}`. Its apps asleep stay asleep: wake them from its dashboard if needed.", name),
            private=True,
        )

    # -- settings --------------------------------------------------------------------------
    def submit_settings(self, team_id: str, token: str, view: dict[str, Any]) -> dict[str, str]:
        """Errors by block id, with check-config's words; saved (and the workspace rebuilt) when none."""
        typed, problems = modals.values(view, {"rules": modals.MAX_RULES})
        if problems:
            return problems
        ws = self.registry.workspace(team_id)
        if ws is None:
            return {"channel": "This workspace is not installed."}
        channel, idle, rules = typed.get("channel", ""), typed.get("idle_time", ""), typed.get("rules", "")
        try:
            workspace_settings(
                self.hosted, ws, self.tenants.connections(team_id), token, channel=channel, idle_time=idle, rules=rules
            )
        except ConfigError as exc:
            return modals.settings_errors(exc)
        except ValueError as exc:  # rules with keys not set this way
            return {"rules": str(exc)[:2000]}
        self.registry.set_settings(team_id, channel or None, idle or None, rules)
        self.tenants.rebuild(team_id, token)
        return {}
