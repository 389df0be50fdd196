"""When something breaks: one handler logs the traceback, the user reads a short apology —
never a traceback — and malformed payloads are refused without an error in the logs."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, urlencode

import pytest

from bot.chat.messages import WAKE
from bot.slack.listeners import SORRY
from tests.bot.slack.conftest import ALICE, Rig, click_payload


class Boom(RuntimeError):
    pass


def explode(*args, **kwargs):
    raise Boom("a bug in chatops")


def test_a_crashing_command_answers_an_apology_and_logs_the_traceback(rig: Rig, caplog, monkeypatch) -> None:
    monkeypatch.setattr(rig.paastis.chatops, "command", explode)
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        response, key = rig.command("status")
        apology = rig.last_response(key)
    assert (response.status, response.body) == (200, "")  # acknowledged before the work began
    assert apology == {"response_type": "ephemeral", "replace_original": False, "text": SORRY}
    (record,) = [r for r in caplog.records if r.name == "bot.slack.listeners"]
    assert record.getMessage() == "slack.listener_failed kind=command error=Boom"
    assert record.exc_info
    assert record.exc_info[0] is Boom


def test_a_crashing_click_is_acknowledged_and_apologised_for(rig: Rig, caplog, monkeypatch) -> None:
    monkeypatch.setattr(rig.paastis.chatops, "click", explode)
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        response, key = rig.click(WAKE, "fake:shop-demo")
        apology = rig.last_response(key)
    assert (response.status, response.body) == (200, "")
    assert apology == {"response_type": "ephemeral", "replace_original": False, "text": SORRY}
    assert any(r.exc_info and r.exc_info[0] is Boom for r in caplog.records)


def button(**changes) -> dict:
    body = click_payload(
        WAKE,
        "fake:shop-demo",
        ALICE,
        where="ephemeral",
        message_ts="1.1",
        channel="C0GENERAL",
        response_url="http://127.0.0.1:9/never",
    )
    body.update(changes)
    return body


MALFORMED = {
    "no actions": "payload=" + quote(json.dumps(button(actions=[]))),
    "an action without an id": "payload=" + quote(json.dumps(button(actions=[{"type": "button", "value": "x"}]))),
    "a numeric value": "payload=" + quote(json.dumps(button(actions=[{"action_id": WAKE, "value": 42}]))),
    "no user": "payload=" + quote(json.dumps(button(user=None))),
    "a string container": "payload=" + quote(json.dumps(button(container="message"))),
    "a command without user": urlencode({"command": "/paastis", "text": "wake shop-demo", "response_url": "x"}),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_payloads_are_refused_without_an_error_in_the_logs(rig: Rig, caplog, body: str) -> None:
    with caplog.at_level(logging.DEBUG):
        response = rig.dispatch(body)
        rig.bolt.listener_runner.listener_executor.submit(lambda: None).result()
    assert (response.status, response.body) == (400, "")
    assert "slack.malformed_payload" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert rig.wake_calls("shop-demo") == 0


def test_an_event_without_its_user_is_refused_too(rig: Rig, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        response = rig.event({"type": "app_home_opened", "tab": "home"})
    assert response.status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert rig.slack.views == {}
