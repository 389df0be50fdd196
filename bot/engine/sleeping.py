"""Putting one app to sleep: for the sweep (idle) or for someone who asked.

sleep_app ─▶ refused while a wake is in flight ─▶ app lock ─▶ get_app: not running? skipped
          ─▶ (the sweep) used again since the decision? skipped ─▶ record the formation
          ─▶ dry run? would_sleep ─▶ intent written (refused while another process acts on
             the app) ─▶ before_stop hook (its failure cancels) ─▶ provider.sleep
          ─▶ nap begun, event slept ─▶ intent ended ─▶ after_stop hook

The intent, written before the provider call, is what a crash leaves: the next start
finishes or rolls it back (bot.engine.reconcile). A sleep that fails is recorded with its
next try (bot.engine.troubles): the app stays up until then, and the channel hears of it
once while it keeps failing, and once when it works again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.fleet import Fleet
from bot.engine.hooks import HookFailed, Hooks
from bot.engine.observation import Observer
from bot.engine.outcomes import Outcome
from bot.engine.troubles import Troubles
from bot.errors import ActionRefused
from bot.policy.catalog import AppView
from bot.store.rows import SleepIntent
from providers.base import AppState, Formation, PaasApp, ProviderError

log = logging.getLogger(__name__)

HOOK_TOOK_TIME = timedelta(seconds=1)  # a before_stop hook this long: say we are still at it before the scale


class SleepCancelled(ActionRefused):
    """The before_stop hook failed: the app stays up (a failed sleep, tried again later)."""


class Sleeper:
    """Puts one app to sleep, for the sweep or for someone who asked, and says when it may not."""

    def __init__(
        self, fleet: Fleet, audit: Audit, hooks: Hooks, observer: Observer, troubles: Troubles, *, dry_run: bool = False
    ) -> None:
        self.fleet = fleet
        self.audit = audit
        self.hooks = hooks
        self.observer = observer  # the fresh look before the scale
        self.troubles = troubles  # failures: recorded with their next try, told once
        self.dry_run = dry_run

    def check_sleepable(self, view: AppView) -> None:
        """Raise ActionRefused, saying why, when someone may not put this app to sleep now.
        No provider call: chat-ops asks before acknowledging."""
        if view.rules.protected:
            raise ActionRefused(f"{view.label} is protected by the rules: Paastis never puts it to sleep.")
        if not view.managed:
            raise ActionRefused(f"{view.label} is not managed by Paastis ({view.rules.ignored}).")
        if self.fleet.wakes.job(view.ref):
            raise ActionRefused(f"{view.label} is being woken right now; try again once it is up.")
        if view.state is not AppState.RUNNING:
            raise ActionRefused(f"{view.label} is {view.state.value}: there is nothing to put to sleep.")

    def sleep(self, view: AppView, actor: Actor) -> list[Outcome]:
        """Someone asked: sleep this app (not its group: they named one app)."""
        self.check_sleepable(view)
        return [self.sleep_app(view, actor, f"asked by {actor.name}")]

    def sleep_app(
        self, view: AppView, actor: Actor, reason: str, *, confirm: bool = False, record: bool = True
    ) -> Outcome:
        """Put one app to sleep, recording its formation first. Raises ProviderError, and
        ActionRefused when a hook or another process stands in the way.

        With `confirm` (the sweep), idleness is re-checked right before the scale when the
        decision's check has aged. `record` False: a dry run writes no `would_sleep` event
        (the sweep already wrote one for this idle period)."""
        provider = self.fleet.provider_of(view)
        if self.fleet.wakes.job(view.ref):
            raise ActionRefused(f"{view.label} is being woken right now; try again once it is up.")
        with self.fleet.lock(view.ref):
            now = self.fleet.clock.now()
            fresh = provider.get_app(view.row.app_id)
            if fresh.state is not AppState.RUNNING:
                self.fleet.store.set_state(*view.ref, fresh.state, now, fresh.problem)
                return Outcome(view.ref, view.label, "skipped", f"already {fresh.state.value}")
            if confirm and self.observer.used_since_decided(view, provider):
                return Outcome(view.ref, view.label, "skipped", "used again just now")
            intent = SleepIntent(*view.ref, now, actor.id, actor.name, reason, fresh.formation)
            with self.fleet.store.transaction():  # one write: what to restore, and (acting) the intent
                if fresh.formation is not None:
                    self.fleet.store.record_formation(*view.ref, fresh.formation, now)
                claimed = self.dry_run or self.fleet.store.claim_sleep(intent, now)
            if self.dry_run:
                if record:
                    self.audit.event("would_sleep", view, actor, reason, outcome="dry-run")
                log.info("app.would_sleep provider=%s app=%s reason=%s", view.row.provider, view.name, reason)
                return Outcome(view.ref, view.label, "would_sleep", reason, fresh.formation, fresh.url)
            if not claimed:
                raise ActionRefused(
                    f"{view.label} is being woken or put to sleep by another Paastis process right now."
                )
            try:
                outcome = self._sleep(view, actor, reason, fresh, claimed=now)
            finally:
                self.fleet.store.end_sleep(*view.ref)  # done: a crash in the hook below leaves nothing to finish
            self.hooks.after_stop(view, reason)
            return outcome

    def _sleep(self, view: AppView, actor: Actor, reason: str, fresh: PaasApp, *, claimed: datetime) -> Outcome:
        provider = self.fleet.provider_of(view)
        try:
            self.hooks.before_stop(view, reason)
        except HookFailed as exc:
            self.audit.event("sleep_failed", view, actor, str(exc), outcome="failed")
            self.troubles.failed(view, "sleep", str(exc), retry=True)
            raise SleepCancelled(f"{exc}: {view.label} stays up.") from None
        if self.fleet.clock.now() - claimed >= HOOK_TOOK_TIME:  # the claim's own heartbeat is still fresh otherwise
            self.fleet.store.heartbeat(view.ref, self.fleet.clock.now())
        try:
            formation = provider.sleep(fresh)
        except ProviderError as exc:
            self.audit.event("sleep_failed", view, actor, f"{reason}: {exc}", outcome="failed")
            self.troubles.failed(view, "sleep", str(exc), retry=True)
            raise
        self.slept(view, actor, reason, formation if formation.running else fresh.formation)
        return Outcome(view.ref, view.label, "slept", reason, formation, fresh.url)

    def slept(
        self, view: AppView, actor: Actor, reason: str, formation: Formation | None, at: datetime | None = None
    ) -> None:
        """What follows a sleep the provider took (`at`, default now): formation, state, nap,
        event; a failure that was going on has ended. Also what finishes a sleep a crash interrupted."""
        now = at or self.fleet.clock.now()
        with self.fleet.store.transaction():  # one write: what to restore, the state, the nap
            if formation is not None:
                self.fleet.store.record_formation(*view.ref, formation, now)
            self.fleet.store.set_state(*view.ref, AppState.STOPPING, now)
            self.fleet.store.begin_nap(*view.ref, now, formation)
        described = formation.describe() if formation else "unknown"
        self.audit.event("slept", view, actor, reason, details={"formation": described})
        log.info(
            "app.slept provider=%s app=%s actor=%s reason=%s formation=%s",
            view.row.provider,
            view.name,
            actor.id,
            reason,
            described,
        )
        self.troubles.succeeded(view, "sleep")
