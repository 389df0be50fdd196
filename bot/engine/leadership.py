"""Which instance runs the scheduled work when several `serve` share one database.

Every instance answers Slack and says it lives (a lease per process, renewed with the
lead: what lets the others take over its wakes, sleeps and notices once it is gone). One
leads: it holds the `scheduler` lease (bot/store/leases.py), renewed every `RENEW`, and
runs discovery, the sweep, observation, scheduled wakes, the report, housekeeping and the
takeover of what a gone process left. The others try to take the lease at the same pace and take over
once it expires (`TTL`): a killed leader is replaced within TTL + RENEW (25 s).

Watchdog: an instance counts itself leader only until TTL − RENEW after its last successful
renewal — before the lease can expire in the database — so a leader that lost the
database stops leading before anyone else can start. And each sweep is claimed for its
scheduled time (`claim_run`): even two leaders for a moment never sweep the same period twice.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.store.database import StoreError, problem_of
from bot.store.liveness import process_lease
from bot.store.store import Store
from providers.base import Clock

log = logging.getLogger(__name__)

LEASE = "scheduler"
TTL = timedelta(seconds=20)
RENEW = timedelta(seconds=5)


class Leadership:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._until: datetime | None = None  # we lead until then, unless renewed

    def renew(self) -> bool:
        """Say this process lives (its own lease, bot/store/liveness.py), then take or renew
        the lead; True while this instance leads."""
        now = self.clock.now()
        try:
            self.store.hold_lease(process_lease(), now, TTL)
            ours = self.store.hold_lease(LEASE, now, TTL)
        except StoreError as exc:
            log.warning("leadership.renew_failed owner=%s error=%s", self.store.owner, problem_of(exc))
            return self.leads()  # the watchdog ends it in time
        with self._lock:
            was = self._until is not None and now < self._until
            self._until = now + TTL - RENEW if ours else None
        if ours and not was:
            log.info("leadership.taken owner=%s", self.store.owner)
        elif was and not ours:
            log.warning("leadership.lost owner=%s", self.store.owner)
        return ours

    def leads(self) -> bool:
        with self._lock:
            return self._until is not None and self.clock.now() < self._until

    def resign(self) -> None:
        """Let another instance lead at once (a clean stop); this process's rows are left
        to the others as it goes (its own lease released)."""
        leading = self.leads()
        with self._lock:
            self._until = None
        try:
            self.store.hold_lease(process_lease(), self.clock.now(), timedelta(0))  # expired: gone now
            if leading:
                self.store.release_lease(LEASE)
        except StoreError as exc:
            log.warning("leadership.release_failed error=%s", problem_of(exc))

    def only_leading(self, job: Callable[[], object], name: str) -> Callable[[], None]:
        """`job`, run only while this instance leads; a database lost meanwhile stops it,
        in one line (no traceback: /readyz and /healthz say what to do)."""

        @functools.wraps(job)
        def run() -> None:
            if not self.leads():
                log.debug("job.skipped job=%s reason=not_leader", name)
                return
            try:
                job()
            except StoreError as exc:  # told by readiness; the next run tries again
                log.warning("job.database_lost job=%s error=%s", name, problem_of(exc))

        return run

    def once_per_period(self, job: Callable[[], object], name: str) -> Callable[[], None]:
        """`job`, run by the leader and only once for each of its scheduled times across
        instances. The period is the time the scheduler fired it, to the second (cron times
        are whole seconds; the job starts milliseconds after), so a cron with seconds
        (`*/20 * * * * *`) runs at each of them."""

        @functools.wraps(job)
        def run() -> None:
            now = self.clock.now()
            period = (now + timedelta(milliseconds=500)).replace(microsecond=0)
            if not self.store.claim_run(name, period, now):
                log.info("job.skipped job=%s period=%s reason=already_run_for_this_period", name, period.isoformat())
                return
            log.info("job.claimed job=%s period=%s owner=%s", name, period.isoformat(), self.store.owner)
            job()

        return self.only_leading(run, name)
