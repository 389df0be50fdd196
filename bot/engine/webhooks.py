"""Webhooks: every event of the audit log POSTed as JSON to configured URLs, signed.

Deliveries are one-off jobs of the scheduler Paastis runs (APScheduler `date` jobs, on an
executor of their own), so a slow or dead receiver never blocks a command, a sweep, nor the
scheduler's other jobs. They run one at a time, in the order of the events. A failed
delivery (network error, non-2xx answer) is scheduled again after a back-off (5 s, 30 s,
2 min, 10 min), then dropped with a warning. At most `max_pending` deliveries wait at
once; past that, new ones are dropped with a warning.

    event ─▶ sender(event) ─▶ date job (now) ─▶ POST ─┬─ 2xx: delivered
                                                      └─ else: date job (now + back-off) … dropped

Without a scheduler (`scheduler=None`: one-shot CLI commands, which never start one), each
delivery is made at once on the caller's thread, once, with a short timeout and no retry:
the command is over before a retry would be due, and it should not hang on a dead receiver.
Deliveries still waiting when Paastis stops are lost; `close()` logs how many.

How a receiver verifies a delivery:

    X-Paastis-Timestamp: 1764331200                       (Unix seconds)
    X-Paastis-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, sha256).hexdigest()
    accept if hmac.compare_digest(f"v1={expected}", header) and |now - timestamp| <= 300
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

log = logging.getLogger(__name__)

BACKOFF = (5.0, 30.0, 120.0, 600.0)
EXECUTOR = "webhooks"  # the scheduler's executor for deliveries: their own threads
EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str = field(repr=False)
    actions: frozenset[str] = frozenset()  # empty: every event

    def wants(self, action: str) -> bool:
        return not self.actions or action in self.actions


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, *, tolerance: float = 300) -> bool:
    """What a receiver does (used by our tests as a receiver would)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class WebhookSender:
    """Called with each audit event (`Audit.on_event`); never blocks when given a scheduler."""

    def __init__(
        self,
        hooks: Sequence[Webhook],
        scheduler: BaseScheduler | None,
        *,
        client: httpx.Client | None = None,
        backoff: Sequence[float] = BACKOFF,
        clock: Callable[[], float] = time.time,
        max_pending: int = 1000,
        workers: int = 1,  # one at a time: receivers get events in their order
        inline_timeout: float = 2.0,  # seconds, without a scheduler: one short attempt
    ) -> None:
        self.hooks = tuple(hooks)
        self._scheduler = scheduler
        if scheduler is not None:
            scheduler.add_executor(ThreadPoolExecutor(workers), alias=EXECUTOR)
        self._client = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self._backoff = tuple(backoff)
        self._clock = clock
        self._max_pending = max_pending
        self._inline_timeout = httpx.Timeout(inline_timeout)
        self._pending = 0  # scheduled and not yet over (a retry counts until it is over too)
        self._last_first_at = datetime.min.replace(tzinfo=UTC)
        self._settled = threading.Condition()
        self.delivered = 0
        self.dropped = 0

    def __call__(self, event: Mapping[str, Any]) -> None:
        """Send `event` to every webhook that wants it."""
        action = str(event.get("action", ""))
        body = json.dumps(dict(event), default=str, sort_keys=True).encode()
        for hook in self.hooks:
            if not hook.wants(action):
                continue
            if self._scheduler is None:
                self._attempt(hook, body, 0, timeout=self._inline_timeout, retry=False)
            elif not self._schedule(hook, body, 0, delay=0.0):
                self._count(dropped=1)
                log.warning("webhook.dropped url=%s reason=too_many_pending", _safe(hook.url))

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until no delivery is waiting nor running (tests, shutdown)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Let the deliveries running now end (briefly), say how many are lost, close the client.
        Paastis stops its scheduler first, so nothing new starts meanwhile."""
        if not self.drain(timeout):
            with self._settled:
                log.warning("webhook.unsent count=%d reason=paastis_stopping", self._pending)
        self._client.close()

    # -- delivery ------------------------------------------------------------------------
    def _schedule(self, hook: Webhook, body: bytes, attempt: int, *, delay: float) -> bool:
        with self._settled:
            if self._pending >= self._max_pending:
                return False
            self._pending += 1
            run_at = datetime.fromtimestamp(self._clock() + delay, UTC)
            if attempt == 0:  # never at the same moment as the event before: the scheduler keeps their order
                run_at = self._last_first_at = max(run_at, self._last_first_at + EPSILON)
            self._scheduler.add_job(
                self._run,
                DateTrigger(run_at),
                args=(hook, body, attempt),
                name=f"webhook {_safe(hook.url)}",
                executor=EXECUTOR,
                misfire_grace_time=None,  # late (a busy executor, a start-up) is still sent
            )
        return True

    def _run(self, hook: Webhook, body: bytes, attempt: int) -> None:
        """A scheduled delivery: one attempt, and the next one scheduled when it fails."""
        try:
            self._attempt(hook, body, attempt, timeout=None, retry=True)
        finally:
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()

    def _attempt(self, hook: Webhook, body: bytes, attempt: int, *, timeout: httpx.Timeout | None, retry: bool) -> None:
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "paastis-webhooks",
            "X-Paastis-Timestamp": str(timestamp),
            "X-Paastis-Signature": sign(hook.secret, timestamp, body),
        }
        extra = {"timeout": timeout} if timeout is not None else {}
        try:
            response = self._client.post(hook.url, content=body, headers=headers, **extra)
            ok, why = response.is_success, f"status {response.status_code}"
        except httpx.HTTPError as exc:
            ok, why = False, type(exc).__name__
        if ok:
            self._count(delivered=1)
            return
        if retry and attempt < len(self._backoff):
            delay = self._backoff[attempt]
            if self._schedule(hook, body, attempt + 1, delay=delay):
                log.info("webhook.retry url=%s attempt=%d in=%.0fs why=%s", _safe(hook.url), attempt + 1, delay, why)
                return
        self._count(dropped=1)
        log.warning(
            "webhook.failed url=%s attempts=%d why=%s%s",
            _safe(hook.url),
            attempt + 1,
            why,
            "" if retry else " (sent without a scheduler: not retried)",
        )

    def _count(self, *, delivered: int = 0, dropped: int = 0) -> None:
        with self._settled:
            self.delivered += delivered
            self.dropped += dropped


def _safe(url: str) -> str:
    """The URL without credentials or query string, for logs."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(userinfo=b"", query=None))
