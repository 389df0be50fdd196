"""/paastis as Slack sends it — signed, form-encoded — dispatched to the real Bolt app."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest

from tests.bot.slack.conftest import ADMIN, SECRET, Rig, signed_headers
from tests.fakes.slack_api import walk_texts


def texts(payload: dict) -> str:
    return "\n".join(walk_texts(payload["blocks"]))


def test_status_answers_with_the_apps_and_their_buttons(rig: Rig) -> None:
    calls_before = len(rig.world.calls)
    answer, key = rig.ask("status")
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False  # a new message: the acknowledgement showed nothing
    assert answer["text"] == "3 apps · 2 running · 1 asleep"
    shown = texts(answer)
    for app in ("hello", "review-42", "shop-demo"):
        assert f"*{app}*" in shown
    wake = [b["accessory"] for b in answer["blocks"] if b.get("accessory", {}).get("value") == "fake:shop-demo"]
    assert wake[0]["action_id"] == "paastis.wake"
    assert wake[0]["text"]["text"] == "Wake"
    assert len(rig.world.calls) == calls_before  # no provider call to answer
    rig.side.response_urls.flush()
    assert len(rig.slack.responses(key)) == 1


def test_wake_acknowledges_then_replaces_the_answer_until_the_app_is_up(rig: Rig) -> None:
    with rig.held_wakes():
        first, key = rig.ask("wake shop-demo")
        assert first["text"] == "⏳ Waking shop-demo (0 s)"
    final = rig.last_response(key, containing="is up")
    assert final["replace_original"] is True
    assert final["response_type"] == "ephemeral"
    assert final["text"] == "✅ shop-demo is up in 20 s"
    assert final["blocks"][0]["accessory"]["url"] == "https://shop-demo.fake-paas.test"
    assert len(rig.slack.responses(key)) <= 5
    assert rig.wake_calls("shop-demo") == 1
    (event,) = [e for e in rig.paastis.store.events(limit=10) if e.action == "woke"]
    assert (event.actor, event.actor_name) == ("U0ALICE", "Alice")  # the audit log names the Slack user


def test_sleep_by_an_admin_is_audited_with_their_slack_name(rig: Rig) -> None:
    first, key = rig.ask("sleep hello", user=ADMIN)
    assert first["text"] == "🌙 Putting hello to sleep…"
    assert rig.last_response(key, containing="going to sleep")["replace_original"] is True
    (event,) = [e for e in rig.paastis.store.events(limit=10) if e.action == "slept"]
    assert (event.actor, event.actor_name, event.reason) == (ADMIN, "Ada", "asked by Ada")


def test_an_unknown_subcommand_gets_the_help(rig: Rig) -> None:
    answer = rig.ask("sleeep hello")[0]
    assert answer["text"] == "Unknown command `sleeep`."
    assert "*/paastis wake* &lt;app&gt;" in texts(answer)  # Slack shows <app>; raw, it would be a link


def test_keep_for_banana_says_what_is_wrong_and_how_to_write_it(rig: Rig) -> None:
    answer = rig.ask("keep hello for banana", user=ADMIN)[0]
    assert "'banana' is not a duration" in answer["text"]
    assert "`/paastis keep hello 2h`" in answer["text"]
    assert not [e for e in rig.paastis.store.events(limit=10) if e.action == "kept"]


def test_an_unknown_app_gets_the_closest_names(rig: Rig) -> None:
    answer = rig.ask("wake reveiw-42")[0]
    assert answer["text"] == "⚠️ No app named `reveiw-42`. Did you mean `review-42`?"


def test_bad_and_stale_signatures_are_refused_with_401(rig: Rig) -> None:
    body = urlencode({"command": "/paastis", "text": "status", "user_id": "U0ALICE", "response_url": "x"})
    assert rig.dispatch(body, secret="not-the-secret").status == 401
    assert rig.dispatch(body, timestamp=int(time.time()) - 6 * 60).status == 401
    assert rig.dispatch(body, timestamp=int(time.time()) - 4 * 60).status == 200  # within the 5-minute window
    assert rig.slack.wait_for(lambda: rig.slack.calls_to("users.info"))  # the signed, fresh one reached the listener
    assert len(rig.slack.calls_to("users.info")) == 1


def test_url_verification_and_ssl_check_are_answered(rig: Rig) -> None:
    challenge = rig.dispatch(
        json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}), content_type="application/json"
    )
    assert (challenge.status, json.loads(challenge.body)) == (200, {"challenge": "c-123"})
    check = rig.dispatch(urlencode({"ssl_check": "1", "token": "t"}), secret="whatever")
    assert (check.status, check.body) == (200, "")


def test_signature_is_checked_on_the_raw_body(rig: Rig) -> None:
    body = urlencode({"command": "/paastis", "text": "status", "user_id": "U0ALICE"})
    headers = signed_headers(body, secret=SECRET)
    tampered = body.replace("status", "sleep+hello")
    assert rig.bolt.dispatch(BoltRequest(body=tampered, headers=headers)).status == 401
