"""Where an answer goes in Slack: the `Destination`s that `Chatops` sends to and updates in place.

    /paastis …                 CommandDestination      first answer = the acknowledgement (ephemeral),
                                                 updates replace it through response_url
    click, ephemeral message   ResponseUrlDestination  the answer replaces that message (response_url)
    click, channel message     PostedDestination       a thread reply under it (chat.postMessage with
                                                 thread_ts), then chat.update: the channel sees
                                                 who woke what
    click, App Home            PostedDestination       a DM from the app, then chat.update; the Home
                                                 view is refreshed after each change

A response_url takes 5 uses within 30 minutes, so those replies allow 5 updates (4 when the
first answer used one) and `follow_wake` keeps the last for the final state. When Slack
refuses (the response_url spent or expired, a channel the app has left), the answer goes to
the user in a DM instead. Each reply's `context` is JSON and enough to rebuild it after a
restart (`from_context`). Updates run on engine threads: they log Slack's refusals and never
raise into a wake.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.chat.messages import Context, Message, escape
from bot.clock import Clock
from bot.slack.blocks import BlockKitError, message_payload

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_INTERVAL = 15.0  # seconds between progress updates: 4 of them cover the first minute
POSTED_INTERVAL = 5.0  # chat.update is Tier 3 (50+ a minute per workspace)


class ResponseUrl:
    """One interaction's response_url. Thread-safe; `post` says whether Slack took it."""

    def __init__(self, url: str | None, issued_at: datetime, clock: Clock, *, timeout: int = 10) -> None:
        self.url = url
        self.issued_at = issued_at
        self.clock = clock
        self.timeout = timeout
        self.used = 0
        self._lock = threading.Lock()

    def post(self, payload: Mapping[str, Any]) -> bool:
        with self._lock:
            if not self.url:
                return False
            if self.used >= RESPONSE_URL_USES or self.clock.now() - self.issued_at >= RESPONSE_URL_LIFETIME:
                log.info("slack.response_url_spent uses=%s issued_at=%s", self.used, self.issued_at.isoformat())
                return False
            self.used += 1
        try:
            response = WebhookClient(self.url, timeout=self.timeout).send_dict(dict(payload))
        except (SlackClientError, OSError) as exc:
            log.warning("slack.response_url_failed error=%s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("slack.response_url_refused status=%s body=%s", response.status_code, response.body[:200])
            return False
        return True


class ResponseUrlDestination:
    """A click on an ephemeral message: every answer replaces that message in place."""

    min_interval = RESPONSE_URL_INTERVAL

    def __init__(
        self,
        response_url: ResponseUrl,
        *,
        user: str | None = None,
        max_updates: int = RESPONSE_URL_USES - 1,
        fallback: PostedDestination | None = None,
    ) -> None:
        self.response_url = response_url
        self.user = user
        self.max_updates: int | None = max_updates
        self.fallback = fallback

    @property
    def context(self) -> Mapping[str, Any]:
        return {
            "reply": "response_url",
            "url": self.response_url.url,
            "issued_at": self.response_url.issued_at.isoformat(),
            "user": self.user,
        }

    def send(self, message: Message) -> None:
        self.update(message)

    def update(self, message: Message) -> None:
        payload = _payload(message)
        if payload is None:
            return
        posted = self.response_url.post({**payload, "response_type": "ephemeral", "replace_original": True})
        if not posted and self.fallback:  # spent or expired (a long wake, a restart): tell the user in a DM
            self.fallback.update(message)


class CommandDestination(ResponseUrlDestination):
    """/paastis: the first answer is the acknowledgement itself (ephemeral, within 3 s)."""

    def __init__(
        self,
        ack: Callable[..., Any],
        response_url: ResponseUrl,
        *,
        user: str | None = None,
        fallback: PostedDestination | None = None,
    ) -> None:
        super().__init__(response_url, user=user, max_updates=RESPONSE_URL_USES, fallback=fallback)
        self.ack = ack
        self.acked = False
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            first, self.acked = not self.acked, True
        if not first:  # a second answer: a new ephemeral message
            self.response_url.post({**message_payload(message), "response_type": "ephemeral"})
            return
        self.ack(response_type="ephemeral", **message_payload(message))


class PostedDestination:
    """Answers the app posts (a thread reply, a DM), edited in place with chat.update."""

    min_interval = POSTED_INTERVAL
    max_updates: int | None = None

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
        asked_by: str | None = None,
        on_change: Callable[[], None] | None = None,
        fallback: PostedDestination | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.ts = ts
        self.asked_by = asked_by
        self.on_change = on_change
        self.fallback = fallback  # where answers go when Slack refuses the first post (a DM)
        self._refused = False
        self._lock = threading.Lock()

    @property
    def context(self) -> Mapping[str, Any]:
        return {
            "reply": "post",
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "ts": self.ts,
            "asked_by": self.asked_by,
        }

    def send(self, message: Message) -> None:
        self.update(message)

    def update(self, message: Message) -> None:
        if self._refused and self.fallback:
            self.fallback.update(message)
            return
        shown = message
        if self.asked_by:
            shown = Message(message.text, (*message.blocks, Context(f"Asked by {escape(self.asked_by)}")))
        payload = _payload(shown)
        if payload is None:
            return
        with self._lock:
            try:
                if self.ts:
                    self.client.chat_update(channel=self.channel, ts=self.ts, **payload)
                else:
                    answer = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **payload)
                    self.channel, self.ts = answer["channel"], answer["ts"]
            except SlackApiError as exc:
                log.warning("slack.post_failed channel=%s error=%s", self.channel, exc.response.get("error"))
                self._refused = not self.ts  # e.g. a private channel the app has left: answer elsewhere
            except (SlackClientError, OSError) as exc:
                log.warning("slack.post_failed channel=%s error=%s", self.channel, type(exc).__name__)
                return
        if self._refused and self.fallback:
            self.fallback.update(message)
        elif self.on_change and not self._refused:
            self.on_change()


def from_context(
    context: Mapping[str, Any], client: WebClient, clock: Clock
) -> ResponseUrlDestination | PostedDestination | None:
    """Rebuild the reply of a wake that was in flight when Paastis stopped."""
    kind = context.get("reply")
    if kind == "post" and context.get("channel"):
        return PostedDestination(
            client,
            str(context["channel"]),
            thread_ts=context.get("thread_ts"),
            ts=context.get("ts"),
            asked_by=context.get("asked_by"),
        )
    if kind == "response_url" and context.get("issued_at"):
        issued = datetime.fromisoformat(str(context["issued_at"]))
        user = context.get("user")
        fallback = PostedDestination(client, str(user)) if user else None
        # how many uses the stopped process spent is unknown: keep the one that matters, the end
        url = ResponseUrl(context.get("url"), issued, clock)
        return ResponseUrlDestination(url, user=user, max_updates=1, fallback=fallback)
    return None


def _payload(message: Message) -> dict[str, Any] | None:
    try:
        return message_payload(message)
    except BlockKitError:  # a bug in a builder: log it, keep the wake going
        log.exception("slack.unrenderable text=%s", message.text[:80])
        return None
