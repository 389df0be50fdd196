"""Where an answer goes in Slack: the `Destination`s that `Chatops` sends to and updates in place.

    /paastis …                 CommandDestination      acknowledged with nothing; the answer is an
                                                       ephemeral message through response_url,
                                                       updates replace it
    click, ephemeral message   ResponseUrlDestination  the answer replaces that message (response_url)
    click, channel message     ThreadDestination       what the channel should see: one reply in the
                                                       message's thread (chat.postMessage, then
                                                       chat.update); refusals and asides: to the
                                                       clicker alone (response_url)
    click, App Home            PostedDestination       a DM from the app, then chat.update; the Home
                                                       view is refreshed after each change

Nothing here waits on Slack: posts and edits go through the channel's outbound path
(bot.slack.outbound), response_urls through `ResponseUrls` — off the caller's thread, in
order, with a short timeout, and only to Slack's own hosts. A response_url takes 5 uses
within 30 minutes, so those replies allow 4 updates after the first answer and
`follow_wake` keeps the last for the final state. When Slack refuses (the response_url spent
or expired, a channel the app has left), the answer goes to the user in a DM instead. Each
reply's `context` is JSON and enough to rebuild it after a restart (`from_context`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.chat.messages import Message
from bot.slack.blocks import BlockKitError, message_payload
from bot.slack.outbound import Outbound, Sent
from bot.slack.response_urls import RESPONSE_URL_USES, ResponseUrl, ResponseUrls

log = logging.getLogger(__name__)

RESPONSE_URL_INTERVAL = 15.0  # seconds between progress updates: 4 of them cover the first minute
POSTED_INTERVAL = 5.0  # chat.update is Tier 3 (50+ a minute per workspace)


class ResponseUrlDestination:
    """A click on an ephemeral message: every answer replaces that message in place. With
    `replace=False` (a click on a channel message), each answer is a new ephemeral message."""

    min_interval = RESPONSE_URL_INTERVAL
    place = None  # only the clicker sees it

    def __init__(
        self,
        response_url: ResponseUrl,
        *,
        user: str | None = None,
        max_updates: int = RESPONSE_URL_USES - 1,
        fallback: PostedDestination | None = None,
        replace: bool = True,
    ) -> None:
        self.response_url = response_url
        self.user = user
        self.max_updates: int | None = max_updates
        self.fallback = fallback
        self.replace = replace

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
        self._post(message, replace=self.replace)

    def _post(self, message: Message, *, replace: bool) -> None:
        payload = _payload(message)
        if payload is None:
            return
        fallback = self.fallback
        self.response_url.send(
            {**payload, "response_type": "ephemeral", "replace_original": replace},
            (lambda: fallback.update(message)) if fallback else None,  # spent or expired: a DM
        )


class CommandDestination(ResponseUrlDestination):
    """/paastis: acknowledged at once with nothing; each answer `send`s is a new ephemeral
    message through the command's response_url, and `update` replaces the last one."""

    def send(self, message: Message) -> None:
        self._post(message, replace=False)


class PostedDestination:
    """Answers the app posts (a thread reply, a DM), edited in place with chat.update."""

    min_interval = POSTED_INTERVAL
    max_updates: int | None = None

    def __init__(
        self,
        outbound: Outbound,
        channel: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
        on_change: Callable[[], None] | None = None,
        fallback: PostedDestination | None = None,
    ) -> None:
        self.outbound = outbound
        self.channel = channel
        self.thread_ts = thread_ts
        self.on_change = on_change
        self.fallback = fallback  # where answers go when Slack refuses the first post (a DM)
        self._sent: Sent | None = outbound.existing(channel, ts) if ts else None
        self._last: Message | None = None
        self._lock = threading.Lock()

    @property
    def place(self) -> str | None:
        """A thread reply is seen by the channel; a DM (or an edit of a message) is not shared."""
        return f"{self.channel}/{self.thread_ts}" if self.thread_ts else None

    @property
    def context(self) -> Mapping[str, Any]:
        return {
            "reply": "post",
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "ts": self._sent.ts if self._sent else None,
        }

    def send(self, message: Message) -> None:
        self.update(message)

    def update(self, message: Message) -> None:
        with self._lock:
            self._last = message
            refused = self._sent is not None and self._sent.refused is not None and not self._sent.ts
        if refused:
            if self.fallback:
                self.fallback.update(message)
            return
        payload = _payload(message)
        if payload is None:
            return
        with self._lock:
            if self._sent is None:
                self._sent = self.outbound.post(
                    self.channel, payload, thread_ts=self.thread_ts, on_refused=self._refused
                )
            else:
                self.outbound.update(self._sent, payload)
        if self.on_change:
            self.on_change()

    def _refused(self, error: str) -> None:
        """Slack refused the first post (e.g. a private channel the app has left): the
        latest answer goes to the fallback, and every later one."""
        with self._lock:
            last = self._last
        if self.fallback and last is not None:
            self.fallback.update(last)


class ThreadDestination:
    """A click on a channel message: what the channel should see goes in that message's
    thread (`public`, one reply edited in place); what is for the clicker alone — a refusal,
    an "already up", a pointer to the thread — goes to them (`private`, ephemeral)."""

    max_updates: int | None = None

    def __init__(self, public: PostedDestination, private: ResponseUrlDestination) -> None:
        self.public = public
        self.private = private
        self.min_interval = public.min_interval
        self._target: PostedDestination | ResponseUrlDestination = public

    @property
    def place(self) -> str | None:
        return self.public.place

    @property
    def context(self) -> Mapping[str, Any]:
        return self.public.context

    def send(self, message: Message) -> None:
        self._target = self.private if message.private else self.public
        self._target.send(message)

    def update(self, message: Message) -> None:
        self._target.update(message)  # where the first answer went


def from_context(
    context: Mapping[str, Any], outbound: Outbound, urls: ResponseUrls
) -> ResponseUrlDestination | PostedDestination | None:
    """Rebuild the reply of a wake that was in flight when Paastis stopped."""
    kind = context.get("reply")
    if kind == "post" and context.get("channel"):
        return PostedDestination(
            outbound, str(context["channel"]), thread_ts=context.get("thread_ts"), ts=context.get("ts")
        )
    if kind == "response_url" and context.get("issued_at"):
        issued = datetime.fromisoformat(str(context["issued_at"]))
        user = context.get("user")
        fallback = PostedDestination(outbound, str(user)) if user else None
        # how many uses the stopped process spent is unknown: keep the one that matters, the end
        return ResponseUrlDestination(
            urls.open(context.get("url"), issued), user=user, max_updates=1, fallback=fallback
        )
    return None


def _payload(message: Message) -> dict[str, Any] | None:
    try:
        return message_payload(message)
    except BlockKitError:  # a bug in a builder: log it, keep the wake going
        log.exception("slack.unrenderable text=%s", message.text[:80])
        return None
