"""The safe first run in Slack: one plan in the channel, with a Start button only admins may use."""

from __future__ import annotations

import pytest

from bot.chat.messages import START
from tests.bot.slack.conftest import ADMIN, ALICE, CHANNEL, Rig
from tests.fakes.slack_api import walk_texts


@pytest.fixture
def first(tmp_path, clock, slack):
    rig = Rig(tmp_path, clock, slack, dry_run=None)  # PAASTIS_DRY_RUN unset
    yield rig
    rig.close()


def test_a_fresh_install_posts_one_plan_with_a_start_button(first: Rig) -> None:
    first.clock.advance(minutes=20)
    first.paastis.engine.sweep()
    first.paastis.engine.sweep()
    assert first.side.poster.flush()

    (post,) = first.slack.calls_to("chat.postMessage")
    assert post.body["channel"] == CHANNEL
    assert post.body["text"].startswith("🧭 First run: I would put 2 apps to sleep.")
    text = "\n".join(walk_texts(post.body["blocks"]))
    assert "*hello* — now" in text
    assert "*review-42* — now" in text
    assert "until an admin clicks *Start* or types `/paastis start`" in text
    (button,) = [e for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["text"]["text"]) == (START, "Start")
    assert "confirm" in button
    assert not [c for c in first.world.calls if c.operation == "sleep"]


def test_an_admins_start_begins_the_sweeps_and_a_non_admins_is_refused(first: Rig) -> None:
    first.clock.advance(minutes=20)
    first.paastis.engine.sweep()

    _, key = first.click(START, "start", user=ALICE, where="channel")
    refusal = first.last_response(key)["text"]
    assert refusal.startswith("⚠️ Only workspace admins and the people listed in PAASTIS_ADMINS may start Paastis.")
    assert not first.paastis.engine.started()
    assert not first.paastis.engine.sweep().of("slept")

    first.click(START, "start", user=ADMIN, where="channel")
    assert first.slack.wait_for(lambda: any("Paastis started by Ada" in m.text for m in first.slack.messages))
    assert sorted(o.label for o in first.paastis.engine.sweep().of("slept")) == ["hello", "review-42"]


def test_paastis_start_as_a_command_and_start_app_still_wakes(first: Rig) -> None:
    assert "may start Paastis" in first.ask("start", user=ALICE)[0]["text"]
    assert "Paastis started by Ada" in first.ask("start", user=ADMIN)[0]["text"]
    assert "Paastis was started already by Ada." in first.ask("start", user=ADMIN)[0]["text"]
    assert first.paastis.engine.started()
    first.command("start shop-demo")  # `start <app>` keeps meaning wake
    assert first.slack.wait_for(lambda: first.wake_calls("shop-demo") == 1)
