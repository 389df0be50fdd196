"""The one way out to Slack's channels: every chat.postMessage and chat.update Paastis makes.

    post(channel, payload) -> Sent   queued, returns at once: engine and listener threads
                                     never wait on Slack
    update(sent, payload)            queued; merged into an update of that message still
                                     waiting, or into its post (only the latest text matters)
    resume()                         the notices a stopped Paastis (or a killed instance) left
                                     in the outbox, first (never a live instance's);
                                     nothing is sent before it is called (once Slack is connected)
    flush(timeout) · close(timeout)

One worker sends, in order per channel, paced to Slack's documented limits before they are
hit: chat.postMessage about one a second per channel after a short burst, chat.update
(Tier 3) about 40 a minute for the workspace. A 429 holds that channel (or the updates) for
its Retry-After. Slack's own failures — internal_error, HTTP 5xx, a timeout, the network —
are retried in order, 1 s apart doubling to 1 min; notices (`persist=True`) are written to
the outbox first and outlive a restart. Refusals (a channel the app is not in, an archived
one, a revoked token) are logged once per channel and error with the fix, and handed to
`on_refused` (a thread reply then goes to the asker's DM); nothing else falls back to DMs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.clock import Clock
from bot.slack.pacing import POSTS, UPDATES, Bucket, Pace, retry_after
from bot.store.outbox import Outbox

log = logging.getLogger(__name__)

POST, UPDATE = "chat.postMessage", "chat.update"
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 60.0
FIXES = {
    "not_in_channel": (
        "invite @Paastis to the channel (private channels always need it), or keep the chat:write.public scope"
    ),
    "channel_not_found": (
        "check PAASTIS_CHANNEL (or the rule's notify:): use a channel id such as C0123ABCD, "
        "and invite @Paastis to private channels"
    ),
    "is_archived": "the channel is archived: unarchive it or point PAASTIS_CHANNEL elsewhere",
    "missing_scope": "add the chat:write and chat:write.public scopes and reinstall the app",
    "invalid_auth": "SLACK_BOT_TOKEN was revoked or is wrong: copy it again from OAuth & Permissions",
    "token_revoked": "SLACK_BOT_TOKEN was revoked: reinstall the app and update the token",
}


@dataclass(eq=False)
class Sent:
    """A message Paastis posts (or edits): its channel as asked, and once Slack took it, its
    ts and the channel Slack answered (a DM's D… for a user id)."""

    channel: str
    ts: str | None = None
    posted_in: str | None = None
    refused: str | None = None


@dataclass(eq=False)
class _Item:
    method: str
    sent: Sent
    payload: dict[str, Any]
    thread_ts: str | None = None
    row: int | None = None
    attempts: int = 0
    not_before: float = 0.0
    on_refused: Callable[[str], None] | None = field(default=None, repr=False)


class Outbound:
    def __init__(
        self,
        client: WebClient,
        outbox: Outbox | None,
        clock: Clock,
        *,
        posts: Pace = POSTS,
        updates: Pace = UPDATES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.clock = clock
        self.posts, self.updates = posts, updates
        self.monotonic = monotonic
        self._queues: dict[str, deque[_Item]] = {}
        self._held: dict[str, float] = {}  # channel (or UPDATE) → held until, after a 429
        self._buckets: dict[str, Bucket] = {}
        self._rows: set[int] = set()
        self._busy = 0
        self._resumed = False  # nothing leaves before the outbox's older notices are queued
        self._stopping = False
        self._told: set[tuple[str, str]] = set()
        self.trouble: str | None = None  # why the last post failed, until one goes through (/readyz)
        self.calls: Counter[str] = Counter()  # Web API calls made, by method (the hosted /metrics)
        self.rate_limited: Counter[str] = Counter()  # … of which Slack answered 429
        self._cond = threading.Condition()
        self._worker = threading.Thread(target=self._run, name="slack-outbound", daemon=True)
        self._worker.start()

    # -- what callers do -------------------------------------------------------------------
    def post(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        thread_ts: str | None = None,
        persist: bool = False,
        on_refused: Callable[[str], None] | None = None,
    ) -> Sent:
        sent = Sent(channel)
        row = self._keep(channel, payload) if persist else None
        self._queue(_Item(POST, sent, payload, thread_ts, row, on_refused=on_refused))
        return sent

    def _keep(self, channel: str, payload: dict[str, Any]) -> int | None:
        return self.outbox.add(channel, payload, self.clock.now()) if self.outbox else None

    def existing(self, channel: str, ts: str) -> Sent:
        """A message already in Slack (the one holding a button), to edit with `update`."""
        return Sent(channel, ts, channel)

    def update(self, sent: Sent, payload: dict[str, Any]) -> None:
        with self._cond:
            for item in reversed(self._queues.get(sent.channel) or ()):
                if item.sent is sent:  # still waiting: it goes out with the latest text only
                    item.payload = payload
                    return
        self._queue(_Item(UPDATE, sent, payload))

    def resume(self) -> int:
        """Queue the notices a stopped Paastis or a killed instance left in the outbox (never
        a live one's), ahead of newer ones, and start sending. Called once Slack is
        connected, then again by the leader (every 10 s): each notice is taken once."""
        pending = (
            [p for p in self.outbox.take_pending(self.clock.now()) if p.id not in self._rows] if self.outbox else []
        )
        with self._cond:
            self._resumed = True
            for notice in reversed(pending):
                item = _Item(POST, Sent(notice.channel), notice.payload, row=notice.id, attempts=notice.attempts)
                self._queues.setdefault(notice.channel, deque()).appendleft(item)
                self._rows.add(notice.id)
            self._cond.notify_all()
        if pending:
            log.info("slack.outbox_resumed notices=%s", len(pending))
        return len(pending)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued has been sent (or given up on)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0 and not any(self._queues.values()), timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued for up to `timeout` seconds, then stop. Notices still waiting
        stay in the outbox for the next start."""
        with self._cond:
            if self._stopping:
                return
        self.flush(timeout)
        with self._cond:
            self._stopping = True
            left = sum(len(q) for q in self._queues.values())
            self._cond.notify_all()
        self._worker.join(timeout)
        if left:
            log.warning(
                "slack.outbound_stopped waiting=%s kept=%s", left, "notices in the outbox" if self.outbox else 0
            )

    # -- the worker --------------------------------------------------------------------------
    def _queue(self, item: _Item) -> None:
        with self._cond:
            self._queues.setdefault(item.sent.channel, deque()).append(item)
            if item.row is not None:
                self._rows.add(item.row)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    item, wait = self._next()
                    if item is not None:
                        break
                    self._cond.wait(wait)
                self._busy += 1
            try:
                self._send(item)
            except Exception:  # a bug must not stop every later message
                log.exception("slack.outbound_crashed method=%s channel=%s", item.method, item.sent.channel)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _next(self) -> tuple[_Item | None, float | None]:
        """The first item Slack would take now, channels in turn; else how long to wait."""
        now, soonest = self.monotonic(), None
        if not self._resumed:
            return None, None
        for channel, queue in list(self._queues.items()):
            if not queue:
                del self._queues[channel]
                continue
            item = queue[0]
            kind = channel if item.method == POST else UPDATE
            bucket = self._buckets.setdefault(kind, Bucket(self.posts if item.method == POST else self.updates, now))
            wait = max(item.not_before - now, self._held.get(kind, 0.0) - now, bucket.wait(now))
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            bucket.take()
            queue.popleft()
            self._queues.pop(channel)
            if queue:
                self._queues[channel] = queue  # to the back of the line: channels take turns
            return item, None
        return None, soonest

    def _send(self, item: _Item) -> None:
        sent = item.sent
        if item.method == UPDATE and sent.ts is None:
            return  # its post was refused: nothing to edit
        self.calls[item.method] += 1
        try:
            if item.method == POST:
                answer = self.client.chat_postMessage(channel=sent.channel, thread_ts=item.thread_ts, **item.payload)
                sent.ts, sent.posted_in = answer["ts"], answer["channel"]
            else:
                self.client.chat_update(channel=sent.posted_in or sent.channel, ts=sent.ts, **item.payload)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"HTTP {status}")
            if status == 429:
                self.rate_limited[item.method] += 1
                self._rate_limited(item, retry_after(exc))
            elif error in TRANSIENT or status >= 500:
                self._retry(item, error)
            else:
                self._refused(item, error)
            return
        except (SlackClientError, OSError) as exc:
            self._retry(item, type(exc).__name__)
            return
        self.trouble = None
        if item.row is not None and self.outbox:
            self.outbox.posted(item.row)
        if item.attempts:
            log.info("slack.post_delivered method=%s channel=%s attempts=%s", item.method, sent.channel, item.attempts)

    def _rate_limited(self, item: _Item, retry_after: float) -> None:
        kind = item.sent.channel if item.method == POST else UPDATE
        log.warning(
            "slack.rate_limited method=%s channel=%s retry_after=%.0fs", item.method, item.sent.channel, retry_after
        )
        with self._cond:
            self._held[kind] = self.monotonic() + retry_after
            self._buckets[kind].drain()
            self._queues.setdefault(item.sent.channel, deque()).appendleft(item)

    def _retry(self, item: _Item, error: str) -> None:
        self.trouble = f"posts delayed ({error})"
        item.attempts += 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (item.attempts - 1))
        level = logging.WARNING if item.attempts == 1 else logging.INFO
        what = "notice kept in the outbox" if item.row is not None else "kept in memory"
        log.log(
            level,
            "slack.post_delayed method=%s channel=%s error=%s attempt=%s retry_in=%.0fs (%s)",
            item.method,
            item.sent.channel,
            error,
            item.attempts,
            delay,
            what,
        )
        if item.row is not None and self.outbox:
            self.outbox.failed(item.row, error)
        with self._cond:
            item.not_before = self.monotonic() + delay
            self._queues.setdefault(item.sent.channel, deque()).appendleft(item)

    def _refused(self, item: _Item, error: str) -> None:
        self.trouble = f"{item.method} refused in {item.sent.channel} ({error})"
        item.sent.refused = error
        if item.row is not None and self.outbox:
            self.outbox.posted(item.row)  # Slack will not take it as it is: dropped, said once below
        if (item.sent.channel, error) not in self._told:
            self._told.add((item.sent.channel, error))
            fix = FIXES.get(error, f"see https://api.slack.com/methods/{item.method}#errors")
            log.warning(
                "slack.post_refused method=%s channel=%s error=%s fix=%s", item.method, item.sent.channel, error, fix
            )
        else:
            log.info("slack.post_refused method=%s channel=%s error=%s", item.method, item.sent.channel, error)
        if item.on_refused:
            item.on_refused(error)
