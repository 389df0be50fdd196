"""The App Home tab: the dashboard on app_home_opened, its page buttons, actions from it."""

from __future__ import annotations

import logging

from bot.chat.messages import PAGE, SLEEP, WAKE
from tests.bot.slack.conftest import ADMIN, ALICE, Rig
from tests.fakes.slack_api import walk_texts


def opened(rig: Rig, user: str = ALICE, tab: str = "home", metadata: str | None = None) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab, "event_ts": "1700000000.2"}
    if metadata is not None:
        event["view"] = {"id": "V0HOME", "type": "home", "private_metadata": metadata}
    assert rig.event(event).status == 200


def views_of(rig: Rig, user: str, count: int = 1) -> list[dict]:
    assert rig.slack.wait_for(lambda: len(rig.slack.views.get(user, [])) >= count), rig.slack.views
    return rig.slack.views[user]


def test_opening_the_home_tab_publishes_the_dashboard(rig: Rig) -> None:
    opened(rig)
    (view,) = views_of(rig, ALICE)
    shown = list(walk_texts(view["blocks"]))
    assert shown[0].startswith("Paastis report")
    assert any("of app time slept" in t for t in shown)  # the savings summary
    buttons = {b["accessory"]["value"]: b["accessory"]["action_id"] for b in view["blocks"] if "accessory" in b}
    assert buttons == {"fake:hello": SLEEP, "fake:review-42": SLEEP, "fake:shop-demo": WAKE}
    assert view["private_metadata"] == "1|"
    assert len(view["blocks"]) <= 100


def test_the_messages_tab_publishes_nothing(rig: Rig) -> None:
    opened(rig, tab="messages")
    rig.bolt.listener_runner.listener_executor.submit(lambda: None).result()
    assert not rig.slack.wait_for(lambda: rig.slack.views, timeout=0.2)


def test_page_buttons_in_the_home_tab_republish_it(tmp_path, clock, slack) -> None:
    rig = Rig(tmp_path, clock, slack, apps=[{"name": f"app-{i:02d}"} for i in range(45)])
    try:
        opened(rig)
        nav = [b for b in views_of(rig, ALICE)[0]["blocks"] if b["type"] == "actions"][-1]["elements"]
        assert [(e["action_id"], e["value"]) for e in nav] == [(PAGE, "2|")]
        rig.click(PAGE, "2|", where="home", metadata="1|")
        second = views_of(rig, ALICE, 2)[-1]
        assert second["private_metadata"] == "2|"
        assert any("apps 41–45 of 45" in t for t in walk_texts(second["blocks"]))
        opened(rig, metadata="2|")  # coming back to the tab keeps the page
        assert views_of(rig, ALICE, 3)[-1]["private_metadata"] == "2|"
    finally:
        rig.close()


def test_a_wake_from_the_home_tab_reports_in_a_dm_and_refreshes_the_tab(rig: Rig) -> None:
    with rig.held_wakes():
        response, _ = rig.click(WAKE, "fake:shop-demo", where="home", metadata="1|")
        assert response.status == 200
        assert rig.slack.wait_for(lambda: rig.slack.messages)
        assert rig.slack.messages[0].text == "⏳ Waking shop-demo (0 s)"
        assert len(views_of(rig, ALICE)) == 1  # the tab is refreshed as soon as the wake starts
    assert rig.slack.wait_for(lambda: "is up" in rig.slack.messages[0].current["text"])
    (dm,) = rig.slack.messages
    assert dm.channel == "D" + ALICE
    assert dm.thread_ts is None
    assert dm.edits
    views = views_of(rig, ALICE, 2)
    last = {b["accessory"]["value"]: b["accessory"]["action_id"] for b in views[-1]["blocks"] if "accessory" in b}
    assert last["fake:shop-demo"] == SLEEP  # it is up now: the tab offers Sleep
    assert rig.wake_calls("shop-demo") == 1


def test_a_refused_sleep_from_the_home_tab_says_why_in_a_dm(rig: Rig) -> None:
    rig.click(SLEEP, "fake:hello", user=ALICE, where="home", metadata="1|")
    assert rig.slack.wait_for(lambda: rig.slack.messages)
    assert rig.slack.messages[0].text.startswith("⚠️ Only workspace admins")
    assert not [c for c in rig.world.calls if c.operation == "sleep"]
    rig.click(SLEEP, "fake:hello", user=ADMIN, where="home", metadata="1|")
    assert rig.slack.wait_for(lambda: any("going to sleep" in m.current["text"] for m in rig.slack.messages))


def test_a_home_tab_that_is_off_is_logged_with_the_fix(rig: Rig, caplog) -> None:
    rig.slack.home_enabled = False
    with caplog.at_level(logging.WARNING, logger="bot.slack"):
        opened(rig)
        assert rig.slack.wait_for(lambda: "slack.home_failed" in caplog.text)
    assert "error=not_enabled (turn the Home tab on" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
