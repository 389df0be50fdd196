"""The engine: discover apps, observe their activity, put idle ones to sleep, wake them.

It uses providers, the store and the clock; it knows nothing of Slack or of the scheduler
(jobs call it, listeners call it). Batch work (discovery, observation, the sweep) turns
provider errors into per-app outcomes: one failing app never stops the others. Actions
people ask for (wake, sleep, keep) raise the errors they should see.

Provider calls are budgeted: apps are checked when their sleep decision falls due (last
activity + idle timeout), plus one fresh check just before they are put to sleep; sleeping
apps are never polled; optional freshness polling only spends a provider's spare budget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.errors import ActionRefused
from bot.policy.catalog import AppView, Catalog, CatalogInputs, build_catalog
from bot.store.rows import Ref
from bot.engine.actors import SCHEDULER, Actor
from bot.engine.hooks import HookFailed, Hooks, NoHooks
from bot.engine.notices import Notice, ProviderRecovered, ProviderTrouble, SweepDone
from bot.engine.outcomes import Outcome, SweepReport
from bot.policy.idle import FRESH, Verdict
from bot.policy.schedules import Schedules
from bot.store.store import InFlightWake, Keep, Store
from bot.engine.wake_jobs import WakeCoordinator, WakeTicket
from bot.engine.waking import Waker
from providers.base import AppState, AuthenticationFailed, Clock, Provider, ProviderError

log = logging.getLogger(__name__)

ACTIVITY_MARGIN = timedelta(minutes=5)  # a check looks this much further back than the idle timeout
INGESTION_LAG = timedelta(minutes=2)  # requests may show up in provider metrics this late
TROUBLE_AFTER = timedelta(minutes=5)  # a provider failing this long is reported in the channel
TROUBLE_REPEAT = timedelta(hours=6)  # ... and reminded at most this often
STALE_AFTER = timedelta(minutes=5)  # observation refreshes activity older than this, budget permitting


@dataclass(frozen=True)
class EngineOptions:
    dry_run: bool = False
    wake_workers: int = 16


@dataclass
class Engine:
    providers: Mapping[str, Provider]
    store: Store
    clock: Clock
    inputs: CatalogInputs
    options: EngineOptions = field(default_factory=EngineOptions)
    hooks: Hooks = field(default_factory=NoHooks)
    notify: Callable[[Notice], None] = field(default=lambda notice: None)
    on_event: Callable[[dict[str, object]], None] = field(default=lambda event: None)
    schedules: Schedules | None = None

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=self.options.wake_workers, thread_name_prefix="paastis-work")
        self._app_locks: dict[Ref, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._sweep_lock = threading.Lock()
        self.waker = Waker(self)

    @property
    def wakes(self) -> WakeCoordinator:
        return self.waker.coordinator

    @property
    def resumed_wake(self) -> Callable[[WakeTicket, InFlightWake], None]:
        """Called with each wake followed again after a restart (to re-attach its message)."""
        return self.waker.resumed

    @resumed_wake.setter
    def resumed_wake(self, callback: Callable[[WakeTicket, InFlightWake], None]) -> None:
        self.waker.resumed = callback

    # -- reading -------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        now = self.clock.now()
        return build_catalog(
            self.store.apps(), self.inputs, now, keeps=self.store.keeps(now), waking=self.wakes.in_flight()
        )

    def find(self, text: str) -> AppView:
        return self.catalog().find(text)

    # -- discovery -----------------------------------------------------------------------
    def discover(self) -> dict[str, str]:
        """List every provider's apps into the store; returns errors by provider name."""
        errors: dict[str, str] = {}
        for name, provider in self.providers.items():
            now = self.clock.now()
            try:
                apps = provider.list_apps()
            except ProviderError as exc:
                errors[name] = str(exc)
                self._provider_failed(name, exc)
                continue
            self._provider_ok(name)
            waking = frozenset(app_id for provider_name, app_id in self.wakes.in_flight() if provider_name == name)
            for app in self.store.sync_apps(name, apps, now, hold_state=waking):
                log.info("app.discovered provider=%s app=%s state=%s", name, app.name, app.state.value)
                self.record(
                    "discovered", SCHEDULER, provider=name, app_id=app.app_id, app_name=app.name,
                    reason=f"found {app.state.value}",
                )  # fmt: skip
        return errors

    def _provider_failed(self, name: str, exc: ProviderError) -> None:
        """Log once per change (not at every minute), and tell the channel when it lasts —
        at once for credentials, which never fix themselves."""
        now, error = self.clock.now(), str(exc)
        previous = self.store.provider_health().get(name, {})
        health = self.store.provider_failed(name, error, now)
        if previous.get("ok", 1) or previous.get("error") != error:
            log.warning("provider.failing provider=%s error=%s", name, error)
        else:
            log.debug("provider.still_failing provider=%s error=%s", name, error)
        since = datetime.fromisoformat(health["failing_since"])
        notified = datetime.fromisoformat(health["notified_at"]) if health.get("notified_at") else None
        lasting = now - since >= TROUBLE_AFTER or isinstance(exc, AuthenticationFailed)
        if lasting and (notified is None or now - notified >= TROUBLE_REPEAT):
            self.store.provider_notified(name, now)
            self.record("provider_error", SCHEDULER, provider=name, outcome="failed", reason=error)
            self.notify(ProviderTrouble(name, error, since))

    def _provider_ok(self, name: str) -> None:
        if self.store.provider_ok(name, self.clock.now()):
            log.info("provider.recovered provider=%s", name)
            self.notify(ProviderRecovered(name))

    # -- observation ---------------------------------------------------------------------
    def check(self, view: AppView) -> bool:
        """Read one app's activity into the store; False when it could not be read."""
        provider = self.providers.get(view.row.provider)
        if provider is None:
            return False
        now = self.clock.now()
        since = now - view.rules.idle_timeout - ACTIVITY_MARGIN
        if view.row.checked_at and view.row.checked_at - INGESTION_LAG > since:
            since = view.row.checked_at - INGESTION_LAG
        try:
            activity = provider.activity(view.row.as_paas_app(), since)
        except ProviderError as exc:
            log.warning("activity.unreadable provider=%s app=%s error=%s", view.row.provider, view.name, exc)
            self.store.record_check_failure(view.row.provider, view.row.app_id, str(exc), now)
            return False
        self.store.record_activity(
            view.row.provider, view.row.app_id, at=now, since=activity.since, until=activity.until,
            requests=activity.requests, last_request_at=activity.last_request_at,
            last_deploy_at=activity.last_deploy_at,
        )  # fmt: skip
        return True

    def observe(self, *, limit_per_provider: int = 50) -> int:
        """Refresh the activity of running apps not checked lately, with spare budget only."""
        checked = 0
        now = self.clock.now()
        catalog = self.catalog()
        for name, provider in self.providers.items():
            stale = [
                v for v in catalog
                if v.row.provider == name and v.managed and v.state is AppState.RUNNING and not v.row.gone
                and (v.row.checked_at is None or now - v.row.checked_at > STALE_AFTER)
            ]  # fmt: skip
            stale.sort(key=lambda v: v.row.checked_at or datetime.min.replace(tzinfo=now.tzinfo))
            for view in stale[:limit_per_provider]:
                budget = provider.budget()
                if budget is not None and budget.spare < 1:
                    break
                checked += self.check(view)
        return checked

    # -- the sweep -----------------------------------------------------------------------
    def sweep(self) -> SweepReport:
        """Put to sleep every managed app idle past its timeout (groups together)."""
        if not self._sweep_lock.acquire(blocking=False):
            return SweepReport(self.clock.now(), dry_run=self.options.dry_run)
        try:
            outcomes = self._sweep()
        finally:
            self._sweep_lock.release()
        report = SweepReport(self.clock.now(), tuple(outcomes), self.options.dry_run)
        if report.of("slept", "would_sleep", "sleep_failed"):
            self.notify(SweepDone(report))
        return report

    def _sweep(self) -> list[Outcome]:
        outcomes: list[Outcome] = []
        catalog = self.catalog()
        due = [v for v in catalog if v.decision.verdict is Verdict.CHECK and not v.row.gone]
        due.sort(key=lambda v: v.decision.sleeps_at or datetime.min.replace(tzinfo=self.clock.now().tzinfo))
        deferred: set[str] = set()
        for view in due:
            provider = self.providers.get(view.row.provider)
            if provider is None or view.row.provider in deferred:
                continue
            budget = provider.budget()
            if budget is not None and budget.spare < 1:
                deferred.add(view.row.provider)
                outcomes.append(Outcome(view.ref, view.label, "deferred", "API budget spent for this minute"))
                continue
            if not self.check(view):
                row = self.store.app(*view.ref)
                outcomes.append(Outcome(view.ref, view.label, "check_failed", row.check_error or "unreadable"))
        if due:
            catalog = self.catalog()
        slept: set[Ref] = set()
        for view in catalog:
            if view.decision.verdict is not Verdict.SLEEP or view.ref in slept or view.row.gone:
                continue
            slept.add(view.ref)
            outcomes.append(self._sleep_for_sweep(view))
        return outcomes

    def _used_since_decided(self, view: AppView, provider: Provider) -> bool:
        """Sleeping many apps takes time (API budget waits): when the confirming check has
        aged, check again — with budget for that check and the scale right behind it — so
        the scale follows a check by seconds, never by a minute of waiting."""
        if "forced-sleep" in view.decision.reason:
            return False
        checked = self.store.app(*view.ref).checked_at
        if checked is not None and self.clock.now() - checked <= FRESH:
            return False
        self._await_headroom(provider, calls=2)
        if not self.check(view):
            return True  # unreadable now: unknown is never idle
        row = self.store.app(*view.ref)
        before = view.row.last_activity
        return row is not None and row.last_activity is not None and (before is None or row.last_activity > before)

    def _await_headroom(self, provider: Provider, *, calls: int, patience: float = 90.0) -> None:
        waited = 0.0
        while waited < patience:
            budget = provider.budget()
            if budget is None or budget.limit_per_minute - budget.used_last_minute >= calls:
                return
            self.clock.sleep(1.0)
            waited += 1.0

    def _sleep_for_sweep(self, view: AppView) -> Outcome:
        reason = view.decision.reason
        try:
            return self.sleep_app(view, SCHEDULER, reason, confirm=True)
        except (ProviderError, ActionRefused) as exc:
            return Outcome(view.ref, view.label, "sleep_failed", str(exc))
        except Exception as exc:  # an unexpected bug must not stop the sweep; it is logged with its traceback
            log.exception("sweep.sleep_crashed provider=%s app=%s", view.row.provider, view.name)
            return Outcome(view.ref, view.label, "sleep_failed", f"internal error: {type(exc).__name__}")

    # -- sleep ---------------------------------------------------------------------------
    def sleep_app(self, view: AppView, actor: Actor, reason: str, *, confirm: bool = False) -> Outcome:
        """Put one app to sleep, recording its formation first. Raises ProviderError.

        With `confirm` (the sweep), idleness is re-checked right before the scale when the
        decision's check has aged."""
        provider = self.provider_of(view)
        if self.wakes.job(view.ref):
            raise ActionRefused(f"{view.label} is being woken right now; try again once it is up.")
        with self.app_lock(view.ref):
            now = self.clock.now()
            fresh = provider.get_app(view.row.app_id)
            if fresh.state is not AppState.RUNNING:
                self.store.set_state(*view.ref, fresh.state, now, fresh.problem)
                return Outcome(view.ref, view.label, "skipped", f"already {fresh.state.value}")
            if confirm and self._used_since_decided(view, provider):
                return Outcome(view.ref, view.label, "skipped", "used again just now")
            if fresh.formation is not None:
                self.store.record_formation(*view.ref, fresh.formation, now)
            if self.options.dry_run:
                self.event("would_sleep", view, actor, reason, outcome="dry-run")
                log.info("app.would_sleep provider=%s app=%s reason=%s", view.row.provider, view.name, reason)
                return Outcome(view.ref, view.label, "would_sleep", reason, fresh.formation, fresh.url)
            try:
                self.hooks.before_stop(view, reason)
            except HookFailed as exc:
                self.event("sleep_failed", view, actor, str(exc), outcome="failed")
                raise ActionRefused(f"{exc}: {view.label} stays up.") from None
            try:
                formation = provider.sleep(fresh)
            except ProviderError as exc:
                self.event("sleep_failed", view, actor, f"{reason}: {exc}", outcome="failed")
                log.warning("app.sleep_failed provider=%s app=%s error=%s", view.row.provider, view.name, exc)
                raise
            now = self.clock.now()
            self.store.record_formation(*view.ref, formation, now)
            self.store.set_state(*view.ref, AppState.STOPPING, now)
            self.store.begin_nap(*view.ref, now, formation if formation.running else fresh.formation)
            self.event("slept", view, actor, reason, details={"formation": formation.describe()})
            log.info(
                "app.slept provider=%s app=%s actor=%s reason=%s formation=%s",
                view.row.provider, view.name, actor.id, reason, formation.describe(),
            )  # fmt: skip
            self.hooks.after_stop(view, reason)
            return Outcome(view.ref, view.label, "slept", reason, formation, fresh.url)

    def check_sleepable(self, view: AppView) -> None:
        """Raise ActionRefused, saying why, when someone may not put this app to sleep now.
        No provider call: chat-ops asks before acknowledging."""
        if view.rules.protected:
            raise ActionRefused(f"{view.label} is protected by the rules: Paastis never puts it to sleep.")
        if not view.managed:
            raise ActionRefused(f"{view.label} is not managed by Paastis ({view.rules.ignored}).")
        if self.wakes.job(view.ref):
            raise ActionRefused(f"{view.label} is being woken right now; try again once it is up.")
        if view.state is not AppState.RUNNING:
            raise ActionRefused(f"{view.label} is {view.state.value}: there is nothing to put to sleep.")

    def sleep(self, view: AppView, actor: Actor) -> list[Outcome]:
        """Someone asked: sleep this app (not its group: they named one app)."""
        self.check_sleepable(view)
        return [self.sleep_app(view, actor, f"asked by {actor.name}")]

    # -- keep awake ----------------------------------------------------------------------
    def keep(self, view: AppView, until: datetime, actor: Actor, reason: str | None = None) -> Keep:
        now = self.clock.now()
        if until <= now:
            raise ActionRefused("That moment is already past: pick a later one.")
        if until - now > timedelta(days=31):
            raise ActionRefused("Keeping an app awake is limited to 31 days, so pins are not forgotten.")
        keep = Keep(until=until, by=actor.id, by_name=actor.name, reason=reason, created_at=now)
        self.store.set_keep(*view.ref, keep)
        self.store.update_app(*view.ref, last_used_at=now)
        self.event("kept", view, actor, reason or "", details={"until": until.isoformat()})
        return keep

    def unkeep(self, view: AppView, actor: Actor) -> bool:
        dropped = self.store.drop_keep(*view.ref)
        if dropped:
            self.event("unkept", view, actor, "")
        return dropped

    # -- wake (see bot.engine.waking) ------------------------------------------------------------
    def wake(
        self,
        view: AppView,
        actor: Actor,
        *,
        context: Mapping[str, object] | None = None,
        catalog: Catalog | None = None,
    ) -> WakeTicket:
        """Wake an app and the apps it links to; joins wakes already in flight. Returns at once."""
        return self.waker.wake(view, actor, context=context, catalog=catalog)

    def wake_scheduled(self, start: datetime, end: datetime) -> list[WakeTicket]:
        return self.waker.wake_scheduled(start, end)

    def resume_wakes(self) -> list[WakeTicket]:
        return self.waker.resume_wakes()

    def housekeeping(self, keep_activity: timedelta = timedelta(days=30)) -> int:
        return self.store.prune_activity(self.clock.now() - keep_activity)

    # -- helpers -------------------------------------------------------------------------
    def provider_of(self, view: AppView) -> Provider:
        provider = self.providers.get(view.row.provider)
        if provider is None:
            raise ActionRefused(f"{view.label} belongs to provider {view.row.provider}, which is not configured any more.")
        return provider

    def app_lock(self, ref: Ref) -> threading.Lock:
        """One provider operation (a sleep, a wake) at a time per app."""
        with self._locks_lock:
            return self._app_locks.setdefault(ref, threading.Lock())

    def event(
        self,
        action: str,
        view: AppView,
        actor: Actor,
        reason: str,
        *,
        outcome: str = "ok",
        duration: timedelta | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        self.record(
            action, actor, provider=view.row.provider, app_id=view.row.app_id, app_name=view.name,
            outcome=outcome, reason=reason, duration=duration, details=details,
        )  # fmt: skip

    def record(self, action: str, actor: Actor, **fields: object) -> None:
        """Write an event to the audit log, and hand it to the webhooks."""
        at = self.clock.now()
        event_id = self.store.add_event(at=at, action=action, actor=actor.id, actor_name=actor.name, **fields)
        duration = fields.get("duration")
        payload = {
            "id": event_id, "at": at.isoformat(), "action": action, "actor": actor.id, "actor_name": actor.name,
            **{k: v for k, v in fields.items() if k != "duration"},
            "duration_seconds": duration.total_seconds() if isinstance(duration, timedelta) else None,
        }  # fmt: skip
        self.on_event(payload)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=False)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no wake is in flight (the demo waits before it exits)."""
        for job_ref in list(self.wakes.in_flight()):
            job = self.wakes.job(job_ref)
            if job and not job.done.wait(timeout):
                return False
        return True

