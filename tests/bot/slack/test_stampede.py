"""Twenty people click Wake on the same sleeping app at once, while the provider is slow."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from bot.chat.messages import WAKE
from tests.bot.slack.conftest import ALICE, CHANNEL, Rig

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


def test_twenty_clicks_on_the_channel_notice_make_one_wake_and_twenty_thread_replies(rig: Rig, slack) -> None:
    notice = rig.side.client.chat_postMessage(channel=CHANNEL, text="💤 Put 1 app to sleep")
    with rig.held_wakes():
        with ThreadPoolExecutor(CLICKS) as pool:
            responses = list(
                pool.map(
                    lambda i: rig.click(
                        WAKE, "fake:shop-demo", user=ALICE, where="channel", channel=CHANNEL, message_ts=notice["ts"]
                    )[0],
                    range(CLICKS),
                )
            )
        assert all(r.status == 200 for r in responses)
    assert slack.wait_for(
        lambda: (
            len(slack.thread(CHANNEL, notice["ts"])) == CLICKS
            and all("is up" in m.current["text"] for m in slack.thread(CHANNEL, notice["ts"]))
        )
    )
    assert rig.wake_calls("shop-demo") == 1
