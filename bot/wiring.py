"""The composition root: builds the real objects from settings, each once, each with its
collaborators; nothing is plugged in or replaced afterwards.

    Settings ─▶ providers (one per account × region/zone) ─┐
             ─▶ Store (SQLite) ─▶ Fleet ───────────────────┼─▶ Engine ─▶ Chatops ─▶ Slack / demo / CLI
             ─▶ Audit (+ webhooks), hooks, notifier ───────┘
             ─▶ scheduler and its jobs (started by `start()`: serve and demo only)

Slack's own pieces (its poster, who is in which user group) are made by the caller before
`build` and passed in; the Bolt app is made after, over the finished `Paastis`
(bot.slack.app). The callback that re-attaches a resumed wake's message is given to `start()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot import __version__
from bot.chat import plain_text
from bot.chat.chatops import Chatops, ChatopsOptions
from bot.chat.messages import Message
from bot.chat.notifier import ChannelNotifier, Poster
from bot.clock import SystemClock
from bot.config.loading import Settings
from bot.engine.actors import SCHEDULER
from bot.engine.audit import Audit
from bot.engine.engine import Engine, EngineOptions
from bot.engine.fleet import Fleet
from bot.engine.hooks import Hooks, ShellHooks, hook_environment
from bot.engine.jobs import JobTimes, configure_scheduler
from bot.engine.leadership import Leadership
from bot.engine.waking import Resumed, unattended
from bot.engine.webhooks import WebhookSender
from bot.policy.catalog import CatalogInputs, ProviderInfo
from bot.policy.schedules import Schedules
from bot.store.store import Store
from bot.visits.visits import Visits
from bot.web import Check
from providers import build_provider, provider_type
from providers.base import Clock, Provider, ProviderDeps, ProviderSpec

log = logging.getLogger(__name__)


class LogPoster:
    """Where notices go when Slack is off: the logs, as text."""

    def post(self, message: Message, channel: str | None) -> None:
        rendered = plain_text.render(message, lambda button: 0).replace("[0] ", "")
        log.info("notice.logged channel=%s\n%s", channel or "default", rendered)


@dataclass(frozen=True, eq=False)
class Paastis:
    """Everything `build` made. Frozen: what is built is never replaced."""

    settings: Settings
    clock: Clock
    store: Store
    providers: dict[str, Provider]
    schedules: Schedules
    engine: Engine
    chatops: Chatops
    notifier: ChannelNotifier
    scheduler: BackgroundScheduler
    leadership: Leadership
    webhooks: WebhookSender | None = None

    @property
    def running(self) -> bool:
        """True while the scheduler runs its jobs and nothing stops them (what /healthz tells)."""
        return self.scheduler.running and not self.problems()

    def problems(self) -> list[str]:
        """Why Paastis cannot work now, in words (a database it cannot write); empty when it can."""
        return self.engine.problems()

    def readiness(self) -> list[Check]:
        """What /readyz tells besides Slack: the database, then each provider as its last
        discovery left it (a provider not reached yet is not ready)."""
        problems = self.problems()
        checks = [
            Check(
                "database",
                not problems,
                "; ".join(problems) or f"writable ({self.store.path.name if self.store.path else self.store.where})",
            )
        ]
        health = self.store.provider_health()
        for name in self.providers:
            row = health.get(name)
            if row is None:
                checks.append(Check(f"provider {name}", False, "not reached yet"))
            elif row["ok"]:
                checks.append(Check(f"provider {name}", True, f"answered at {row['last_ok_at']}"))
            else:
                checks.append(Check(f"provider {name}", False, f"failing since {row['failing_since']}: {row['error']}"))
        return [*checks, Check("leadership", True, self.leadership_text())]

    def facts(self) -> list[str]:
        """What /healthz tells besides up or not: whether this instance leads, and the
        database (read from memory: liveness never waits on the database)."""
        database = self.store.write_problem or "writable"
        leads = "yes" if self.leadership.leads() else "no"
        return [f"leader: {leads} ({self.store.owner})", f"database: {self.store.database.kind} {database}"]

    def leadership_text(self) -> str:
        """Whether this instance runs the scheduled work (several may share one database)."""
        if self.leadership.leads():
            return f"this instance leads the scheduled work ({self.store.owner})"
        holder = self.store.lease_holder("scheduler", self.clock.now())
        return f"another instance leads the scheduled work ({holder or 'none yet'})"

    def post_report(self) -> None:
        self.notifier.post(self.chatops.report())

    def start(
        self,
        times: JobTimes | None = None,
        *,
        resumed: Resumed = unattended,
        take_over_notices: Callable[[], object] = lambda: None,
    ) -> None:
        """Leadership taken if free; the leader discovers now, then checks the activity of
        the apps found (spare budget only) — another instance leaves that to it. Then sleeps
        and wakes of a process that is gone are taken over (each resumed wake handed to
        `resumed`; its notices not yet posted to `take_over_notices`), then the scheduler's
        jobs (the leader keeps taking over, every 10 s)."""
        if self.leadership.renew():
            errors = self.engine.discover()
            for provider, error in errors.items():
                log.warning("startup.discovery_failed provider=%s error=%s", provider, error)
            log.info("startup.activity_checked apps=%s", self.engine.observe())
        else:
            log.info("startup.follower leader=%s", self.store.lease_holder("scheduler", self.clock.now()))

        def take_over() -> None:
            self.engine.reconcile()
            self.engine.resume_wakes(resumed)
            take_over_notices()

        take_over()
        configure_scheduler(
            self.scheduler,
            self.engine,
            self.schedules,
            sweep_cron=self.settings.sweep_cron,
            report_cron=self.settings.report_cron,
            timezone=self.settings.timezone,
            post_report=self.post_report,
            leadership=self.leadership,
            take_over=take_over,
            times=times or JobTimes(),
        )
        self.scheduler.start()
        log.info("paastis.started version=%s providers=%s", __version__, ",".join(self.providers))

    def stop(self) -> None:
        """Stop working (again: nothing more): the scheduled job running now ends first (a
        sweep is not cut midway), wakes in flight leave their rows to resume, then the lead
        and this process's rows are handed over. The store stays open (`close`), so Slack's
        pieces can be closed in between."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.engine.shutdown()
        self.leadership.resign()
        if self.webhooks:
            self.webhooks.close()

    def close(self) -> None:
        """Stop (`stop`), then close the store."""
        self.stop()
        self.store.close()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    deps_for: Callable[[ProviderSpec], ProviderDeps] | None = None,
    environ: Mapping[str, str] | None = None,
    poster: Poster | None = None,
    groups_of: Callable[[str], frozenset[str]] | None = None,
    one_shot: bool = False,
    provider_view: Callable[[Provider], Provider] | None = None,
) -> Paastis:
    """`poster`: where channel notices and reports go (the logs when None); `groups_of`: the
    user groups a user is in, for permissions (Slack's, made before). `one_shot`: a command
    that runs once and exits (the CLI) never starts the scheduler, so webhooks are sent at
    once instead of through it. `provider_view`: what the engine sees of each provider built
    (the hosted edition shows it only the apps its plan monitors, bot.hosted.monitored)."""
    clock = clock or SystemClock()
    environ = environ or {}
    ca_bundle = environ.get("SSL_CERT_FILE") or environ.get("REQUESTS_CA_BUNDLE")
    user_agent = f"paastis/{__version__} (+https://github.com/paastis)"
    deps_for = deps_for or (lambda spec: ProviderDeps(clock=clock, user_agent=user_agent, ca_bundle=ca_bundle))
    view = provider_view or (lambda provider: provider)
    providers = {spec.name: view(build_provider(spec, deps_for(spec))) for spec in settings.providers}
    store = Store(settings.database)
    schedules = Schedules(settings.schedules, settings.timezone)
    inputs = CatalogInputs(
        providers={spec.name: ProviderInfo(spec.name, spec.kind, _where(spec)) for spec in settings.providers},
        rules=settings.rules,
        default_idle=settings.idle_timeout,
        ignored_apps=settings.ignored_apps,
        self_app=settings.self_app,
        schedule_of=schedules.state,
    )
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    webhooks = WebhookSender(settings.webhooks, None if one_shot else scheduler) if settings.webhooks else None
    fleet = Fleet(providers, store, clock, inputs)
    audit = Audit(store, clock, webhooks) if webhooks else Audit(store, clock)
    notifier = ChannelNotifier(poster or LogPoster(), fleet.catalog, clock)
    engine = Engine(
        fleet,
        audit,
        hooks=_hooks(settings, environ, audit),
        notify=notifier,
        options=EngineOptions(dry_run=settings.dry_run),
    )
    chatops = Chatops(
        engine,
        ChatopsOptions(settings.timezone, settings.permissions, settings.prices, settings.dry_run),
        groups_of=groups_of,
    )
    leadership = Leadership(store, clock)
    return Paastis(
        settings, clock, store, providers, schedules, engine, chatops, notifier, scheduler, leadership, webhooks
    )


def _where(spec: ProviderSpec) -> str:
    """The region or zone of a provider's account, for the status pages."""
    return provider_type(spec.kind).location(spec.options)


def _hooks(settings: Settings, environ: Mapping[str, str], audit: Audit) -> Hooks | None:
    """The shell hooks of HOOKS_*, None without any; a failing one is recorded in the audit log."""
    if not settings.hooks:
        return None

    def hook_failed(event: str, view: Any, why: str) -> None:
        audit.record(
            "hook_failed",
            SCHEDULER,
            provider=view.row.provider,
            app_id=view.row.app_id,
            app_name=view.name,
            outcome="failed",
            reason=why,
            details={"hook": event},
        )

    return ShellHooks(
        settings.hooks, hook_environment(environ, settings.secret_variables), settings.hooks_timeout, hook_failed
    )


def build_visits(paastis: Paastis) -> Visits:
    """What `paastis proxy` and the Sablier API ask of the engine: routes, wakes, activity;
    their notices go where the engine's go (the outbox when Slack is on)."""
    return Visits(paastis.engine, paastis.notifier.post, paastis.clock, paastis.settings.proxy.routes)
