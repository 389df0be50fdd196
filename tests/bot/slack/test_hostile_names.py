"""Hostile names and oversized ids through the real listeners (issue 10, items 5 and 9): an
app name is free text on Clever Cloud; whatever it holds, Slack reads it as text — never a
mention, a broadcast or a link — and an id of 2,000+ characters breaks nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.chat.messages import KEEP, SLEEP, WAKE
from tests.bot.slack.conftest import ADMIN, ALICE, CHANNEL, OUTSIDER, Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack, mrkdwn_texts, walk_texts

HOSTILE = ["<!channel>", "<@U0ALICE>", "<http://evil.example|Open>", "a&b<!here>"]
RAW = ("<!channel>", "<@U0ALICE>", "<http://evil.example", "<!here>", "<!everyone>")


def everything_said(slack: FakeSlack) -> Iterator[str]:
    """Every mrkdwn Paastis sent to Slack: the fallback text and the blocks of posts, edits,
    response_url uses and Home views (acknowledgements are empty)."""
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            yield str(call.body.get("text") or "")
            blocks = call.body.get("blocks") or []
            yield from mrkdwn_texts(json.loads(blocks) if isinstance(blocks, str) else blocks)
        if call.method == "views.publish":
            view = call.body["view"]
            yield from mrkdwn_texts(json.loads(view) if isinstance(view, str) else view)
    for uses in slack.response_uses.values():
        for use in uses:
            yield str(use.get("text") or "")
            yield from mrkdwn_texts(use.get("blocks") or [])


@pytest.fixture
def hostile(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[Rig]:
    apps: list[dict[str, Any]] = [{"name": name, "formation": {"web": 1}} for name in HOSTILE]
    apps.append({"name": "<!everyone>", "formation": {"web": 1}, "running": False})
    rig = Rig(tmp_path, clock, slack, apps=apps, rules=[{"pattern": "evil", "protect": True}])
    yield rig
    rig.close()


def test_hostile_app_names_are_shown_as_text_everywhere(hostile: Rig, slack: FakeSlack) -> None:
    rig = hostile

    def command(text: str, user: str = ALICE) -> None:
        rig.ask(text, user)  # answered before the next

    command("status")
    for name in HOSTILE:
        command(f"status {name}")
        command(f"log {name}")
    command("sleep <!channel>", OUTSIDER)  # a refusal names the app
    command("sleep <http://evil.example|Open>", ADMIN)  # protected: refused, naming it
    command("wake <!everyone>")
    command("keep <@U0ALICE> 1h", ADMIN)
    command("wake a&b<!her")  # unknown: the closest names are suggested
    command("sleep <@U0ALICE>", ADMIN)
    rig.clock.advance(minutes=20)
    rig.paastis.engine.sweep()  # the notice lists them, with Wake buttons
    assert rig.side.poster.flush(timeout=15)
    notice = next(m for m in slack.messages if m.channel == CHANNEL and m.thread_ts is None)
    for value in ("fake:a&b<!here>", "fake:<!channel>"):
        rig.click(WAKE, value, where="channel", channel=CHANNEL, message_ts=notice.ts)
        rig.click(WAKE, value, user=ADMIN, where="channel", channel=CHANNEL, message_ts=notice.ts)
    assert rig.paastis.engine.wait_idle(10)
    rig.click(SLEEP, "fake:<!channel>", user=OUTSIDER, where="channel", channel=CHANNEL, message_ts=notice.ts)
    rig.click(SLEEP, "fake:<!channel>", user=ADMIN, where="channel", channel=CHANNEL, message_ts=notice.ts)
    rig.click(KEEP, "fake:a&b<!here>", user=ADMIN, where="channel", channel=CHANNEL, message_ts=notice.ts)
    rig.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    rig.paastis.post_report()
    rig.bolt.listener_runner.listener_executor.submit(lambda: None).result()
    rig.paastis.engine.executor.submit(lambda: None).result()
    assert rig.side.poster.flush(timeout=20)

    said = [t for t in everything_said(slack) if t]
    assert len(said) > 50
    leaks = [t for t in said if any(raw in t for raw in RAW)]
    assert leaks == []
    assert not [t for t in said if "&amp;lt;" in t or "&amp;amp;" in t]  # escaped once, not twice
    joined = "\n".join(said)
    for shown in ("*&lt;!channel&gt;*", "&lt;@U0ALICE&gt;", "&lt;http://evil.example|Open&gt;", "a&amp;b&lt;!here&gt;"):
        assert shown in joined, shown
    for told in ("is protected by the rules", "Only workspace admins", "Did you mean", "going to sleep", "is up in"):
        assert told in joined, told  # the flows named above really ran


def test_an_app_id_of_2000_characters_never_breaks_status_or_the_sweep_notice(
    tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> None:
    long = "review-" + "x" * 2100
    apps = [{"name": "hello", "formation": {"web": 1}}, {"name": long, "formation": {"web": 1}}]
    rig = Rig(tmp_path, clock, slack, apps=apps)
    try:
        status, _ = rig.ask("status")
        assert status["text"] == "2 apps · 2 running · 0 asleep"
        shown = "\n".join(walk_texts(status["blocks"]))
        assert "*hello*" in shown
        assert "review-xxx" in shown
        assert "x" * 300 not in shown  # the label is shortened, …
        sleep_button = next(
            b["accessory"] for b in status["blocks"] if "review-xxx" in b.get("text", {}).get("text", "")
        )
        assert len(sleep_button["value"]) <= 2000  # … and its buttons still act on it
        rig.clock.advance(minutes=20)
        rig.paastis.engine.sweep()
        assert rig.side.poster.flush(timeout=15)
        (notice,) = [m for m in slack.messages if m.channel == CHANNEL]
        assert notice.text == "💤 Put 2 apps to sleep"
        wakes = [b["accessory"] for b in notice.blocks if b.get("accessory", {}).get("action_id") == WAKE]
        assert len(wakes) == 2
        long_wake = next(w for w in wakes if w["value"] != "fake:hello")
        rig.click(WAKE, long_wake["value"], where="channel", channel=CHANNEL, message_ts=notice.ts)
        assert slack.wait_for(lambda: rig.wake_calls(long) == 1)
    finally:
        rig.close()
