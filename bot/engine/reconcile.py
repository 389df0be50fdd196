"""Sleeps a crash or an outage interrupted, reconciled at start and by the leader every 10 s:
those of a process that is gone (bot/store/liveness.py: at once on this host, once its
lease expires on another), and this process's own that a lost database cut short.

Every sleep writes its intent before the provider call (bot.engine.sleeping). An intent
whose process is gone is compared with the provider's state: the app is asleep (or
stopping) — the sleep is finished: nap from the intent's time, `slept` event, formation —
or it still runs — the intent is rolled back and the next sweep decides again. The channel
hears of them once, in one notice.
"""

from __future__ import annotations

import logging
import threading

from bot.engine.actors import Actor
from bot.engine.fleet import Fleet
from bot.engine.notices import Notify, SleepsReconciled
from bot.engine.sleeping import Sleeper
from bot.store.rows import SleepIntent
from providers.base import AppState, ProviderError

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, fleet: Fleet, sleeper: Sleeper, notify: Notify) -> None:
        self.fleet = fleet
        self.sleeper = sleeper
        self.notify = notify
        self._running = threading.Lock()  # one reconcile at a time (the leader's job, a new leader's takeover)

    def reconcile(self) -> SleepsReconciled | None:
        """Finish or roll back the sleeps left behind; returns what was told (None: nothing).
        Left behind: by a process that is gone, or by this one when a sleep was cut short (the
        database lost in the middle) — an intent of ours whose app no sleep of ours holds."""
        finished: list[str] = []
        rolled_back: list[str] = []
        if not self._running.acquire(blocking=False):
            return None  # another thread of this process reconciles right now
        try:
            for intent in self.fleet.store.sleep_intents():
                self._reconcile(intent, finished, rolled_back)
        finally:
            self._running.release()
        if not finished and not rolled_back:
            return None
        notice = SleepsReconciled(tuple(finished), tuple(rolled_back))
        self.notify(notice)
        return notice

    def _reconcile(self, intent: SleepIntent, finished: list[str], rolled_back: list[str]) -> None:
        """Settle `intent` when it was left behind, holding its app as a sleep does."""
        store, now = self.fleet.store, self.fleet.clock.now()
        if intent.provider not in self.fleet.providers:
            return
        lock = self.fleet.lock((intent.provider, intent.app_id))
        if not lock.acquire(blocking=False):
            return  # a sleep or wake of ours is at it
        try:
            ours = intent.owner == store.owner  # and no sleep of ours holds it: an outage left it
            gone = not ours and store.owner_gone(intent.owner, intent.heartbeat_at, now)
            if ours or (gone and store.take_over_sleep(intent, now)):
                self._settle(intent, finished, rolled_back)
        finally:
            lock.release()

    def _settle(self, intent: SleepIntent, finished: list[str], rolled_back: list[str]) -> None:
        """The sleep is finished when the provider put the app to sleep, rolled back when it
        still runs; left for later when the provider cannot say."""
        ref = (intent.provider, intent.app_id)
        try:
            app = self.fleet.providers[intent.provider].get_app(intent.app_id)
        except ProviderError as exc:
            log.warning("sleep.reconcile_failed provider=%s app=%s error=%s", intent.provider, intent.app_id, exc)
            return
        view = self.fleet.catalog().get(ref)
        outcome = "rolled_back"
        if view is not None and app.state in (AppState.SLEEPING, AppState.STOPPING):
            actor = Actor(intent.actor, intent.actor_name, via="restart")
            reason = f"{intent.reason} (finished after a restart)"
            self.sleeper.slept(view, actor, reason, intent.formation, at=intent.started_at)
            finished.append(view.label)
            outcome = "finished"
        elif view is not None and app.state is AppState.RUNNING:
            rolled_back.append(view.label)
        log.warning(
            "sleep.reconciled provider=%s app=%s state=%s outcome=%s",
            intent.provider,
            app.name,
            app.state.value,
            outcome,
        )
        self.fleet.store.end_sleep(*ref)
