"""The sweep: check the apps whose sleep decision fell due, then put the idle ones to sleep.

    due apps (verdict CHECK) ─▶ one activity check each, within the provider's budget
                               (no spare budget: the rest is deferred to the next sweep)
    then every app whose verdict is SLEEP ─▶ Sleeper.sleep_app(confirm=True)

A sweep costs what is due: each app's next decision time is kept in the store (the due
index, bot/store/store.py). A sweep reads the apps due — written since the last sweep, or
whose time came — and those being woken, decides them with their groups (the fleet's
topology) exactly as the whole catalog would, and records their next due times; with
nothing due it reads nothing more. The first sweep of a process decides every app (the
rules may have changed).

One failing app never stops the others: its error becomes its outcome, and the failure is
recorded with its next try (bot.engine.troubles: the app stays up until then, and the
channel hears of it once). A sweep that finds another one running returns at once with
nothing done. A sweep that slept (or would have) tells the channel (SweepDone); one that
only failed says nothing more.

The safe first run (`dry_run` None, PAASTIS_DRY_RUN unset): until someone starts Paastis
(`/paastis start`, the plan's Start button: the store keeps it), a sweep still checks the
apps due but puts nothing to sleep, and the first sweep that knows apps tells the channel,
once, what it would put to sleep and when (FirstRunPlan). `dry_run` True: always decide and
tell, never act; False: act from the first sweep.

A dry run is news once per idle period: an app that would sleep gets one `would_sleep` event
and one mention in the channel; later sweeps report it as `still_would_sleep` (counted, not
told) until it is used again, and the channel hears only when the set of apps grows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.engine.actors import SCHEDULER
from bot.engine.fleet import Fleet
from bot.engine.notices import FirstRunPlan, Notify, PlannedSleep, SweepDone
from bot.engine.observation import Observer
from bot.engine.outcomes import Outcome, SweepReport
from bot.engine.sleeping import SleepCancelled, Sleeper
from bot.errors import ActionRefused
from bot.policy.catalog import AppView, Catalog
from bot.policy.idle import Verdict
from bot.store.activity import Observed
from bot.store.database import StoreError
from bot.store.rows import Ref
from providers.base import AppState, ProviderError

log = logging.getLogger(__name__)

CHECKS_PER_WRITE = 100  # apps checked by a sweep whose activity is written in one transaction


class Sweeper:
    """Checks the apps whose decision fell due, puts the idle ones to sleep, reports the round."""

    def __init__(
        self, fleet: Fleet, observer: Observer, sleeper: Sleeper, notify: Notify, *, dry_run: bool | None
    ) -> None:
        self.fleet = fleet
        self.observer = observer
        self.sleeper = sleeper
        self.notify = notify
        self.dry_run = dry_run  # None: the safe first run (act once started)
        self._running = threading.Lock()  # one sweep at a time
        self._settled = False  # the due index was written by this process (with its rules)

    def sweep(self) -> SweepReport:
        """Put to sleep every managed app idle past its timeout (groups together)."""
        if not self._running.acquire(blocking=False):
            return SweepReport(self.fleet.clock.now(), dry_run=not self.acting())
        try:
            waiting = self.waiting()
            outcomes = self._sweep(sleep=not waiting)
            if waiting:
                self._plan(self.fleet.catalog())
        finally:
            self._running.release()
        report = SweepReport(self.fleet.clock.now(), tuple(outcomes), dry_run=waiting or self.dry_run is True)
        if report.of("slept", "would_sleep"):
            self.notify(SweepDone(report))
        return report

    def waiting(self) -> bool:
        """The safe first run, not started yet: nothing is put to sleep."""
        return self.dry_run is None and not self.fleet.store.first_run().started

    def acting(self) -> bool:
        """Whether a sweep now puts apps to sleep (False: dry run, or waiting for Start)."""
        return self.dry_run is False or (self.dry_run is None and not self.waiting())

    def _plan(self, catalog: Catalog) -> None:
        """Tell the channel, once, what would be put to sleep and when."""
        views = [v for v in catalog if v.state is AppState.RUNNING and not v.row.gone]
        if not views or self.fleet.store.first_run().plan_posted_at:
            return
        planned, kept = [], 0
        for view in views:
            if not view.managed:
                continue
            decision = view.decision
            if decision.verdict is Verdict.KEEP and decision.sleeps_at is None:
                kept += 1
                continue
            planned.append(PlannedSleep(view.label, view.ref, decision.sleeps_at, decision.reason))
        planned.sort(key=lambda p: (p.sleeps_at is None, p.sleeps_at or self.fleet.clock.now(), p.label.lower()))
        unmanaged = sum(1 for v in views if not v.managed)
        if self.fleet.store.mark_plan_posted(self.fleet.clock.now()):
            log.info("sweep.plan_posted planned=%s kept=%s unmanaged=%s", len(planned), kept, unmanaged)
            self.notify(FirstRunPlan(tuple(planned), kept, unmanaged))

    def _reader(self) -> Callable[[], Catalog] | None:
        """How to read the apps this sweep decides: those due (the due index) and being woken,
        each with its group; every app at the first sweep of a process; None: nothing is due."""
        if not self._settled:
            return self.fleet.catalog
        due = self.fleet.store.due_apps(self.fleet.clock.now()) | self.fleet.wakes.in_flight()
        return (lambda: self.fleet.around(due)) if due else None

    def _settle(self, catalog: Catalog) -> None:
        """Record when each app must be decided again, where that changed."""
        dues = [(v.ref, due, v.row.revision) for v in catalog if (due := catalog.due(v)) != v.row.due_at]
        settled = self.fleet.store.settle(dues) if dues else 0
        self._settled = True
        log.debug("sweep.settled apps=%s written=%s", len(catalog), settled)

    def _sweep(self, *, sleep: bool) -> list[Outcome]:
        outcomes: list[Outcome] = []
        read = self._reader()
        if read is None:
            return outcomes
        catalog = read()
        due = [v for v in catalog if v.decision.verdict is Verdict.CHECK and not v.row.gone]
        due.sort(key=lambda v: v.decision.sleeps_at or datetime.min.replace(tzinfo=self.fleet.clock.now().tzinfo))
        self._check(due, outcomes)
        if due:
            del catalog, due  # the first reading goes before the second is made (memory)
            catalog = read()
        self._settle(catalog)  # before sleeping: a sleep writes its app, which is then decided again
        if not sleep:
            return outcomes
        slept: set[Ref] = set()
        for view in catalog:
            if view.decision.verdict is not Verdict.SLEEP or view.ref in slept or view.row.gone:
                continue
            slept.add(view.ref)
            outcomes.append(self._sleep(view))
        return outcomes

    def _check(self, due: list[AppView], outcomes: list[Outcome]) -> None:
        """One activity check per due app, within each provider's budget; what was read is
        written CHECKS_PER_WRITE apps at a time (a transaction costs more than its statements)."""
        deferred: set[str] = set()
        observed: list[Observed] = []
        try:
            for view in due:
                provider = self.fleet.providers.get(view.row.provider)
                if provider is None or view.row.provider in deferred:
                    continue
                budget = provider.budget()
                if budget is not None and budget.spare < 1:
                    deferred.add(view.row.provider)
                    outcomes.append(Outcome(view.ref, view.label, "deferred", "API budget spent for this minute"))
                    continue
                if not self.observer.check(view, later=observed):
                    row = self.fleet.store.app(*view.ref)
                    outcomes.append(Outcome(view.ref, view.label, "check_failed", row.check_error or "unreadable"))
                if len(observed) >= CHECKS_PER_WRITE:
                    self.fleet.store.record_activities(observed)
                    observed.clear()
        finally:
            self.fleet.store.record_activities(observed)

    def _told_this_idle_period(self, view: AppView) -> bool:
        """Dry run: whether a `would_sleep` event was written since the app (or its group) was last used."""
        decision, row = view.decision, view.row
        used = decision.sleeps_at - view.rules.idle_timeout if decision.sleeps_at else row.last_activity
        since = max(t for t in (used, row.awake_since, row.first_seen) if t is not None)
        return bool(
            self.fleet.store.events(
                provider=row.provider, app_id=row.app_id, since=since, actions=("would_sleep",), limit=1
            )
        )

    def _sleep(self, view: AppView) -> Outcome:
        reason = view.decision.reason
        try:
            if self.dry_run is True and self._told_this_idle_period(view):
                outcome = self.sleeper.sleep_app(view, SCHEDULER, reason, confirm=True, record=False)
                return replace(outcome, action="still_would_sleep") if outcome.action == "would_sleep" else outcome
            return self.sleeper.sleep_app(view, SCHEDULER, reason, confirm=True)
        except (ProviderError, SleepCancelled) as exc:
            return Outcome(view.ref, view.label, "sleep_failed", str(exc))
        except ActionRefused as exc:  # being woken, here or by another process: not a failure
            return Outcome(view.ref, view.label, "skipped", str(exc))
        except StoreError:
            raise  # the database is lost: the sweep stops, nothing more is done on state it cannot record
        except Exception as exc:  # an unexpected bug must not stop the sweep; it is logged with its traceback
            log.exception("sweep.sleep_crashed provider=%s app=%s", view.row.provider, view.name)
            reason = f"internal error: {type(exc).__name__}"
            self.sleeper.troubles.failed(view, "sleep", reason, retry=True)
            return Outcome(view.ref, view.label, "sleep_failed", reason)
