"""How fast a provider lets the bot follow the wakes it started, within its call budget.

The bot follows a wake by calling `get_app` every `provider.poll_interval` seconds until the
app runs ("up" is told within a tick of the provider running it). A provider with a
`FollowPace` answers that interval from its budget, and shares one look per tick among every
wake in flight (one `GET /apps` on Scalingo, one app list per owner on Clever Cloud), so
twenty wakes cost what one costs::

    poll_interval ──▶ seconds to the next tick of a grid every follower shares
                      FASTEST (1 s) while the last minute left spare calls (outside the
                      reserve, kept for the wake and sleep calls people wait for); else
                      60 s × calls a tick ÷ (limit − reserve), the pace a whole minute of
                      looks fits in, at most SLOWEST (15 s); never before a 429 back-off ends
    shared(key, fetch) ──▶ fetch once per tick, whoever asks first; the others reuse it
    burst() / fresh(key) ──▶ reads that come together (twenty wakes checking their apps at
                      once) use one shared look too, instead of one call each
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from providers.base import Clock
from providers.budget import CallBudget

T = TypeVar("T")
FASTEST = 1.0  # seconds: the tick while the budget has room ("up" within about a second)
SLOWEST = 15.0  # seconds: the tick when the budget is short


class FollowPace:
    """The wakes one provider follows, the tick their polls share, and the looks they share."""

    def __init__(self, clock: Clock, budget: CallBudget, *, fastest: float = FASTEST, slowest: float = SLOWEST) -> None:
        self._clock = clock
        self._budget = budget
        self.fastest = fastest
        self.slowest = slowest
        self._following: dict[str, Any] = {}
        self._reading = 0  # reads in flight (`burst`)
        self._looks: dict[Hashable, tuple[datetime, Any]] = {}
        self._fetching: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    # -- the wakes in flight -------------------------------------------------------------
    def follow(self, app_id: str, what: Any = True) -> None:
        """A wake of `app_id` was sent (`what`: what to follow, such as a deployment id)."""
        with self._lock:
            self._following[app_id] = what

    def forget(self, app_id: str) -> None:
        with self._lock:
            self._following.pop(app_id, None)

    def followed(self, app_id: str) -> Any:
        """What is followed for `app_id`, or None when no wake of it is in flight."""
        with self._lock:
            return self._following.get(app_id)

    def followers(self) -> list[str]:
        with self._lock:
            return list(self._following)

    # -- the tick ------------------------------------------------------------------------
    def share(self) -> int:
        """Calls a minute a follow may spend at length: the limit less the reserve."""
        snapshot = self._budget.snapshot()
        return max(snapshot.limit_per_minute - snapshot.reserved_for_actions, 1)

    def tick(self, calls_per_tick: float = 1.0) -> float:
        """Seconds between two shared looks costing `calls_per_tick` calls: the fastest while
        the minute has spare calls (outside the reserve), else the pace a whole minute of
        looks fits in, and never before a 429 back-off ends."""
        snapshot = self._budget.snapshot()
        if snapshot.spare >= calls_per_tick:
            tick = self.fastest
        else:
            tick = min(self.slowest, max(self.fastest, 60.0 * calls_per_tick / self.share()))
        if snapshot.throttled_until is not None:
            tick = max(tick, (snapshot.throttled_until - self._clock.now()).total_seconds())
        return tick

    def interval(self, calls_per_tick: float = 1.0) -> float:
        """Seconds until the next tick of the grid every follower of this provider shares."""
        tick = self.tick(calls_per_tick)
        now = self._clock.now().timestamp()
        wait = math.ceil(now / tick) * tick - now
        return wait if wait > tick / 10 else wait + tick

    # -- shared looks --------------------------------------------------------------------
    @contextmanager
    def burst(self) -> Iterator[bool]:
        """Around a read: True when another read of this provider is in flight, so that a
        burst of reads (many wakes at once) is worth one shared look."""
        with self._lock:
            self._reading += 1
            others = self._reading > 1
        try:
            yield others
        finally:
            with self._lock:
                self._reading -= 1

    def fresh(self, key: Hashable, newer_than: datetime | None = None) -> Any:
        """This tick's look at `key` (taken at `newer_than` or later), if any; else None."""
        with self._lock:
            look = self._looks.get(key)
        if look is None or (newer_than is not None and look[0] < newer_than):
            return None
        return look[1] if (self._clock.now() - look[0]).total_seconds() < self.fastest / 2 else None

    def shared(self, key: Hashable, fetch: Callable[[], T], newer_than: datetime | None = None) -> T:
        """`fetch()`'s answer for this tick: fetched by the first asker, reused by the others
        (an answer younger than half the fastest tick is this tick's), never one taken before
        `newer_than` (such as the scale a follower waits for)."""
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            now = self._clock.now()
            look = self.fresh(key, newer_than)
            if look is not None:
                return look
            value = fetch()
            with self._lock:
                self._looks[key] = (now, value)
            return value
