"""Button clicks: on an ephemeral answer, on a channel notice, stale buttons, page buttons."""

from __future__ import annotations

import pytest

from bot.chat.messages import KEEP, OPEN, PAGE, WAKE
from tests.bot.slack.conftest import ADMIN, ALICE, CHANNEL, Rig
from tests.fakes.slack_api import walk_texts


def sweep(rig: Rig) -> str:
    """Let hello and review-42 fall idle and be put to sleep; the notice's ts in the channel."""
    rig.clock.advance(minutes=20)
    rig.paastis.engine.sweep()
    assert rig.side.poster.flush()
    (notice,) = [m for m in rig.slack.messages if m.channel == CHANNEL]
    return notice.ts


def test_wake_on_an_ephemeral_answer_replaces_it_in_place(rig: Rig) -> None:
    response, key = rig.click(WAKE, "fake:shop-demo")
    assert (response.status, response.body) == (200, "")
    final = rig.last_response(key, containing="is up")
    assert final["text"] == "✅ shop-demo is up in 20 s"
    uses = rig.slack.responses(key)
    assert all(u["replace_original"] is True for u in uses)
    assert 1 <= len(uses) <= 5
    assert rig.wake_calls("shop-demo") == 1


def test_wake_on_the_sweep_notice_answers_in_its_thread_so_the_channel_sees_who(rig: Rig) -> None:
    notice_ts = sweep(rig)
    notice = rig.slack.message(CHANNEL, notice_ts)
    assert notice.text == "💤 Put 2 apps to sleep"
    button = next(b["accessory"] for b in notice.blocks if "review-42" in b["text"]["text"])
    response, key = rig.click(
        button["action_id"], button["value"], where="channel", channel=CHANNEL, message_ts=notice_ts
    )
    assert response.status == 200
    assert rig.slack.wait_for(
        lambda: (
            rig.slack.thread(CHANNEL, notice_ts) and "is up" in rig.slack.thread(CHANNEL, notice_ts)[0].current["text"]
        )
    )
    (progress,) = rig.slack.thread(CHANNEL, notice_ts)
    shown = list(walk_texts(progress.current["blocks"]))
    assert shown[0] == "✅ *review-42* is up in 22 s"
    assert "Asked by Alice" in shown
    assert rig.slack.responses(key) == []  # nothing ephemeral: the thread is the answer
    assert rig.wake_calls("review-42") == 1
    assert rig.slack.message(CHANNEL, notice_ts).edits == []  # the notice itself stays as it was


def test_retry_inside_the_thread_stays_in_that_thread(rig: Rig) -> None:
    notice_ts = sweep(rig)
    rig.world.fail("boot", "review-42")
    rig.click(WAKE, "fake:review-42", where="channel", channel=CHANNEL, message_ts=notice_ts)
    assert rig.slack.wait_for(lambda: any("failed" in m.current["text"] for m in rig.slack.thread(CHANNEL, notice_ts)))
    assert rig.paastis.engine.wait_idle(5)  # a click between the failure and the job's end would join it
    failed = rig.slack.thread(CHANNEL, notice_ts)[0]
    retry = failed.current["blocks"][0]["accessory"]
    assert (retry["text"]["text"], retry["action_id"]) == ("Retry", WAKE)
    response, _ = rig.click(
        retry["action_id"], retry["value"], where="channel", channel=CHANNEL, message_ts=failed.ts, thread_ts=notice_ts
    )
    assert response.status == 200
    assert rig.slack.wait_for(
        lambda: (
            len(rig.slack.thread(CHANNEL, notice_ts)) == 2
            and "is up" in rig.slack.thread(CHANNEL, notice_ts)[1].current["text"]
        )
    )


@pytest.mark.parametrize("value", ["fake:review-42", "fake:never-existed", "garbage", ""])
def test_a_stale_button_gets_a_clear_message(rig: Rig, value: str) -> None:
    rig.world.remove_app("review-42")
    rig.paastis.engine.discover()  # review-42 is gone
    response, key = rig.click(WAKE, value)
    assert response.status == 200
    answer = rig.last_response(key)
    assert answer["text"] == (
        "⚠️ That app is no longer listed by its provider (deleted or renamed?). Try `/paastis status`."
    )
    assert rig.wake_calls("review-42") == 0


def test_open_is_only_acknowledged(rig: Rig) -> None:
    response, key = rig.click(OPEN, "fake:hello")
    assert (response.status, response.body) == (200, "")
    rig.paastis.engine.executor.submit(lambda: None).result()
    assert rig.slack.responses(key) == []
    assert not rig.slack.messages


def test_a_button_of_another_version_is_answered_clearly(rig: Rig) -> None:
    response, key = rig.click("paastis.restart", "fake:hello")
    assert response.status == 200
    assert rig.last_response(key)["text"] == "⚠️ This button (paastis.restart) is not known to this version of Paastis."


def test_keep_click_by_an_admin_pins_the_app(rig: Rig) -> None:
    _, key = rig.click(KEEP, "fake:hello", user=ADMIN)
    answer = rig.last_response(key)
    assert answer["text"].startswith("📌 hello stays awake until")
    assert rig.paastis.store.keeps(rig.clock.now())[("fake", "hello")].by_name == "Ada"


@pytest.fixture
def rig_many(tmp_path, clock, slack):
    rig = Rig(tmp_path, clock, slack, apps=[{"name": f"app-{i:02d}", "formation": {"web": 1}} for i in range(45)])
    yield rig
    rig.close()


def test_page_buttons_replace_the_status_in_place(rig_many: Rig) -> None:
    first, _ = rig_many.ask("status")
    nav = next(b for b in first["blocks"] if b["type"] == "actions" and b["elements"][0]["action_id"].startswith(PAGE))
    (next_button,) = nav["elements"]
    assert (next_button["text"]["text"], next_button["value"]) == ("Next ▸", "2|")
    _, key = rig_many.click(next_button["action_id"], next_button["value"])
    page = rig_many.last_response(key)
    assert page["replace_original"] is True
    assert page["text"] == "45 apps · 45 running · 0 asleep (page 2 of 3)"
    nav = next(b for b in page["blocks"] if b["type"] == "actions" and b["elements"][0]["action_id"].startswith(PAGE))
    ids = [(e["action_id"], e["value"]) for e in nav["elements"]]
    assert ids == [(PAGE, "1|"), (f"{PAGE}#2", "3|")]
    _, key = rig_many.click(f"{PAGE}#2", "3|")  # the second button of the row, as Slack reports it
    assert rig_many.last_response(key)["text"].endswith("(page 3 of 3)")


def test_a_page_button_on_a_channel_message_edits_that_message(rig_many: Rig) -> None:
    posted = rig_many.side.client.chat_postMessage(channel=CHANNEL, text="status")
    rig_many.click(PAGE, "2|", where="channel", channel=CHANNEL, message_ts=posted["ts"])
    assert rig_many.slack.wait_for(lambda: rig_many.slack.message(CHANNEL, posted["ts"]).edits)
    assert rig_many.slack.message(CHANNEL, posted["ts"]).current["text"].endswith("(page 2 of 3)")
    assert len(rig_many.slack.messages) == 1  # edited, not a new message


def test_the_log_names_who_clicked(rig: Rig) -> None:
    _, key = rig.click(WAKE, "fake:shop-demo", user=ALICE)
    rig.last_response(key, containing="is up")
    answer, _ = rig.ask("log shop-demo")
    assert "✅ *shop-demo* woke by Alice in 20 s" in "\n".join(walk_texts(answer["blocks"]))
