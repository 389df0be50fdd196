"""The engine: discover apps, observe their activity, put idle ones to sleep, wake them.

It uses providers, the store and the clock; it knows nothing of Slack or of the scheduler
(jobs call it, listeners call it). Batch work (discovery, observation, the sweep) turns
provider errors into per-app outcomes: one failing app never stops the others. Actions
people ask for (wake, sleep, keep) raise the errors they should see.

Provider calls are budgeted: apps are checked when their sleep decision falls due (last
activity + idle timeout), plus one fresh check just before they are put to sleep; sleeping
apps are never polled; optional freshness polling only spends a provider's spare budget.

One part per responsibility, each made once, here, with what it needs:

    fleet.Fleet              the apps: providers, store, clock, catalog, wakes in flight, app locks
    discovery.Discovery      list every provider's apps; provider health and trouble notices
    observation.Observer     read activity within API budgets
    sweep.Sweeper            check the apps due, sleep the idle ones, report
    sleeping.Sleeper         put one app to sleep (for the sweep, or for someone who asked)
    keeping.Keeper           keep an app awake until a moment
    waking.Waker             wake an app and its linked apps, follow it; resume wakes after a restart
    troubles.Troubles        failures that repeat: recorded with their next try, told once
    reconcile.Reconciler     sleeps a crash interrupted: finished or rolled back at start
    readiness.Readiness      whether the database can be written (/healthz, the channel once)
    audit.Audit              events to the store and the webhooks (made by the caller: hooks use it too)

`Engine` is what chat/, slack/, the jobs and the CLI call; it only delegates.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.discovery import Discovery
from bot.engine.fleet import Fleet
from bot.engine.hooks import Hooks, NoHooks
from bot.engine.keeping import Keeper
from bot.engine.notices import Notice, Notify, SleepsReconciled
from bot.engine.observation import Observer
from bot.engine.outcomes import Outcome, SweepReport
from bot.engine.readiness import Readiness
from bot.engine.reconcile import Reconciler
from bot.engine.sleeping import Sleeper
from bot.engine.sweep import Sweeper
from bot.engine.troubles import ToldHooks, Troubles
from bot.engine.wake_jobs import JobStatus, Phase, WakeTicket
from bot.engine.waking import Resumed, Waker, unattended
from bot.policy.catalog import AppView, Catalog
from bot.store.rows import Keep, Ref
from providers.base import BudgetSnapshot


@dataclass(frozen=True)
class EngineOptions:
    dry_run: bool | None = False  # None: the safe first run (dry until someone starts Paastis)
    wake_workers: int = 16


def _unheard(notice: Notice) -> None:
    """Where notices go when no one listens (the notifier is the usual listener)."""


class Engine:
    """The engine's parts, made once with what each needs; every method delegates to one."""

    def __init__(
        self,
        fleet: Fleet,
        audit: Audit,
        *,
        hooks: Hooks | None = None,
        notify: Notify = _unheard,
        options: EngineOptions = EngineOptions(),
    ) -> None:
        self.fleet = fleet
        self.providers, self.store, self.clock, self.wakes = fleet.providers, fleet.store, fleet.clock, fleet.wakes
        # provider work off the caller's thread: wakes, and sleeps asked from chat
        self.executor = ThreadPoolExecutor(max_workers=options.wake_workers, thread_name_prefix="paastis-work")
        self.discovery = Discovery(fleet, audit, notify)
        self.observer = Observer(fleet)
        self.troubles = Troubles(fleet, notify)
        hooks = ToldHooks(hooks, self.troubles) if hooks is not None else NoHooks()
        # someone who asks for a sleep gets it before Start too; only PAASTIS_DRY_RUN=true stops that
        self.sleeper = Sleeper(fleet, audit, hooks, self.observer, self.troubles, dry_run=options.dry_run is True)
        self.sweeper = Sweeper(fleet, self.observer, self.sleeper, notify, dry_run=options.dry_run)
        self.keeper = Keeper(fleet, audit)
        self.audit = audit
        self.waker = Waker(fleet, audit, hooks, self.troubles, self.executor)
        self.reconciler = Reconciler(fleet, self.sleeper, notify)
        self.readiness = Readiness(fleet.store, fleet.clock, notify)

    # -- reading -------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        return self.fleet.catalog()

    def find(self, text: str) -> AppView:
        return self.fleet.find(text)

    def budgets(self) -> dict[str, BudgetSnapshot | None]:
        """Each provider's API budget as it stands (no call: budgets are counted locally)."""
        return {name: provider.budget() for name, provider in self.providers.items()}

    # -- the jobs ------------------------------------------------------------------------
    def discover(self) -> dict[str, str]:
        return self.discovery.discover()

    def observe(self, *, limit_per_provider: int = 50) -> int:
        return self.observer.observe(limit_per_provider=limit_per_provider)

    def sweep(self) -> SweepReport:
        return self.sweeper.sweep()

    def start(self, actor: Actor) -> bool:
        """Someone started Paastis (the safe first run): the next sweep acts. False when it
        had been started already."""
        if not self.store.mark_started(self.clock.now(), actor.name):
            return False
        self.audit.record("started", actor, reason="sweeps begin: idle apps are put to sleep")
        return True

    def started(self) -> bool:
        """Whether sweeps put apps to sleep now (False: dry run, or waiting for Start)."""
        return self.sweeper.acting()

    def wake_scheduled(self, schedules: Collection[str]) -> list[WakeTicket]:
        return self.waker.wake_scheduled(schedules)

    def housekeeping(self, keep_activity: timedelta = timedelta(days=30)) -> int:
        self.reconcile()  # sleeps of a process on another host, once its lease ran out
        return self.store.prune_activity(self.clock.now() - keep_activity)

    def reconcile(self) -> SleepsReconciled | None:
        """Finish or roll back the sleeps a crash interrupted (at start, then hourly)."""
        return self.reconciler.reconcile()

    def check_readiness(self) -> None:
        self.readiness.check()

    def problems(self) -> list[str]:
        """What stops the engine from working now (a database it cannot write), in words."""
        return self.readiness.problems()

    # -- what people ask for -------------------------------------------------------------
    def check_sleepable(self, view: AppView) -> None:
        self.sleeper.check_sleepable(view)

    def sleep(self, view: AppView, actor: Actor) -> list[Outcome]:
        return self.sleeper.sleep(view, actor)

    def keep(self, view: AppView, until: datetime, actor: Actor, reason: str | None = None) -> Keep:
        return self.keeper.keep(view, until, actor, reason)

    def unkeep(self, view: AppView, actor: Actor) -> bool:
        return self.keeper.unkeep(view, actor)

    def mark_used(self, view: AppView) -> None:
        """Someone asked for an app that is already up: that is use, so it is not slept at once."""
        self.store.update_app(*view.ref, last_used_at=self.clock.now())

    def record_visits(self, used: Mapping[Ref, datetime]) -> None:
        """Requests the proxy or the Sablier API served: use, written without a provider call
        (the caller batches them: one write per app every few seconds at most)."""
        for ref, at in used.items():
            self.store.update_app(*ref, last_used_at=at)

    def wake_unreachable(self, view: AppView, actor: Actor, status: JobStatus, reason: str) -> None:
        """A wake ended up but the app does not answer its first request (the proxy's
        upstream is down): a failed wake, recorded and told like one (once while it repeats)."""
        failed = replace(status, phase=Phase.FAILED, reason=reason)
        self.audit.event("wake_failed", view, actor, reason, outcome="failed", duration=status.elapsed)
        self.troubles.wake_ended(view, failed, actor)

    def wake(self, view: AppView, actor: Actor, **options: Any) -> WakeTicket:
        """Wake an app and the apps it links to; joins wakes already in flight. Returns at once.
        `options`: those of `Waker.wake` (the requester's context, the catalog `view` came from)."""
        return self.waker.wake(view, actor, **options)

    def resume_wakes(self, resumed: Resumed = unattended) -> list[WakeTicket]:
        return self.waker.resume_wakes(resumed)

    # -- life ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop: wakes in flight are left to resume (their rows kept, never told as failed),
        the work running now ends first (a sleep asked from chat is not cut midway)."""
        self.wakes.stop()
        self.executor.shutdown(wait=True)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no wake is in flight (the demo waits before it exits)."""
        for job_ref in list(self.wakes.in_flight()):
            job = self.wakes.job(job_ref)
            if job and not job.done.wait(timeout):
                return False
        return True
