"""Slack's reply budgets: a response_url takes 5 uses within 30 minutes, and the last one is
kept for the end of a wake; the fake refuses what Slack refuses."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.chat.messages import WAKE, Message, Section, plain
from bot.slack.blocks import message_payload
from bot.slack.destinations import PostedDestination, ResponseUrlDestination
from tests.bot.slack.conftest import ALICE, CHANNEL, Rig


def test_a_long_wake_never_spends_more_than_five_uses_and_ends_with_the_outcome(rig: Rig, monkeypatch) -> None:
    monkeypatch.setattr(ResponseUrlDestination, "min_interval", 0.0)  # every progress step wants an update
    with rig.held_wakes():  # the answer goes out before the provider starts the app
        first, key = rig.ask("wake shop-demo")
    assert first["text"] == "⏳ Waking shop-demo (0 s)"
    assert rig.paastis.engine.wait_idle(5)
    assert rig.side.response_urls.flush()
    uses = rig.slack.responses(key)
    assert len(uses) == 5  # the first answer, 3 progress updates, the outcome: no more
    assert [u["text"].startswith("⏳") for u in uses] == [True, True, True, True, False]
    assert uses[-1]["text"] == "✅ shop-demo is up in 20 s"


def test_a_click_keeps_one_use_for_its_first_answer(rig: Rig, monkeypatch) -> None:
    monkeypatch.setattr(ResponseUrlDestination, "min_interval", 0.0)
    with rig.held_wakes():
        _, key = rig.click(WAKE, "fake:shop-demo")
        assert rig.last_response(key)["text"] == "⏳ Waking shop-demo (0 s)"
    assert rig.paastis.engine.wait_idle(5)
    assert rig.side.response_urls.flush()
    uses = rig.slack.responses(key)
    assert len(uses) == 5  # the first answer, 3 progress updates, the outcome
    assert uses[-1]["text"] == "✅ shop-demo is up in 20 s"


def test_a_response_url_refuses_a_sixth_use_and_after_30_minutes(rig: Rig) -> None:
    urls = rig.side.response_urls
    url = urls.open(rig.slack.response_url("budget"), rig.clock.now())
    assert [url.post({"text": str(n)}) for n in range(6)] == [True] * 5 + [False]
    assert len(rig.slack.responses("budget")) == 5  # the sixth never left
    late = urls.open(rig.slack.response_url("late"), rig.clock.now())
    rig.clock.advance(minutes=31)
    assert late.post({"text": "too late"}) is False
    assert rig.slack.responses("late") == []


def test_the_fake_refuses_a_sixth_use_like_slack(rig: Rig) -> None:
    urls = rig.side.response_urls
    for n in range(5):
        assert urls.open(rig.slack.response_url("raw"), rig.clock.now()).post({"text": str(n)})
    assert not urls.open(rig.slack.response_url("raw"), rig.clock.now()).post({"text": "sixth"})


def test_the_fake_refuses_what_slack_refuses(rig: Rig) -> None:
    client = rig.side.client
    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "divider"}] * 51)
    assert too_many.value.response["error"] == "invalid_blocks"
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[long_section])
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel=CHANNEL, ts="1.2", text="x")
    rig.slack.private_channels.add("G0PRIVATE")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="G0PRIVATE", text="x")
    client.chat_postMessage(channel=CHANNEL, **message_payload(Message("ok", (Section("x" * 3000),))))


def test_a_thread_reply_slack_refuses_goes_to_the_clicker_in_a_dm(rig: Rig) -> None:
    rig.slack.private_channels.add("G0LEFT")
    outbound = rig.side.outbound
    dm = PostedDestination(outbound, ALICE)
    reply = PostedDestination(outbound, "G0LEFT", thread_ts="1.1", fallback=dm)
    reply.send(plain("⏳ Waking shop-demo (0 s)"))
    assert outbound.flush()
    reply.update(plain("✅ shop-demo is up"))
    assert outbound.flush()
    (told,) = rig.slack.messages
    assert told.channel == "D" + ALICE
    assert told.text == "⏳ Waking shop-demo (0 s)"
    assert told.current["text"] == "✅ shop-demo is up"  # edited in place, not a second DM
    assert len(rig.slack.calls_to("chat.postMessage")) == 2  # the refused thread reply, then the DM
