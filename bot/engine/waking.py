"""Following wakes: the part of the engine that starts apps and watches them come up.

    Waker.wake(view) ─▶ the app and the apps it links to, each one job
                        (WakeCoordinator: a second request joins the job in flight)
    job (executor) ─▶ get_app: already up? ─▶ wait out a stop ─▶ before_start hook
                   ─▶ provider.wake(recorded formation) ─▶ poll get_app (never the app itself)
                   ─▶ up: event woke, after_start hook · crashed/timeout: event wake_failed, notice

A wake row in the store says who asked and where the progress message is, so a wake in
flight when Paastis stops (`Engine.shutdown`: left at its next step, never told as failed)
or dies is followed again at the next start or by another instance (`resume_wakes`), and
handed to the callback `start()` was given (Slack re-attaches the message that followed it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Executor
from datetime import datetime, timedelta

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.fleet import Fleet
from bot.engine.hooks import Hooks
from bot.engine.troubles import Troubles
from bot.engine.wake_jobs import HandedOver, Phase, WakeJob, WakeTicket
from bot.errors import ActionRefused
from bot.policy.catalog import AppView, Catalog
from bot.store.rows import InFlightWake
from providers.base import AppState, OperationRejected, PaasApp, Provider, ProviderError

log = logging.getLogger(__name__)
SLOW_WAKE = 300  # seconds: beyond this wake timeout, the progress message warns it can take minutes

Resumed = Callable[[WakeTicket, InFlightWake], None]


def unattended(ticket: WakeTicket, wake: InFlightWake) -> None:
    """No one to tell that a wake was resumed (no Slack): it is followed all the same."""


class Waker:
    """Wakes apps (and the apps they link to), follows each wake to its end, resumes them after a restart."""

    def __init__(self, fleet: Fleet, audit: Audit, hooks: Hooks, troubles: Troubles, executor: Executor) -> None:
        self.fleet = fleet
        self.audit = audit
        self.hooks = hooks
        self.troubles = troubles  # a failed wake is recorded and told there (once while it keeps failing)
        self.executor = executor  # wakes are followed there, off the caller's thread

    def wake(
        self,
        view: AppView,
        actor: Actor,
        *,
        context: Mapping[str, object] | None = None,
        catalog: Catalog | None = None,
        since: datetime | None = None,
    ) -> WakeTicket:
        """Wake an app and the apps it links to; joins wakes already in flight. Returns at once.
        `catalog`: the one `view` came from, so a caller that has one does not build another.
        `since`: a resumed wake's start — its time counts from then, and the app found up is
        its outcome (the gone process asked the provider before it died), not "already up"."""
        if self.fleet.wakes.stopping:
            raise ActionRefused("Paastis is restarting: click Wake again in a minute.")
        if not view.managed and view.rules.ignored and "PAASTIS_SELF_APP" in view.rules.ignored:
            raise ActionRefused(f"{view.label} is the app Paastis runs as: it is always up.")
        catalog = catalog or self.fleet.catalog()
        targets = [view, *catalog.linked(view)]
        jobs, joined = [], []
        for target in targets:
            job, was_joined = self._start_wake(target, actor, dict(context or {}), main=target is view, since=since)
            jobs.append(job)
            joined.append(was_joined)
        slow = any(self.fleet.provider_of(t).wake_timeout > SLOW_WAKE for t in targets)
        return WakeTicket(jobs=jobs, joined=joined[0], slow=slow)

    def _start_wake(
        self, view: AppView, actor: Actor, context: dict, *, main: bool, since: datetime | None
    ) -> tuple[WakeJob, bool]:
        def make() -> WakeJob:
            return WakeJob(view.ref, view.label, since or self.fleet.clock.now(), view.row.url)

        def run(job: WakeJob) -> None:
            wake = InFlightWake(
                view.row.provider, view.row.app_id, job.status.started_at, actor.id, actor.name, context if main else {}
            )
            claimed = self.fleet.store.claim_wake(wake, self.fleet.clock.now())
            self.executor.submit(self._run_wake, job, view, actor, None if claimed else wake, since is not None)

        return self.fleet.wakes.start(view.ref, make, run)

    def _run_wake(
        self, job: WakeJob, view: AppView, actor: Actor, elsewhere: InFlightWake | None, resumed: bool
    ) -> None:
        """`elsewhere`: the wake to claim once the process now acting on the app (another
        `paastis` on the same database) is done or gone; None when this process owns it.
        `resumed`: a gone process's wake, taken over."""
        handed_over = False
        try:
            self._follow_wake(job, view, actor, elsewhere, resumed)
        except HandedOver:  # its row stays for whoever resumes it; nothing recorded, nothing told
            handed_over = True
            log.info("wake.left_for_resume provider=%s app=%s reason=paastis_stopping", view.row.provider, view.name)
        except Exception as exc:  # a bug must still end the job, or every later wake would join it
            log.exception("wake.crashed provider=%s app=%s", view.row.provider, view.name)
            job.update(phase=Phase.FAILED, reason=f"internal error: {type(exc).__name__}")
        finally:
            self.fleet.wakes.finish(job)
            if not handed_over:
                self.fleet.store.end_wake(*view.ref, ours_only=True)
                if job.status.phase is Phase.FAILED:
                    reason, duration = job.status.reason or "", job.status.elapsed
                    self.audit.event("wake_failed", view, actor, reason, outcome="failed", duration=duration)
                self.troubles.wake_ended(view, job.status, actor)
            job.done.set()

    def _follow_wake(
        self, job: WakeJob, view: AppView, actor: Actor, elsewhere: InFlightWake | None, resumed: bool
    ) -> None:
        provider = self.fleet.provider_of(view)
        started = job.status.started_at
        ref = view.ref

        def elapsed() -> timedelta:
            return self.fleet.clock.now() - started

        with self.fleet.lock(ref):
            self.fleet.wakes.check_stopping()  # queued while Paastis stops: left as it is
            try:
                if elsewhere is not None:
                    app = self._follow_elsewhere(provider, job, elsewhere, elapsed)
                    if app is not None:  # the other process's wake ended: its outcome is ours
                        self._ended(job, view, actor, provider, app, elapsed, woken_here=False)
                        return
                app = provider.get_app(view.row.app_id)
                if app.state is AppState.RUNNING and resumed and view.state is not AppState.RUNNING:
                    # asleep when the gone process took the wake: it came up meanwhile, not "already up"
                    self._ended(
                        job, view, actor, provider, app, elapsed, woken_here=not self._woke_since(view, started)
                    )
                    return
                if app.state is AppState.RUNNING:
                    self.fleet.store.update_app(*ref, last_wake_at=self.fleet.clock.now(), url=app.url)
                    self.fleet.store.set_state(*ref, AppState.RUNNING, self.fleet.clock.now())
                    job.update(phase=Phase.UP, elapsed=elapsed(), url=app.url, already_up=True)
                    return
                if app.state is AppState.STOPPING:  # being put to sleep: let that finish first
                    app = self._poll(provider, app, job, elapsed, waiting_for=(AppState.STOPPING,))
                self.hooks.before_start(view, f"asked by {actor.name}")
                if app.state is not AppState.WAKING:
                    app = self._ask_wake(provider, app, view)
                now = self.fleet.clock.now()
                self.fleet.store.update_app(*ref, last_wake_at=now)  # a wake is use: not slept again at once
                self.fleet.store.set_state(*ref, AppState.WAKING, now)
                self.fleet.store.end_nap(*ref, now)
                log.info("app.waking provider=%s app=%s actor=%s", view.row.provider, view.name, actor.id)
                # right after the request a provider may still report the app asleep
                app = self._poll(provider, app, job, elapsed, waiting_for=(AppState.WAKING, AppState.SLEEPING))
            except ProviderError as exc:
                job.update(phase=Phase.FAILED, elapsed=elapsed(), reason=str(exc))
                return
            self._ended(job, view, actor, provider, app, elapsed, woken_here=True)

    def _ended(
        self,
        job: WakeJob,
        view: AppView,
        actor: Actor,
        provider: Provider,
        app: PaasApp,
        elapsed: Callable[[], timedelta],
        *,
        woken_here: bool,
    ) -> None:
        """The wake's outcome, from the app's state once it is over: recorded, hooks run, job ended."""
        now, ref = self.fleet.clock.now(), view.ref
        if app.state is AppState.RUNNING:
            self.fleet.store.update_app(*ref, last_wake_at=now, url=app.url)
            self.fleet.store.set_state(*ref, AppState.RUNNING, now)
            if woken_here:
                self.audit.event("woke", view, actor, "", duration=elapsed())
                log.info(
                    "app.woke provider=%s app=%s seconds=%.0f", view.row.provider, view.name, elapsed().total_seconds()
                )
                self.hooks.after_start(view, f"asked by {actor.name}")
            job.update(phase=Phase.UP, elapsed=elapsed(), url=app.url or view.row.url, elsewhere=not woken_here)
            return
        self.fleet.store.set_state(*ref, app.state, now, app.problem)
        if app.state in (AppState.WAKING, AppState.SLEEPING):
            reason = f"still {app.state.value} after {int(provider.wake_timeout)} s (the wake timeout)"
        else:
            reason = app.problem or f"the app ended {app.state.value}"
        job.update(phase=Phase.FAILED, elapsed=elapsed(), reason=reason)

    def _woke_since(self, view: AppView, started: datetime) -> bool:
        """True when a `woke` event of the app was recorded since `started` (by the gone
        process, killed before it removed its row): not recorded twice."""
        ref = view.ref
        return bool(self.fleet.store.events(provider=ref[0], app_id=ref[1], since=started, actions=("woke",), limit=1))

    def _follow_elsewhere(
        self, provider: Provider, job: WakeJob, wake: InFlightWake, elapsed: Callable[[], timedelta]
    ) -> PaasApp | None:
        """Another process (a `paastis wake` beside `serve`) is acting on the app: follow the
        provider until the app runs, crashes or the timeout passes (returns it), or until that
        process is done or gone and the wake is ours (returns None)."""
        deadline = self.fleet.clock.now() + timedelta(seconds=provider.wake_timeout)
        log.info("wake.followed_elsewhere provider=%s app=%s", wake.provider, job.status.label)
        while True:
            self.fleet.wakes.check_stopping()
            app = provider.get_app(wake.app_id)
            job.update(elapsed=elapsed())
            if app.state in (AppState.RUNNING, AppState.CRASHED) or self.fleet.clock.now() >= deadline:
                return app
            if self.fleet.store.claim_wake(wake, self.fleet.clock.now()):
                return None
            self.fleet.clock.sleep(provider.poll_interval)

    def _ask_wake(self, provider: Provider, app: PaasApp, view: AppView) -> PaasApp:
        """Ask the provider to start the app. A refusal because it is already being started
        (Scalingo's 409 "already being scaled": someone else's wake got there first) is no
        failure: the app is followed as it comes up."""
        try:
            provider.wake(app, self.fleet.store.app(*view.ref).recorded_formation)
        except OperationRejected:
            again = provider.get_app(app.id)
            if again.state not in (AppState.WAKING, AppState.RUNNING):
                raise
            log.info("wake.already_underway provider=%s app=%s", view.row.provider, view.name)
            return again
        return app

    def _poll(
        self,
        provider: Provider,
        app: PaasApp,
        job: WakeJob,
        elapsed: Callable[[], timedelta],
        *,
        waiting_for: tuple[AppState, ...],
    ) -> PaasApp:
        """Poll the provider (never the app) until the app leaves `waiting_for` or the wake
        timeout passes; always polls at least once."""
        deadline = self.fleet.clock.now() + timedelta(seconds=provider.wake_timeout)
        while True:
            self.fleet.wakes.check_stopping()
            self.fleet.clock.sleep(provider.poll_interval)
            self.fleet.wakes.check_stopping()
            app = provider.get_app(app.id)
            self.fleet.store.heartbeat(job.ref, self.fleet.clock.now())
            job.update(elapsed=elapsed())
            if app.state not in waiting_for or self.fleet.clock.now() >= deadline:
                return app

    def wake_scheduled(self, schedules: Collection[str]) -> list[WakeTicket]:
        """Wake the sleeping apps that follow one of `schedules` (those whose time to wake came)."""
        tickets = []
        catalog = self.fleet.catalog()
        for view in catalog:
            asleep = view.managed and view.state is AppState.SLEEPING and not view.row.gone
            if asleep and view.rules.schedule in schedules:
                log.info(
                    "app.scheduled_wake provider=%s app=%s schedule=%s",
                    view.row.provider,
                    view.name,
                    view.rules.schedule,
                )
                actor = Actor("schedule", f"schedule {view.rules.schedule}", via="scheduler")
                tickets.append(self.wake(view, actor, catalog=catalog))
        return tickets

    def resume_wakes(self, resumed: Resumed = unattended) -> list[WakeTicket]:
        """Follow again the wakes whose process is gone (stopped, killed: this one before a
        restart, or another instance); each is taken over by one process only, and handed to
        `resumed` with its row (Slack re-attaches the message that followed it)."""
        tickets = []
        now = self.fleet.clock.now()
        store = self.fleet.store
        left = [w for w in store.wakes_in_flight() if store.owner_gone(w.owner, w.heartbeat_at, now)]
        catalog = self.fleet.catalog() if left else None
        for wake in left:
            if not store.take_over_wake(wake, now):
                continue  # another process took it first
            view = catalog.get((wake.provider, wake.app_id)) if catalog else None
            if view is None or wake.provider not in self.fleet.providers:
                self.fleet.store.end_wake(wake.provider, wake.app_id)
                continue
            actor = Actor(wake.actor, wake.actor_name)
            log.info("wake.resumed provider=%s app=%s", wake.provider, view.name)
            ticket = self.wake(view, actor, context=wake.context, catalog=catalog, since=wake.started_at)
            resumed(ticket, wake)
            tickets.append(ticket)
        return tickets
