"""The listener pool: what Paastis does once it has acknowledged a request — find who asks,
compute the answer, send it (bot.slack.listeners) — on a few threads, first come first served.

    ListenerPool   Bolt's `listener_executor`; a job starts once no request has been
                   acknowledged for QUIET seconds, and never more than PATIENCE seconds
                   later than it would have (a steady stream of requests slows answers
                   down, it does not stop them)
    Acknowledging  the Bolt middleware that tells the pool a request is being acknowledged

Why: Python runs one thread at a time. A status over thousands of apps computed while a
hundred requests wait for their acknowledgement takes its turns from every one of them, and
Slack gives up after 3 seconds. So answers wait for a lull; `SWITCH_INTERVAL` (a shorter
turn than Python's 5 ms, set while Paastis serves Slack) lets an acknowledgement through
sooner when a job is running anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest

QUIET = 0.2  # seconds without a request being acknowledged before a job starts
PATIENCE = 2.0  # seconds a job waits for that lull at most
SWITCH_INTERVAL = 0.0005  # seconds: sys.setswitchinterval while serving (Python's default is 0.005)


class ListenerPool(ThreadPoolExecutor):
    """A bounded pool whose jobs start in order, each after the acknowledgements pending."""

    def __init__(self, threads: int, *, quiet: float = QUIET, patience: float = PATIENCE) -> None:
        super().__init__(max_workers=threads, thread_name_prefix="slack-listener")
        self.quiet = quiet
        self.patience = patience
        self._pending = 0  # requests being acknowledged
        self._last_ack = 0.0  # time.monotonic() when the last one was
        self._changed = threading.Condition()

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the acknowledgement of one request."""
        with self._changed:
            self._pending += 1
        try:
            yield
        finally:
            with self._changed:
                self._pending -= 1
                self._last_ack = time.monotonic()
                self._changed.notify_all()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(self._after_acknowledgements, fn, *args, **kwargs)

    def _after_acknowledgements(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.wait_for_lull()
        return fn(*args, **kwargs)

    def wait_for_lull(self) -> None:
        """Until no request has been acknowledged for `quiet` s, or `patience` s have passed."""
        deadline = time.monotonic() + self.patience
        with self._changed:
            while (now := time.monotonic()) < deadline:
                if self._pending == 0:
                    quiet_for = now - self._last_ack
                    if quiet_for >= self.quiet:
                        return
                    self._changed.wait(min(self.quiet - quiet_for, deadline - now))
                else:
                    self._changed.wait(deadline - now)


class Acknowledging(Middleware):
    """Bolt middleware: the request is being acknowledged until the rest of the chain returns
    (`process_before_response`: the listener's ack ran by then, its work not yet)."""

    def __init__(self, pool: ListenerPool) -> None:
        self.pool = pool

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        with self.pool.acknowledging():
            return next()
