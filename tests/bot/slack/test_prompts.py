"""Prompts and groups through the real Bolt listeners (issue 12, item 4): a question comes
with the button that answers it, sleeping one member of a sleep-together group puts the
group to sleep once confirmed, and a wrong keep duration is told in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.chat.messages import SLEEP, WAKE
from providers.base import AppState
from tests.bot.slack.conftest import ADMIN, Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack

APPS = [
    {"name": "prod-api", "formation": {"web": 1}, "running": False},
    {"name": "prod-web", "formation": {"web": 1}},
    {"name": "shop-front", "formation": {"web": 1}},
    {"name": "shop-back", "formation": {"web": 1}},
]
RULES = [
    {"pattern": "^prod-", "protect": True},
    {"pattern": "^shop-front$", "linked_apps": ["shop-back"]},
]


@pytest.fixture
def rig(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[Rig]:
    """Protected production apps and the shop's sleep-together pair, behind the real listeners."""
    r = Rig(tmp_path, clock, slack, apps=APPS, rules=RULES)
    yield r
    r.close()


def answer(rig: Rig, text: str, user: str = ADMIN) -> dict[str, Any]:
    return rig.ask(text, user)[0]


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = [b["accessory"] for b in payload.get("blocks", []) if b.get("accessory", {}).get("type") == "button"]
    found += [e for b in payload.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
    return found


def test_waking_a_protected_app_asks_with_a_wake_button_and_the_click_wakes_it(rig: Rig) -> None:
    asked = answer(rig, "wake prod-api")
    assert asked["text"] == "prod-api is protected by the rules. Wake it anyway?"
    (button,) = buttons(asked)
    assert (button["action_id"], button["value"]) == (WAKE, "fake:prod-api")
    assert rig.wake_calls("prod-api") == 0
    _, key = rig.click(button["action_id"], button["value"], ADMIN)
    assert "is up" in rig.last_response(key, containing="is up")["text"]
    assert rig.wake_calls("prod-api") == 1


def test_waking_a_protected_app_already_up_says_so_without_asking(rig: Rig) -> None:
    told = answer(rig, "wake prod-web")
    assert "already up" in told["text"], told
    assert "Wake it anyway" not in json.dumps(told)


def test_sleeping_one_member_of_a_group_asks_then_sleeps_the_whole_group(rig: Rig) -> None:
    asked = answer(rig, "sleep shop-back")
    assert "shop-front" in asked["text"]
    assert "Put the group to sleep?" in asked["text"]
    (button,) = buttons(asked)
    assert button["action_id"] == SLEEP
    assert button["confirm"]["text"]["text"] == "Put shop-back, shop-front to sleep now? (they sleep together)"
    states = {a.name: a.state for a in rig.paastis.providers["fake"].list_apps()}
    assert states["shop-back"] is AppState.RUNNING  # nothing slept before the click

    _, key = rig.click(button["action_id"], button["value"], ADMIN)
    done = rig.last_response(key, containing="going to sleep")
    assert "shop-back" in done["text"], done
    assert "shop-front" in done["text"], done
    rig.paastis.engine.wait_idle(timeout=10)
    states = {a.name: a.state for a in rig.paastis.providers["fake"].list_apps()}
    assert states["shop-back"] is not AppState.RUNNING
    assert states["shop-front"] is not AppState.RUNNING
    assert states["prod-web"] is AppState.RUNNING


def test_a_wrong_keep_duration_says_the_one_wrong_line_not_the_whole_help(rig: Rig) -> None:
    told = answer(rig, "keep shop-front 2 fortnights")
    assert told["text"].startswith("⚠️ ")
    assert "/paastis keep shop-front 2h" in told["text"]
    assert "Paastis commands" not in json.dumps(told)  # not the help
    assert len(told["blocks"]) == 1
    assert "Paastis commands" in json.dumps(answer(rig, "frobnicate"))  # an unknown command still gets the help


def test_the_sleep_button_of_a_group_member_names_the_group_in_its_confirmation(rig: Rig) -> None:
    status = answer(rig, "status")
    sleeps = {b["value"]: b for b in buttons(status) if b["action_id"] == SLEEP}
    assert sleeps["fake:shop-back"]["confirm"]["text"]["text"] == (
        "Put shop-back, shop-front to sleep now? (they sleep together)"
    )
    assert sleeps["fake:shop-front"]["confirm"]["text"]["text"] == (
        "Put shop-front, shop-back to sleep now? (they sleep together)"
    )
    detail = answer(rig, "status shop-back")
    (sleep,) = [b for b in buttons(detail) if b["action_id"] == SLEEP]
    assert "shop-front" in sleep["confirm"]["text"]["text"]
