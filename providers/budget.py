"""A provider's API call budget: calls per sliding minute, shared by every caller.

Scalingo allows 60 API calls a minute per token; going over it earns 429s. Everything that
talks to one API (discovery, activity checks, sleeps, wakes) goes through one `CallBudget`:
`spend()` before each call waits for a free slot (or the end of a 429 back-off) and never
lets more than `limit` calls into any 60-second window. Optional work (polling activity to
keep status fresh) asks `snapshot().spare` first and leaves `reserve` calls a minute for
actions people wait for (wakes, sleeps).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from providers.base import BudgetSnapshot, Clock, RateLimited

WINDOW = timedelta(minutes=1)
# A call is counted here when it is sent and at the API when it arrives, a little later: it
# stays in the window this much longer, so the API never sees limit + 1 calls in its minute.
IN_FLIGHT = timedelta(seconds=1)


class CallBudget:
    def __init__(self, clock: Clock, *, limit: int, reserve: int, max_wait: float = 90.0) -> None:
        if not 0 <= reserve < limit:
            raise ValueError("reserve must be below the limit")
        self._clock = clock
        self.limit = limit
        self.reserve = reserve
        self.max_wait = max_wait
        self._calls: deque[datetime] = deque()
        self._throttled_until: datetime | None = None
        self._lock = threading.Lock()
        self.total_calls = 0
        self.total_throttles = 0

    def spend(self, what: str = "call") -> None:
        """Take one call from the budget, waiting for a slot; RateLimited past `max_wait`."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock.now()
                self._forget_before(now - WINDOW - IN_FLIGHT)
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._calls.append(now)
                    self.total_calls += 1
                    return
            if waited + wait > self.max_wait:
                raise RateLimited(
                    f"API call budget exhausted ({self.limit} calls a minute): {what} postponed",
                    retry_after=wait,
                )
            self._clock.sleep(wait)
            waited += wait

    def throttle(self, retry_after: float) -> None:
        """The API answered 429: make no call for `retry_after` seconds."""
        with self._lock:
            until = self._clock.now() + timedelta(seconds=retry_after)
            if self._throttled_until is None or until > self._throttled_until:
                self._throttled_until = until
            self.total_throttles += 1

    def snapshot(self) -> BudgetSnapshot:
        with self._lock:
            now = self._clock.now()
            self._forget_before(now - WINDOW)
            throttled = self._throttled_until if self._throttled_until and self._throttled_until > now else None
            return BudgetSnapshot(
                limit_per_minute=self.limit,
                used_last_minute=len(self._calls),
                reserved_for_actions=self.reserve,
                throttled_until=throttled,
            )

    def _forget_before(self, horizon: datetime) -> None:
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()

    def _wait_needed(self, now: datetime) -> float:
        if self._throttled_until and self._throttled_until > now:
            return (self._throttled_until - now).total_seconds()
        if len(self._calls) < self.limit:
            return 0.0
        oldest = self._calls[0]
        return max((oldest + WINDOW + IN_FLIGHT - now).total_seconds(), 0.001)
