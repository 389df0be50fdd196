"""Webhooks: every event of the audit log POSTed as JSON to configured URLs, signed.

Delivery happens on a background thread from a bounded queue, so a slow or dead receiver
never blocks a command or a sweep. Failed deliveries (network errors, non-2xx answers) are
retried with back-off (5 s, 30 s, 2 min, 10 min), then dropped with a warning.

How a receiver verifies a delivery:

    X-Paastis-Timestamp: 1764331200                       (Unix seconds)
    X-Paastis-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, sha256).hexdigest()
    accept if hmac.compare_digest(f"v1={expected}", header) and |now - timestamp| <= 300
"""

from __future__ import annotations

import hashlib
import hmac
import heapq
import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

BACKOFF = (5.0, 30.0, 120.0, 600.0)


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


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300) -> bool:
    """What a receiver does (used by our tests as a receiver would)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class WebhookSender:
    def __init__(
        self,
        hooks: Sequence[Webhook],
        *,
        client: httpx.Client | None = None,
        backoff: Sequence[float] = BACKOFF,
        clock: Callable[[], float] = time.time,
        max_queue: int = 1000,
    ) -> None:
        self.hooks = tuple(hooks)
        self._client = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self._backoff = tuple(backoff)
        self._clock = clock
        self._queue: queue.Queue[tuple[Webhook, bytes, int] | None] = queue.Queue(maxsize=max_queue)
        self._retries: list[tuple[float, int, Webhook, bytes, int]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.delivered = 0
        self.dropped = 0

    def __call__(self, event: Mapping[str, Any]) -> None:
        """Queue `event` for every webhook that wants it; never blocks."""
        action = str(event.get("action", ""))
        body = json.dumps(dict(event), default=str, sort_keys=True).encode()
        for hook in self.hooks:
            if hook.wants(action):
                try:
                    self._queue.put_nowait((hook, body, 0))
                except queue.Full:
                    self.dropped += 1
                    log.warning("webhook.dropped url=%s reason=queue_full", _safe(hook.url))

    def start(self) -> None:
        if self.hooks and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="paastis-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._queue.put(None)
            self._thread.join(timeout)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued nor waiting for a retry (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0 and not self._retries:
                return True
            time.sleep(0.01)
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = max(0.0, self._retries[0][0] - self._clock()) if self._retries else 1.0
            try:
                item = self._queue.get(timeout=min(wait, 1.0))
            except queue.Empty:
                item = None
            else:
                if item is None:
                    self._queue.task_done()
                    return
            if item is not None:
                self._deliver(*item)
                self._queue.task_done()
            while self._retries and self._retries[0][0] <= self._clock():
                _, _, hook, body, attempt = heapq.heappop(self._retries)
                self._deliver(hook, body, attempt)

    def _deliver(self, hook: Webhook, body: bytes, attempt: int) -> None:
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "paastis-webhooks",
            "X-Paastis-Timestamp": str(timestamp),
            "X-Paastis-Signature": sign(hook.secret, timestamp, body),
        }
        try:
            response = self._client.post(hook.url, content=body, headers=headers)
            ok, why = response.is_success, f"status {response.status_code}"
        except httpx.HTTPError as exc:
            ok, why = False, type(exc).__name__
        if ok:
            self.delivered += 1
            return
        if attempt < len(self._backoff):
            delay = self._backoff[attempt]
            log.info("webhook.retry url=%s attempt=%d in=%.0fs why=%s", _safe(hook.url), attempt + 1, delay, why)
            heapq.heappush(self._retries, (self._clock() + delay, next(self._counter), hook, body, attempt + 1))
        else:
            self.dropped += 1
            log.warning("webhook.failed url=%s attempts=%d why=%s", _safe(hook.url), attempt + 1, why)


def _safe(url: str) -> str:
    """The URL without credentials or query string, for logs."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(userinfo=b"", query=None))
