"""Issue 11, case 2, the way a team lives it: the morning after a sweep, twenty people click Wake
on the same channel notice — through the real Slack listeners and outbound path against the
fake Slack Web API (chat.postMessage limited per channel like Slack), and the real Scalingo
client against the fake Scalingo API, whose scale answer is held until every click is in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.chat.messages import WAKE
from providers.base import AppState
from tests.bot.slack.conftest import CHANNEL
from tests.bot.slack.provider_rig import ProviderRig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack, walk_texts

PEOPLE = ["Alice", "Bob", "Chloé", "Dan", "Eve", "Farid", "Gaby", "Hugo", "Inès", "Jo"] + [
    f"Person {i}" for i in range(10)
]


@pytest.fixture
def scalingo(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[ProviderRig]:
    rig = ProviderRig(tmp_path, clock, slack, "scalingo")
    yield rig
    rig.close()


def wake_button(blocks: list[dict]) -> str:
    """The value of the notice's Wake button (the app it wakes)."""
    for block in blocks:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("action_id") == WAKE:
                return element["value"]
    raise AssertionError(f"no Wake button in {blocks}")


def test_twenty_clicks_on_a_scalingo_notice_make_one_scale_one_thread_reply_and_no_ratelimited(
    scalingo: ProviderRig,
) -> None:
    rig, slack = scalingo, scalingo.slack
    app_id = rig.add_app("review-42", boot_seconds=3)
    rig.paastis.engine.discover()
    rig.clock.advance(minutes=20)  # idle past its 15 minutes
    rig.paastis.engine.sweep()
    rig.clock.advance(seconds=5)  # the scale to zero is done
    assert rig.channel() == ["💤 Put 1 app to sleep"]
    (notice,) = [m for m in slack.messages if m.channel == CHANNEL]
    assert rig.world.app(app_id).state is AppState.SLEEPING
    value = wake_button(notice.blocks)
    assert value == rig.ref(app_id)
    posts_before = len(slack.calls_to("chat.postMessage"))
    users = [f"U0PEOPLE{i:02d}" for i in range(len(PEOPLE))]
    for user, name in zip(users, PEOPLE, strict=True):
        slack.add_user(user, name)

    with rig.held_scales() as scale_answers:

        def click(user: str) -> tuple[int, str]:
            response, key = rig.click(WAKE, value, user=user, where="channel", channel=CHANNEL, message_ts=notice.ts)
            return response.status, key

        alice = click(users[0])  # Alice first: her click starts the wake and its thread reply
        assert slack.wait_for(lambda: len(slack.thread(CHANNEL, notice.ts)) == 1)
        bob = click(users[1])  # then Bob, then eighteen others at once
        assert slack.wait_for(lambda: bool(slack.responses(bob[1])))
        with ThreadPoolExecutor(len(users) - 2) as pool:
            results = [alice, bob, *pool.map(click, users[2:])]
        assert {status for status, _ in results} == {200}
        keys = [key for _, key in results]
        # every later click is answered to its clicker alone (response_url), before the scale is even answered
        assert slack.wait_for(lambda: sum(bool(slack.responses(k)) for k in keys) == len(keys) - 1)
        assert slack.wait_for(lambda: len(slack.thread(CHANNEL, notice.ts)) == 1)
        scale_answers.set()

    assert slack.wait_for(lambda: "is up" in slack.thread(CHANNEL, notice.ts)[0].current["text"], timeout=10)
    assert rig.side.poster.flush(timeout=20)
    scales = [c for c in rig.world.calls if c.operation == "wake" and c.app == app_id]
    assert len(scales) == 1  # one POST /apps/review-42/scale reached the fake API
    assert rig.world.app(app_id).state is AppState.RUNNING
    (reply,) = slack.thread(CHANNEL, notice.ts)
    shown = "\n".join(walk_texts(reply.current["blocks"]))
    assert re.search(r"✅ \*review-42\* is up in \d+ s", shown), shown
    assert "Asked by Alice, Bob and 18 others" in shown, shown
    asides = [slack.responses(k)[0] for k in keys if slack.responses(k)]
    assert len(asides) == len(keys) - 1
    assert all(a["response_type"] == "ephemeral" and a["replace_original"] is False for a in asides)
    assert all("review-42" in a["text"] and "thread" in a["text"] for a in asides)
    channel_posts = slack.calls_to("chat.postMessage")[posts_before:]
    assert len(channel_posts) <= 2, [c.body.get("text") for c in channel_posts]
    assert slack.ratelimited == []
    assert not [m for m in slack.messages if m.channel.startswith("D")]  # no DM
