"""Putting one app to sleep: for the sweep (idle) or for someone who asked.

sleep_app ─▶ refused while a wake is in flight ─▶ app lock ─▶ get_app: not running? skipped
          ─▶ (the sweep) used again since the decision? skipped ─▶ record the formation
          ─▶ dry run? would_sleep ─▶ before_stop hook (its failure cancels) ─▶ provider.sleep
          ─▶ nap begun, event slept, after_stop hook
"""

from __future__ import annotations

import logging

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.fleet import Fleet
from bot.engine.hooks import HookFailed, Hooks
from bot.engine.observation import Observer
from bot.engine.outcomes import Outcome
from bot.errors import ActionRefused
from bot.policy.catalog import AppView
from providers.base import AppState, ProviderError

log = logging.getLogger(__name__)


class Sleeper:
    """Puts one app to sleep, for the sweep or for someone who asked, and says when it may not."""

    def __init__(self, fleet: Fleet, audit: Audit, hooks: Hooks, observer: Observer, *, dry_run: bool = False) -> None:
        self.fleet = fleet
        self.audit = audit
        self.hooks = hooks
        self.observer = observer  # the fresh look before the scale
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

    def sleep_app(self, view: AppView, actor: Actor, reason: str, *, confirm: bool = False) -> Outcome:
        """Put one app to sleep, recording its formation first. Raises ProviderError.

        With `confirm` (the sweep), idleness is re-checked right before the scale when the
        decision's check has aged."""
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
            if fresh.formation is not None:
                self.fleet.store.record_formation(*view.ref, fresh.formation, now)
            if self.dry_run:
                self.audit.event("would_sleep", view, actor, reason, outcome="dry-run")
                log.info("app.would_sleep provider=%s app=%s reason=%s", view.row.provider, view.name, reason)
                return Outcome(view.ref, view.label, "would_sleep", reason, fresh.formation, fresh.url)
            try:
                self.hooks.before_stop(view, reason)
            except HookFailed as exc:
                self.audit.event("sleep_failed", view, actor, str(exc), outcome="failed")
                raise ActionRefused(f"{exc}: {view.label} stays up.") from None
            try:
                formation = provider.sleep(fresh)
            except ProviderError as exc:
                self.audit.event("sleep_failed", view, actor, f"{reason}: {exc}", outcome="failed")
                log.warning("app.sleep_failed provider=%s app=%s error=%s", view.row.provider, view.name, exc)
                raise
            now = self.fleet.clock.now()
            self.fleet.store.record_formation(*view.ref, formation, now)
            self.fleet.store.set_state(*view.ref, AppState.STOPPING, now)
            self.fleet.store.begin_nap(*view.ref, now, formation if formation.running else fresh.formation)
            self.audit.event("slept", view, actor, reason, details={"formation": formation.describe()})
            log.info(
                "app.slept provider=%s app=%s actor=%s reason=%s formation=%s",
                view.row.provider,
                view.name,
                actor.id,
                reason,
                formation.describe(),
            )
            self.hooks.after_stop(view, reason)
            return Outcome(view.ref, view.label, "slept", reason, formation, fresh.url)
