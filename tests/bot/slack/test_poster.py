"""Channel notices and reports: posted with blocks and a fallback, retried on 429, and
Slack's refusals logged once with the fix, never raised into the engine (pacing and
outages: test_channel.py)."""

from __future__ import annotations

import logging
import time

from bot.chat.messages import WAKE, plain
from bot.engine.notices import WakeFailed
from tests.bot.slack.conftest import CHANNEL, Rig


def test_a_sweep_posts_one_notice_with_a_wake_button_per_app(rig: Rig) -> None:
    rig.clock.advance(minutes=20)
    rig.paastis.engine.sweep()
    assert rig.side.poster.flush()
    (post,) = rig.slack.calls_to("chat.postMessage")
    assert post.token == rig.slack.bot_token
    assert post.body["channel"] == CHANNEL
    assert post.body["text"] == "💤 Put 2 apps to sleep"
    buttons = [b["accessory"] for b in post.body["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(WAKE, "fake:hello"), (WAKE, "fake:review-42")]


def test_a_rules_notify_channel_gets_the_notices_of_its_apps(tmp_path, clock, slack) -> None:
    rig = Rig(tmp_path, clock, slack, rules=[{"pattern": "review-.*", "notify": "C0REVIEWS"}])
    try:
        rig.clock.advance(minutes=20)
        rig.paastis.engine.sweep()
        assert rig.side.poster.flush()
        posted = {
            m.channel: [b["accessory"]["value"] for b in m.blocks if "accessory" in b] for m in rig.slack.messages
        }
        assert posted == {CHANNEL: ["fake:hello"], "C0REVIEWS": ["fake:review-42"]}
    finally:
        rig.close()


def test_a_failed_wake_notice_and_the_report_go_to_the_channel(rig: Rig) -> None:
    rig.paastis.notifier(WakeFailed("shop-demo", ("fake", "shop-demo"), "the app crashed while booting", "Alice"))
    rig.paastis.post_report()
    assert rig.side.poster.flush()
    failed, report = rig.slack.messages
    assert failed.text == "❌ Waking shop-demo (asked by Alice) failed: the app crashed while booting"
    assert failed.blocks[0]["accessory"]["text"]["text"] == "Retry"
    assert report.text.startswith("Paastis report — Mon 02 Nov 2026: 0 h slept")
    assert {failed.channel, report.channel} == {CHANNEL}


def test_a_429_is_retried_after_retry_after(rig: Rig) -> None:
    rig.slack.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()
    rig.side.poster.post(plain("after the limit"), None)
    assert rig.side.poster.flush()
    assert time.monotonic() - started >= 1.0
    assert len(rig.slack.calls_to("chat.postMessage")) == 2
    assert [m.text for m in rig.slack.messages] == ["after the limit"]


def test_not_in_channel_is_logged_once_with_the_fix_and_never_raised(rig: Rig, caplog) -> None:
    rig.slack.private_channels.add("G0SECRET")
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        for _ in range(3):
            rig.side.poster.post(plain("psst"), "G0SECRET")
        rig.paastis.notifier(WakeFailed("hello", ("fake", "hello"), "boom", "Alice"))  # the engine's path
        assert rig.side.poster.flush()
    refusals = [r.getMessage() for r in caplog.records if "slack.post_refused" in r.getMessage()]
    assert refusals == [
        (
            "slack.post_refused method=chat.postMessage channel=G0SECRET error=not_in_channel fix=invite @Paastis "
            "to the channel (private channels always need it), or keep the chat:write.public scope"
        )
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [m.channel for m in rig.slack.messages] == [CHANNEL]  # the other notice still went out


def test_without_a_channel_nothing_is_posted_and_the_log_says_so(rig: Rig, caplog) -> None:
    rig.side.poster.default_channel = None
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        rig.side.poster.post(plain("nowhere"), None)
        rig.side.poster.post(plain("nowhere"), None)
        assert rig.side.poster.flush()
    assert caplog.text.count("fix=set PAASTIS_CHANNEL") == 1
    assert rig.slack.calls_to("chat.postMessage") == []
