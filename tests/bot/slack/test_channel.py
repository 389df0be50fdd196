"""The channel's one way out: notices and replies paced to Slack's limits (never a 429 of
our making), Retry-After honoured, nothing dropped — across a Slack outage and a restart
(issue 10 item 9, issue 11 item 2)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.chat.messages import plain
from bot.engine.notices import WakeFailed
from tests.bot.slack.conftest import CHANNEL, Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


def posted_texts(slack: FakeSlack, channel: str = CHANNEL) -> list[str]:
    return [m.text for m in slack.messages if m.channel == channel and m.thread_ts is None]


def test_notices_to_one_channel_are_paced_and_never_rate_limited(rig: Rig) -> None:
    for n in range(6):
        rig.paastis.notifier.post(plain(f"notice {n}"))
    rig.paastis.notifier.post(plain("elsewhere"), "C0OTHER")
    assert rig.side.poster.flush(timeout=15)
    assert posted_texts(rig.slack) == [f"notice {n}" for n in range(6)]
    assert posted_texts(rig.slack, "C0OTHER") == ["elsewhere"]
    assert rig.slack.ratelimited == []
    calls = [c for c in rig.slack.calls_to("chat.postMessage") if c.body["channel"] == CHANNEL]
    assert calls[-1].at - calls[0].at >= 3.0  # about one a second once the short burst is spent
    other = next(c for c in rig.slack.calls_to("chat.postMessage") if c.body["channel"] == "C0OTHER")
    assert other.at - calls[0].at < 1.0  # another channel never waits behind this one


def test_retry_after_is_honoured_and_the_order_kept(rig: Rig) -> None:
    rig.slack.rate_limit("chat.postMessage", retry_after=2)
    for n in range(3):
        rig.paastis.notifier.post(plain(f"notice {n}"))
    assert rig.side.poster.flush(timeout=15)
    assert posted_texts(rig.slack) == ["notice 0", "notice 1", "notice 2"]
    refused, retried = rig.slack.calls_to("chat.postMessage")[:2]
    assert retried.at - refused.at >= 2.0
    assert retried.body["text"] == "notice 0"


def test_a_slack_outage_delays_the_notices_and_loses_none(rig: Rig, caplog) -> None:
    """Slack answers internal_error, then a 429 storm: the sweep notice and a failed wake's
    notice wait, and are posted in order once Slack takes them; the log says so (WARNING)."""
    rig.slack.outage("chat.postMessage", "internal_error")
    with caplog.at_level(logging.INFO, logger="bot.slack"):
        rig.clock.advance(minutes=20)
        rig.paastis.engine.sweep()
        rig.paastis.notifier(WakeFailed("shop-demo", ("fake", "shop-demo"), "the app crashed while booting", "Alice"))
        assert rig.slack.wait_for(lambda: len(rig.slack.calls_to("chat.postMessage")) >= 2)
        rig.slack.outage("chat.postMessage", None)
        rig.slack.rate_limit("chat.postMessage", retry_after=1, times=2)
        assert rig.side.poster.flush(timeout=30)
    assert posted_texts(rig.slack) == [
        "💤 Put 2 apps to sleep",
        "❌ Waking shop-demo (asked by Alice) failed: the app crashed while booting",
    ]
    delayed = [r for r in caplog.records if r.getMessage().startswith("slack.post_delayed")]
    assert delayed
    assert delayed[0].levelno == logging.WARNING
    assert "error=internal_error" in delayed[0].getMessage()


def test_notices_waiting_for_slack_at_a_stop_are_posted_after_the_restart(
    tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> None:
    first = Rig(tmp_path, clock, slack)
    slack.outage("chat.postMessage", "service_unavailable")
    first.paastis.notifier.post(plain("told before the stop"))
    first.paastis.notifier(WakeFailed("hello", ("fake", "hello"), "boom", "Alice"))
    assert slack.wait_for(lambda: slack.calls_to("chat.postMessage"))
    started = time.monotonic()
    first.side.close(timeout=1.0)  # Paastis stops while Slack still fails
    assert time.monotonic() - started < 5
    first.close()
    assert slack.messages == []
    slack.outage("chat.postMessage", None)
    second = Rig(tmp_path, clock, slack)
    try:
        second.paastis.notifier.post(plain("told after the restart"))
        assert second.side.poster.flush(timeout=15)
        assert posted_texts(slack) == [
            "told before the stop",
            "❌ Waking hello (asked by Alice) failed: boom",
            "told after the restart",
        ]
    finally:
        second.close()
