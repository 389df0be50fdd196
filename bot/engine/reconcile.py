"""Sleeps a crash interrupted, reconciled at start and by the leader as soon as their
process is gone (bot/store/liveness.py: at once on this host, once its lease expires on another).

Every sleep writes its intent before the provider call (bot.engine.sleeping). An intent
whose process is gone is compared with the provider's state: the app is asleep (or
stopping) — the sleep is finished: nap from the intent's time, `slept` event, formation —
or it still runs — the intent is rolled back and the next sweep decides again. The channel
hears of them once, in one notice.
"""

from __future__ import annotations

import logging

from bot.engine.actors import Actor
from bot.engine.fleet import Fleet
from bot.engine.notices import Notify, SleepsReconciled
from bot.engine.sleeping import Sleeper
from providers.base import AppState, ProviderError

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, fleet: Fleet, sleeper: Sleeper, notify: Notify) -> None:
        self.fleet = fleet
        self.sleeper = sleeper
        self.notify = notify

    def reconcile(self) -> SleepsReconciled | None:
        """Finish or roll back the sleeps left behind; returns what was told (None: nothing)."""
        finished: list[str] = []
        rolled_back: list[str] = []
        catalog = None
        now = self.fleet.clock.now()
        for intent in self.fleet.store.sleep_intents():
            ref = (intent.provider, intent.app_id)
            provider = self.fleet.providers.get(intent.provider)
            if provider is None or not self.fleet.store.owner_gone(intent.owner, intent.heartbeat_at, now):
                continue  # its process is alive: it is still at it
            try:
                app = provider.get_app(intent.app_id)
            except ProviderError as exc:
                log.warning("sleep.reconcile_failed provider=%s app=%s error=%s", intent.provider, intent.app_id, exc)
                continue
            if not self.fleet.store.take_over_sleep(intent, self.fleet.clock.now()):
                continue  # its process is alive: it is still at it
            catalog = catalog or self.fleet.catalog()
            view = catalog.get(ref)
            if view is not None and app.state in (AppState.SLEEPING, AppState.STOPPING):
                actor = Actor(intent.actor, intent.actor_name, via="restart")
                reason = f"{intent.reason} (finished after a restart)"
                self.sleeper.slept(view, actor, reason, intent.formation, at=intent.started_at)
                finished.append(view.label)
            elif view is not None and app.state is AppState.RUNNING:
                rolled_back.append(view.label)
            log.warning(
                "sleep.reconciled provider=%s app=%s state=%s outcome=%s",
                intent.provider,
                app.name,
                app.state.value,
                "finished" if view and view.label in finished else "rolled_back",
            )
            self.fleet.store.end_sleep(*ref)
        if not finished and not rolled_back:
            return None
        notice = SleepsReconciled(tuple(finished), tuple(rolled_back))
        self.notify(notice)
        return notice
