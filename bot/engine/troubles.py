"""Failures that repeat, for each app: recorded (how often, since when, why, next try) and
told to the channel once — when they start, at most every 6 hours while they last, and
when they end (bot.policy.retries). A sleep that fails is tried again with back-off: the
catalog keeps the app up until its next try; a wake or a hook is tried again when asked.
"""

from __future__ import annotations

import logging

from bot.engine.actors import Actor
from bot.engine.fleet import Fleet
from bot.engine.hooks import Hooks
from bot.engine.notices import Failing, Notify, Recovered, WakeFailed
from bot.engine.wake_jobs import JobStatus, Phase
from bot.policy.catalog import AppView
from bot.policy.retries import retry_wait, worth_telling
from bot.store.rows import Failure

log = logging.getLogger(__name__)


class Troubles:
    def __init__(self, fleet: Fleet, notify: Notify) -> None:
        self.fleet = fleet
        self.notify = notify

    def failed(self, view: AppView, kind: str, reason: str, *, retry: bool) -> Failure:
        """One more failure of `kind`; `retry`: tried again by Paastis itself, after a back-off."""
        now = self.fleet.clock.now()
        before = self.fleet.store.failures(kind).get(view.ref)
        count = (before.count if before else 0) + 1
        next_try = now + retry_wait(count) if retry else None
        failure = self.fleet.store.app_failed(view.ref, kind, reason, now, next_try)
        log.warning(
            "app.failing provider=%s app=%s kind=%s count=%d next_try=%s reason=%s",
            view.row.provider,
            view.name,
            kind,
            count,
            next_try.isoformat() if next_try else "when asked",
            reason,
        )
        if worth_telling(failure.notified_at, now):
            self.fleet.store.failure_told(view.ref, kind, now)
            self.notify(Failing(kind, view.label, view.ref, reason, count, failure.first_at, next_try))
        return failure

    def succeeded(self, view: AppView, kind: str) -> None:
        """`kind` worked: a failure that was going on has ended, and the channel hears it once."""
        failure = self.fleet.store.app_recovered(view.ref, kind)
        if failure is None:
            return
        log.info(
            "app.recovered provider=%s app=%s kind=%s failures=%d", view.row.provider, view.name, kind, failure.count
        )
        self.notify(Recovered(kind, view.label, view.ref, failure.count, failure.first_at))

    def wake_ended(self, view: AppView, status: JobStatus, actor: Actor) -> None:
        """A wake's end: a failure is told as a wake failure (with Retry), once while wakes keep failing."""
        if status.phase is Phase.UP:
            self.succeeded(view, "wake")
            return
        if status.phase is not Phase.FAILED:
            return
        reason = status.reason or ""
        now = self.fleet.clock.now()
        failure = self.fleet.store.app_failed(view.ref, "wake", reason, now, None)
        if worth_telling(failure.notified_at, now):
            self.fleet.store.failure_told(view.ref, "wake", now)
            self.notify(WakeFailed(view.label, view.ref, reason, actor.name, failure.count, failure.first_at))


class ToldHooks:
    """Hooks whose failures are news once, like any failure that repeats: a hook that keeps
    failing is told when it starts, at most every 6 h, and when it runs fine again. A
    failing before_stop is the sleep's own failure (it cancels the sleep): told as that."""

    def __init__(self, hooks: Hooks, troubles: Troubles) -> None:
        self.hooks = hooks
        self.troubles = troubles

    def before_start(self, view: AppView, reason: str) -> str | None:
        return self._told("before_start", view, self.hooks.before_start(view, reason))

    def after_start(self, view: AppView, reason: str) -> str | None:
        return self._told("after_start", view, self.hooks.after_start(view, reason))

    def before_stop(self, view: AppView, reason: str) -> str | None:
        return self.hooks.before_stop(view, reason)

    def after_stop(self, view: AppView, reason: str) -> str | None:
        return self._told("after_stop", view, self.hooks.after_stop(view, reason))

    def _told(self, event: str, view: AppView, why: str | None) -> str | None:
        if why:
            self.troubles.failed(view, f"hook:{event}", why, retry=False)
        else:
            self.troubles.succeeded(view, f"hook:{event}")
        return why
