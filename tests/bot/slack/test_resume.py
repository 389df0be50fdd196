"""A wake in flight when Paastis stopped (a deploy, a crash) is followed again after the
restart, and the message that followed it is brought to its end."""

from __future__ import annotations

from pathlib import Path

from bot.chat.messages import WAKE
from bot.engine.actors import Actor
from bot.store.store import InFlightWake, Store
from tests.bot.slack.conftest import ALICE, CHANNEL, Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


def interrupted(tmp_path: Path, clock: FakeClock, slack: FakeSlack, **click) -> tuple[dict, str]:
    """Click Wake, stop Paastis while the provider still works on it; the stored wake's
    context and the response_url key of the click."""
    first = Rig(tmp_path, clock, slack)
    with first.held_wakes():
        _, key = first.click(WAKE, "fake:shop-demo", **click)
        assert slack.wait_for(first.paastis.store.wakes_in_flight)
        (wake,) = first.paastis.store.wakes_in_flight()
    first.close()
    left_behind(first, wake)
    return wake.context, key


def left_behind(rig: Rig, wake: InFlightWake) -> None:
    """The row a crash leaves: the stopped process never recorded the end of the wake."""
    store = Store(rig.settings.db_path)
    store.begin_wake(wake)
    store.close()


def restarted(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Rig:
    rig = Rig(tmp_path, clock, slack)  # a fresh process: a new simulated PaaS where shop-demo sleeps
    rig.paastis.engine.resume_wakes(rig.parts.listeners.resume)
    return rig


def test_a_resumed_wake_replaces_the_ephemeral_answer_with_the_outcome(tmp_path, clock, slack) -> None:
    context, key = interrupted(tmp_path, clock, slack)
    assert context["reply"] == "response_url"
    assert context["url"] == slack.response_url(key)
    before = len(slack.responses(key))
    rig = restarted(tmp_path, clock, slack)
    try:
        assert rig.paastis.engine.wait_idle(5)
        assert rig.side.response_urls.flush()
        assert len(slack.responses(key)) == before + 1  # only the end: earlier uses are unknown
        final = slack.responses(key)[-1]
        assert final["text"] == "✅ shop-demo is up in 40 s"  # since the click, the restart included
        assert final["replace_original"] is True
        assert rig.paastis.store.wakes_in_flight() == []
    finally:
        rig.close()


def test_a_resumed_wake_from_a_channel_notice_ends_in_the_same_thread(tmp_path, clock, slack) -> None:
    context, _ = interrupted(tmp_path, clock, slack, where="channel", channel=CHANNEL, message_ts="1700000000.000042")
    assert (context["channel"], context["thread_ts"]) == (CHANNEL, "1700000000.000042")
    rig = restarted(tmp_path, clock, slack)
    try:
        assert slack.wait_for(
            lambda: any("is up" in m.current["text"] for m in slack.thread(CHANNEL, "1700000000.000042"))
        )
        last = slack.thread(CHANNEL, "1700000000.000042")[-1]
        assert "Asked by Alice" in str(last.current["blocks"])
    finally:
        rig.close()


def test_an_expired_response_url_ends_in_a_direct_message(tmp_path, clock, slack) -> None:
    _, key = interrupted(tmp_path, clock, slack)
    clock.advance(minutes=45)  # Slack's response_url lives 30 minutes
    before = len(slack.responses(key))
    rig = restarted(tmp_path, clock, slack)
    try:
        assert slack.wait_for(lambda: slack.messages)
        (dm,) = slack.messages
        assert dm.channel == "D" + ALICE
        assert dm.text.startswith("✅ shop-demo is up")
        assert len(slack.responses(key)) == before
    finally:
        rig.close()


def test_a_wake_without_a_slack_message_is_resumed_silently(tmp_path, clock, slack) -> None:
    first = Rig(tmp_path, clock, slack)
    with first.held_wakes():
        first.paastis.engine.wake(first.paastis.engine.find("shop-demo"), Actor("cli", "someone at the CLI", via="cli"))
        (wake,) = first.paastis.store.wakes_in_flight()
    first.close()
    left_behind(first, wake)
    rig = restarted(tmp_path, clock, slack)
    try:
        assert rig.paastis.engine.wait_idle(5)
        assert rig.world.app("shop-demo").state.value == "running"
        assert slack.messages == []
        assert slack.response_uses == {}
    finally:
        rig.close()
