"""response_urls: how an interaction's answers reach the person who clicked or typed.

ResponseUrls   every response_url Paastis posts to — Slack's own hosts only
               (https://hooks.slack.com/…, or the host of SLACK_API_URL: GovSlack, a
               test's fake), never another, whatever a payload says; posts run on a
               small pool, in order per URL, each with a short timeout, so a listener
               thread never waits on one
ResponseUrl    one interaction's: 5 uses within 30 minutes, as Slack allows
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.clock import Clock

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_TIMEOUT = 5  # seconds: Slack's hooks answer in milliseconds
SLACK_HOOKS = ("https", "hooks.slack.com", 443)


class ResponseUrls:
    """The response_urls Paastis may post to, and the pool that posts to them."""

    def __init__(self, api_url: str, clock: Clock, *, timeout: float = RESPONSE_URL_TIMEOUT, workers: int = 8) -> None:
        api = urlsplit(api_url)
        self.allowed = {SLACK_HOOKS, (api.scheme, api.hostname, api.port or _default_port(api.scheme))}
        if api.scheme == "https" and api.hostname and not api.hostname[0].isdigit():
            self.allowed.add(("https", f"hooks.{api.hostname.removeprefix('api.')}", 443))  # GovSlack's hooks
        self.clock = clock
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-response-url")
        self._lanes: dict[str, deque[Callable[[], None]]] = {}
        self._lock = threading.Condition()

    def open(self, url: object, issued_at: datetime) -> ResponseUrl:
        """The response_url of one interaction; one outside Slack is refused (and logged)."""
        if not isinstance(url, str) or not url:
            return ResponseUrl(None, issued_at, self)
        if not self.allows(url):
            parts = urlsplit(url)
            log.warning("slack.response_url_refused host=%s reason=not a Slack host", parts.hostname or "?")
            return ResponseUrl(None, issued_at, self)
        return ResponseUrl(url, issued_at, self)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            where = (parts.scheme, parts.hostname, parts.port or _default_port(parts.scheme))
        except ValueError:
            return False
        return where in self.allowed and not parts.username and not parts.password

    def run(self, url: str, work: Callable[[], None]) -> None:
        """Run `work` off the caller's thread, after the earlier work of the same URL."""
        with self._lock:
            lane = self._lanes.get(url)
            if lane is not None:
                lane.append(work)
                return
            self._lanes[url] = deque([work])
        self._pool.submit(self._drain, url)

    def _drain(self, url: str) -> None:
        while True:
            with self._lock:
                lane = self._lanes[url]
                if not lane:
                    del self._lanes[url]
                    self._lock.notify_all()
                    return
                work = lane.popleft()
            try:
                work()
            except Exception:  # an answer lost is logged; the next ones still go
                log.exception("slack.response_url_crashed")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every answer given so far has been posted (tests, shutdown)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._lanes, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class ResponseUrl:
    """One interaction's response_url. Thread-safe; `post` says whether Slack took it."""

    def __init__(self, url: str | None, issued_at: datetime, urls: ResponseUrls) -> None:
        self.url = url
        self.issued_at = issued_at
        self.urls = urls
        self.used = 0
        self._lock = threading.Lock()

    def post(self, payload: Mapping[str, Any]) -> bool:
        with self._lock:
            if not self.url:
                return False
            if self.used >= RESPONSE_URL_USES or self.urls.clock.now() - self.issued_at >= RESPONSE_URL_LIFETIME:
                log.info("slack.response_url_spent uses=%s issued_at=%s", self.used, self.issued_at.isoformat())
                return False
            self.used += 1
        try:
            response = WebhookClient(self.url, timeout=int(self.urls.timeout)).send_dict(dict(payload))
        except (SlackClientError, OSError) as exc:
            log.warning("slack.response_url_failed error=%s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("slack.response_url_refused status=%s body=%s", response.status_code, response.body[:200])
            return False
        return True

    def send(self, payload: Mapping[str, Any], otherwise: Callable[[], None] | None = None) -> None:
        """`post` off the caller's thread, in order; `otherwise` runs when Slack did not take it."""
        if not self.url:
            if otherwise:
                otherwise()
            return

        def work() -> None:
            if not self.post(payload) and otherwise:
                otherwise()

        self.urls.run(self.url, work)


def _default_port(scheme: str) -> int | None:
    return {"https": 443, "http": 80}.get(scheme)
