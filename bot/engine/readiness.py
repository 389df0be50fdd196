"""Readiness: whether Paastis can do its work — today, whether its database can be written
(a full disk makes every job fail). `/healthz` answers 503 with the problems while there
are any; the channel hears of it once when it starts, at most every 6 hours while it
lasts, and once when it ends (checked every minute by the scheduler)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from bot.engine.notices import Notify, StoreRecovered, StoreTrouble
from bot.policy.retries import worth_telling
from bot.store.store import Store
from providers.base import Clock

log = logging.getLogger(__name__)


class Readiness:
    def __init__(self, store: Store, clock: Clock, notify: Notify) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify
        self._lock = threading.Lock()
        self._since: datetime | None = None
        self._told_at: datetime | None = None

    def problems(self) -> list[str]:
        """What stops Paastis from working now, in words (empty: ready)."""
        problem = self.store.write_problem
        return [f"the database {self.store.where} cannot be written: {problem}"] if problem else []

    def check(self) -> None:
        """Tell the channel when the database stops (or starts again) being writable."""
        now, problem = self.clock.now(), self.store.write_problem
        with self._lock:
            if problem is None:
                if self._since is None:
                    return
                self._since = self._told_at = None
                log.info("store.writable_again path=%s", self.store.where)
                notice: StoreTrouble | StoreRecovered = StoreRecovered()
            else:
                if self._since is None:
                    self._since = now
                    log.error("store.unwritable path=%s error=%s", self.store.where, problem)
                if not worth_telling(self._told_at, now):
                    return
                self._told_at = now
                notice = StoreTrouble(problem, self._since)
        self.notify(notice)
