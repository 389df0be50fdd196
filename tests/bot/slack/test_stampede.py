"""Twenty people click Wake on the same sleeping app at once, while the provider is slow."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

from bot.chat.messages import WAKE
from tests.bot.slack.conftest import CHANNEL, Rig
from tests.fakes.slack_api import walk_texts

CLICKS = 20


def test_twenty_clicks_one_wake_every_click_acknowledged_in_time(rig: Rig, slack) -> None:
    users = [f"U0USER{i:02d}" for i in range(CLICKS)]
    for user in users:
        slack.add_user(user, f"User {user[-2:]}")
    with rig.held_wakes() as provider_answers:

        def click(user: str) -> tuple[int, float, str]:
            started = time.monotonic()
            response, key = rig.click(WAKE, "fake:shop-demo", user=user)
            return response.status, time.monotonic() - started, key

        with ThreadPoolExecutor(CLICKS) as pool:
            results = list(pool.map(click, users))
        slowest = max(seconds for _, seconds, _ in results)
        # every click is answered while the provider has not even accepted the wake
        assert all(status == 200 for status, _, _ in results)
        assert slowest < 3.0, slowest
        keys = [key for _, _, key in results]
        assert slack.wait_for(lambda: all(slack.responses(k) for k in keys))
        first = [slack.responses(k)[0]["text"] for k in keys]
        assert sum(t == "⏳ Waking shop-demo (0 s)" for t in first) == CLICKS
        provider_answers.set()
    assert slack.wait_for(lambda: all("is up" in slack.responses(k)[-1]["text"] for k in keys))
    assert rig.wake_calls("shop-demo") == 1
    assert all(len(slack.responses(k)) <= 5 for k in keys)
    assert [t.rsplit("_", 1)[0] for t in rig.wake_threads] == [
        "paastis-work"
    ]  # the engine's executor, not Bolt's listener pool
    print(f"\nslowest acknowledgement of {CLICKS} concurrent clicks: {slowest * 1000:.0f} ms")


def test_twenty_people_clicking_wake_on_one_notice_make_one_thread_reply_that_names_them(rig: Rig, slack) -> None:
    """The morning after a sweep: twenty people click Wake on the notice. One wake, one
    thread reply that follows it and names who asked, an ephemeral answer for each later
    click, and never a rate-limited call or a DM (issue 11)."""
    rig.clock.advance(minutes=20)
    rig.paastis.engine.sweep()
    assert rig.side.poster.flush()
    (notice,) = [m for m in slack.messages if m.channel == CHANNEL]
    posts_before = len(slack.calls_to("chat.postMessage"))
    users = [f"U0USER{i:02d}" for i in range(CLICKS)]
    for user in users:
        slack.add_user(user, f"User {user[-2:]}")
    with rig.held_wakes() as provider_answers:

        def click(user: str) -> tuple[int, str]:
            response, key = rig.click(
                WAKE, "fake:review-42", user=user, where="channel", channel=CHANNEL, message_ts=notice.ts
            )
            return response.status, key

        with ThreadPoolExecutor(CLICKS) as pool:
            results = list(pool.map(click, users))
        assert {status for status, _ in results} == {200}
        keys = [key for _, key in results]
        # every later click is answered to its clicker alone, at once
        assert slack.wait_for(lambda: sum(bool(slack.responses(k)) for k in keys) == CLICKS - 1)
        assert slack.wait_for(lambda: len(slack.thread(CHANNEL, notice.ts)) == 1)
        provider_answers.set()
    assert slack.wait_for(lambda: "is up" in slack.thread(CHANNEL, notice.ts)[0].current["text"], timeout=10)
    assert rig.side.poster.flush(timeout=20)
    (reply,) = slack.thread(CHANNEL, notice.ts)
    shown = "\n".join(walk_texts(reply.current["blocks"]))
    assert re.search(r"✅ \*review-42\* is up in \d+ s", shown), shown
    assert re.search(r"Asked by [^,\n]+, [^,\n]+ and 18 others", shown), shown
    asides = [slack.responses(k)[0] for k in keys if slack.responses(k)]
    assert all(a["response_type"] == "ephemeral" and a["replace_original"] is False for a in asides)
    assert all("review-42" in a["text"] and "thread" in a["text"] for a in asides)
    channel_posts = slack.calls_to("chat.postMessage")[posts_before:]
    assert len(channel_posts) <= 2
    assert slack.ratelimited == []
    assert not [m for m in slack.messages if m.channel.startswith("D")]  # no DM
    assert rig.wake_calls("review-42") == 1
