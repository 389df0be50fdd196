"""`SlackPoster`: channel notices and reports, posted with chat.postMessage.

`post()` queues and returns at once: the engine's sweep and wake threads never wait on Slack.
One worker posts, at most one message a second per channel (Slack's chat.postMessage
limit); the WebClient retries 429s after Retry-After. Slack's refusals are logged once per
channel and error, with the fix, and never raised into the engine.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.chat.messages import Message
from bot.clock import Clock
from bot.slack.blocks import BlockKitError, message_payload

log = logging.getLogger(__name__)

SPACING = timedelta(seconds=1)
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
_STOP = object()


class SlackPoster:
    """The `Poster` of channel notices and reports (bot.chat.notifier)."""

    def __init__(self, client: WebClient, default_channel: str | None, clock: Clock) -> None:
        self.client = client
        self.default_channel = default_channel
        self.clock = clock
        self._queue: queue.Queue = queue.Queue()
        self._last: dict[str, datetime] = {}
        self._told: set[tuple[str, str]] = set()
        self._worker = threading.Thread(target=self._run, name="slack-poster", daemon=True)
        self._worker.start()

    def post(self, message: Message, channel: str | None) -> None:
        target = channel or self.default_channel
        if not target:
            self._tell_once("-", "no_channel", "set PAASTIS_CHANNEL to receive sweep notices and reports")
            return
        self._queue.put((target, message))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is posted (tests, shutdown)."""
        done = threading.Event()
        self._queue.put((None, done))
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(_STOP)
        self._worker.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            channel, message = item
            if channel is None:
                message.set()  # a flush marker
                continue
            self._space(channel)
            self._post(channel, message)

    def _space(self, channel: str) -> None:
        last = self._last.get(channel)
        if last is not None:
            wait = (last + SPACING - self.clock.now()).total_seconds()
            if wait > 0:
                self.clock.sleep(wait)
        self._last[channel] = self.clock.now()

    def _post(self, channel: str, message: Message) -> None:
        try:
            self.client.chat_postMessage(channel=channel, **message_payload(message))
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            fix = FIXES.get(error, "see https://api.slack.com/methods/chat.postMessage#errors")
            self._tell_once(channel, error, fix)
            return
        except (SlackClientError, OSError) as exc:
            log.warning("slack.notice_failed channel=%s error=%s", channel, type(exc).__name__)
            return
        except BlockKitError:  # a builder's bug: the notice is lost, the traceback is logged
            log.exception("slack.notice_unrenderable channel=%s", channel)
            return
        log.info("slack.notice_posted channel=%s text=%s", channel, message.text[:80])

    def _tell_once(self, channel: str, error: str, fix: str) -> None:
        if (channel, error) in self._told:
            log.debug("slack.notice_refused channel=%s error=%s", channel, error)
            return
        self._told.add((channel, error))
        log.warning("slack.notice_refused channel=%s error=%s fix=%s", channel, error, fix)
