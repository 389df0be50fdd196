"""`SlackPoster`: channel notices and reports, through the channel's outbound path.

`post()` renders the message, keeps it in the outbox (SQLite) and returns at once: the
engine's sweep and wake threads never wait on Slack. The outbound path posts it in order,
paced to Slack's limits, retried until Slack takes it — across an outage and a restart
(bot.slack.outbound); Slack's refusals are logged once per channel and error, with the fix.
"""

from __future__ import annotations

import logging

from bot.chat.messages import Message
from bot.slack.blocks import BlockKitError, message_payload
from bot.slack.outbound import Outbound

log = logging.getLogger(__name__)


class SlackPoster:
    """The `Poster` of channel notices and reports (bot.chat.notifier)."""

    def __init__(self, outbound: Outbound, default_channel: str | None) -> None:
        self.outbound = outbound
        self.default_channel = default_channel
        self._told_no_channel = False

    def post(self, message: Message, channel: str | None) -> None:
        target = channel or self.default_channel
        if not target:
            if not self._told_no_channel:
                self._told_no_channel = True
                fix = "set PAASTIS_CHANNEL to receive sweep notices and reports"
                log.warning("slack.notice_refused channel=- error=no_channel fix=%s", fix)
            return
        try:
            payload = message_payload(message)
        except BlockKitError:  # a builder's bug: the notice is lost, the traceback is logged
            log.exception("slack.notice_unrenderable channel=%s", target)
            return
        self.outbound.post(target, payload, persist=True)
        log.info("slack.notice_queued channel=%s text=%s", target, message.text[:80])

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is posted (tests, shutdown)."""
        return self.outbound.flush(timeout)
