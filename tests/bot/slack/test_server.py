"""`run_slack` end to end: waitress on a free port in HTTP mode, Bolt's Socket Mode client
against a local WebSocket endpoint, and a bot token Slack refuses."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.chat.messages import Message, Section
from bot.slack.app import slack_side
from bot.slack.server import EXIT_SLACK, run_slack, slack_check
from bot.web import Check
from bot.wiring import Paastis
from tests.bot.slack.conftest import ALICE, built_with, settings_for, signed_headers
from tests.bot.slack.socket_fake import FakeSocketSlack
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


@contextmanager
def running(tmp_path: Path, slack: FakeSlack, **slack_settings: Any) -> Iterator[int | None]:
    """run_slack in a thread on 127.0.0.1; yields the HTTP port once everything runs."""
    with serving(tmp_path, slack, **slack_settings) as (port, _):
        yield port


@contextmanager
def serving(tmp_path: Path, slack: FakeSlack, **slack_settings: Any) -> Iterator[tuple[int | None, Paastis]]:
    """`running`, yielding the Paastis it serves too."""
    settings = dataclasses.replace(settings_for(tmp_path, slack, **slack_settings), port=0)
    if slack_settings.get("app_token"):
        settings = dataclasses.replace(settings, port=None)
    clock = FakeClock()
    side = slack_side(settings, clock)
    paastis = built_with(side, settings, clock)
    stop, ready, result = threading.Event(), threading.Event(), {}

    def serve() -> None:
        result["code"] = run_slack(
            paastis, side, settings, stop, host="127.0.0.1", ready=lambda port: (result.update(port=port), ready.set())
        )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(10), result
        yield result["port"], paastis
    finally:
        stop.set()
        thread.join(10)
        paastis.close()
        side.close()
    assert result["code"] == 0


def http(port: int, path: str, body: str | None = None, headers: dict[str, list[str]] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body.encode() if body is not None else None,
        headers={k: v[0] for k, v in (headers or {}).items()},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def command(slack: FakeSlack, text: str, key: str) -> dict[str, str]:
    return {
        "command": "/paastis",
        "text": text,
        "user_id": ALICE,
        "user_name": "alice",
        "channel_id": "C0GENERAL",
        "team_id": "T0TEST",
        "response_url": slack.response_url(key),
    }


def command_body(slack: FakeSlack, text: str) -> str:
    return urlencode(command(slack, text, "http"))


def test_http_mode_serves_slack_events_and_healthz(tmp_path: Path, slack: FakeSlack, caplog) -> None:
    with caplog.at_level(logging.INFO), running(tmp_path, slack) as port:
        status, health = http(port, "/healthz")
        assert status == 200
        assert re.fullmatch(r"ok\nleader: yes \(\S+\)\ndatabase: sqlite writable\n", health), health
        status, ready = http(port, "/readyz")
        assert status == 200, ready
        lines = ready.splitlines()
        assert lines[:3] == [
            "ok scheduler: running",
            "ok slack: connected (HTTP events)",
            "ok database: writable (paastis.db)",
        ]
        assert [line.split(":")[0] for line in lines[3:]] == ["ok provider fake", "ok leadership"]
        assert lines[-1].startswith("ok leadership: this instance leads the scheduled work")
        body = command_body(slack, "status")
        assert http(port, "/slack/events", body, signed_headers(body)) == (200, "")  # acknowledged with nothing
        assert slack.wait_for(lambda: slack.responses("http"))  # the answer, through the response_url
        assert slack.responses("http")[0]["text"] == "3 apps · 2 running · 1 asleep"
        assert http(port, "/slack/events", body, signed_headers(body, secret="wrong"))[0] == 401
        garbage = "payload=%7Bnot-json"
        assert http(port, "/slack/events", garbage, signed_headers(garbage))[0] == 400
        assert http(port, "/elsewhere")[0] == 404
        challenge = json.dumps({"type": "url_verification", "challenge": "c-9"})
        assert http(port, "/slack/events", challenge, signed_headers(challenge, content_type="application/json")) == (
            200,
            '{"challenge": "c-9"}',
        )
    assert f"slack.listening port={port} paths=/slack/events /healthz" in caplog.text
    assert "slack.malformed_request path=/slack/events error=JSONDecodeError" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert slack.bot_token not in caplog.text
    assert "test-signing-secret" not in caplog.text


def test_socket_mode_answers_commands_over_the_websocket(tmp_path: Path, slack: FakeSlack) -> None:
    socket = FakeSocketSlack()
    slack.socket_url = socket.url
    try:
        with running(tmp_path, slack, app_token=slack.app_token, signing_secret=None) as port:
            assert port is None
            assert socket.connected.wait(5)
            payload = command(slack, "status", "socket")
            socket.send(
                {"envelope_id": "e-1", "type": "slash_commands", "payload": payload, "accepts_response_payload": True}
            )
            assert not socket.ack_for("e-1").get("payload")  # acknowledged with nothing
            assert slack.wait_for(lambda: slack.responses("socket"))  # the answer, through the response_url
            answer = slack.responses("socket")[0]
            assert (answer["response_type"], answer["text"]) == ("ephemeral", "3 apps · 2 running · 1 asleep")
            event = {
                "type": "event_callback",
                "team_id": "T0TEST",
                "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"},
            }
            socket.send(
                {"envelope_id": "e-2", "type": "events_api", "payload": event, "accepts_response_payload": False}
            )
            assert socket.ack_for("e-2")["envelope_id"] == "e-2"
            assert slack.wait_for(lambda: slack.views.get(ALICE))  # the Home tab, published over the Web API
        opened = slack.calls_to("apps.connections.open")
        assert [c.token for c in opened] == [slack.app_token]  # the app-level token, at SLACK_API_URL
    finally:
        socket.close()


def test_socket_mode_still_answers_healthz_when_a_port_is_given(tmp_path: Path, slack: FakeSlack) -> None:
    socket = FakeSocketSlack()
    slack.socket_url = socket.url
    settings = dataclasses.replace(settings_for(tmp_path, slack, app_token=slack.app_token), port=0)
    clock = FakeClock()
    side = slack_side(settings, clock)
    paastis = built_with(side, settings, clock)
    stop, ports = threading.Event(), []
    thread = threading.Thread(
        target=run_slack,
        args=(paastis, side, settings, stop),
        kwargs={"host": "127.0.0.1", "ready": ports.append},
        daemon=True,
    )
    thread.start()
    try:
        assert slack.wait_for(lambda: ports, timeout=10)
        assert http(ports[0], "/healthz")[1].startswith("ok\n")
        assert "ok slack: connected over Socket Mode" in http(ports[0], "/readyz")[1]
        assert http(ports[0], "/slack/events", "x=1")[0] == 404  # events come over the socket
    finally:
        stop.set()
        thread.join(10)
        paastis.close()
        side.close()
        socket.close()


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        (
            {"bot_token": "xoxb-wrong"},
            (
                "slack.start_failed error=invalid_auth fix=SLACK_BOT_TOKEN is wrong: copy the "
                "Bot User OAuth Token (xoxb-…) from OAuth & Permissions"
            ),
        ),
        ({"bot_token": None}, "slack.start_failed error=not_authed fix=SLACK_BOT_TOKEN is empty"),
        (
            {"api_url": "http://127.0.0.1:9/api/"},
            "slack.start_failed error=URLError fix=check SLACK_API_URL (http://127.0.0.1:9/api/) and the network",
        ),
    ],
    ids=["wrong token", "no token", "unreachable API"],
)
def test_a_slack_that_refuses_to_start_is_one_clear_line_and_an_exit_code(
    tmp_path: Path, slack: FakeSlack, caplog, setting, line
) -> None:
    settings = settings_for(tmp_path, slack, **setting)
    clock = FakeClock()
    side = slack_side(settings, clock)
    paastis = built_with(side, settings, clock)
    try:
        with caplog.at_level(logging.INFO):
            assert run_slack(paastis, side, settings, threading.Event()) == EXIT_SLACK
    finally:
        paastis.close()
        side.close()
    ours = [r for r in caplog.records if r.name.startswith("bot.")]  # slack_sdk logs its failed attempts too
    assert [r.getMessage() for r in ours if r.levelno >= logging.ERROR] == [line]
    assert not any(r.exc_info for r in caplog.records)
    assert not paastis.running  # nothing was started


def test_no_third_party_warning_at_start_with_the_token_in_the_environment(
    tmp_path: Path, slack: FakeSlack, caplog, monkeypatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)  # as on a PaaS: Bolt reads it on its own
    with caplog.at_level(logging.INFO), running(tmp_path, slack) as port:
        assert http(port, "/healthz")[1].startswith("ok\n")
    ours = ("bot", "providers")  # what Paastis itself says under load (a slow lookup) is not the point here
    third_party = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.split(".")[0] not in ours]
    assert [f"{r.name}: {r.getMessage()}" for r in third_party] == []


def test_readyz_tells_slack_is_not_ready_while_posts_are_refused(tmp_path: Path, slack: FakeSlack) -> None:
    side = slack_side(settings_for(tmp_path, slack), FakeClock())
    try:
        side.outbound.resume()
        assert slack_check(side, False) == Check("slack", True, "connected (HTTP events)")
        slack.outage("chat.postMessage", "channel_not_found")
        side.poster.post(Message("hello", (Section("hello"),)), None)
        assert slack.wait_for(lambda: side.outbound.trouble)
        check = slack_check(side, False)
        assert not check.ok
        assert "channel_not_found" in check.detail
        slack.outage("chat.postMessage", None)
        side.poster.post(Message("again", (Section("again"),)), None)
        assert slack.wait_for(lambda: slack_check(side, False).ok)
    finally:
        side.close()
