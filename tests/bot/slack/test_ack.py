"""Acknowledge first, always (issue 17): over HTTP, through waitress and the real Bolt app,
Slack gets its 200 before Paastis asks Slack who is asking (users.info) and before chat-ops
runs; the answer follows through the response_url, or the click's message and thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from bot.chat.messages import WAKE
from bot.slack.app import LISTENER_THREADS
from bot.wiring import Paastis
from providers.base import AppState
from tests.bot.slack.conftest import ADMIN, ALICE, CHANNEL, OPS_GROUP, OUTSIDER, click_payload, signed_headers
from tests.bot.slack.test_server import command, http, serving
from tests.fakes.slack_api import FakeSlack


class HeldSlack(FakeSlack):
    """A Slack whose users.info answers only once `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.asked = threading.Event()  # users.info was called (and is being held)

    def handle(self, method: str, token: str | None, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if method == "users.info":
            self.asked.set()
            assert self.release.wait(30), "users.info was never released"
        return super().handle(method, token, body)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSlack]:
    monkeypatch.setattr("bot.slack.app.IDENTITY_TIMEOUT", 30)  # the held lookup waits for the test, not 1 s
    with HeldSlack() as fake:
        fake.add_user(ALICE, "Alice")
        fake.add_user(ADMIN, "Ada", admin=True)
        fake.add_user(OUTSIDER, "Nobody")
        fake.usergroups[OPS_GROUP] = []
        try:
            yield fake
        finally:
            fake.release.set()


class ChatopsSeen:
    """Records that `Chatops.command` / `Chatops.click` began, then lets them run."""

    def __init__(self, paastis: Paastis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.began = threading.Event()
        chatops = paastis.chatops
        for name in ("command", "click"):
            monkeypatch.setattr(chatops, name, self._seen(getattr(chatops, name)))

    def _seen(self, method: Any) -> Any:
        def seen(*args: Any, **kwargs: Any) -> None:
            self.began.set()
            method(*args, **kwargs)

        return seen


def post_command(port: int, slack: FakeSlack, text: str, key: str, user: str = ALICE) -> tuple[int, str]:
    body = urlencode({**command(slack, text, key), "user_id": user, "user_name": user.lower()})
    return http(port, "/slack/events", body, signed_headers(body))


def test_a_command_is_acknowledged_before_slack_is_asked_who_typed_it_and_answered_after(
    tmp_path: Path, held: HeldSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, held) as (port, paastis):
        chatops = ChatopsSeen(paastis, monkeypatch)
        assert post_command(port, held, "status", "first") == (200, "")  # while users.info cannot answer
        assert not chatops.began.is_set()
        assert held.responses("first") == []
        assert held.asked.wait(5)  # the lookup follows the acknowledgement
        held.release.set()
        assert held.wait_for(lambda: held.responses("first"))
        answer = held.responses("first")[0]
        assert (answer["response_type"], answer["text"]) == ("ephemeral", "3 apps · 2 running · 1 asleep")
        assert chatops.began.is_set()


def test_a_click_is_acknowledged_first_and_its_thread_reply_follows(
    tmp_path: Path, held: HeldSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, held) as (port, paastis):
        chatops = ChatopsSeen(paastis, monkeypatch)
        # a channel message with a Wake button, as a sweep notice
        posted = held.handle("chat.postMessage", held.bot_token, {"channel": CHANNEL, "text": "💤 notice"})[2]
        payload = click_payload(
            WAKE,
            "fake:shop-demo",
            ALICE,
            where="channel",
            message_ts=posted["ts"],
            channel=CHANNEL,
            response_url=held.response_url("click"),
        )
        body = "payload=" + quote(json.dumps(payload))
        assert http(port, "/slack/events", body, signed_headers(body)) == (200, "")
        assert not chatops.began.is_set()
        assert held.thread(CHANNEL, posted["ts"]) == []
        held.release.set()
        assert held.wait_for(lambda: held.thread(CHANNEL, posted["ts"]))
        (reply,) = held.thread(CHANNEL, posted["ts"])
        assert held.wait_for(lambda: "is up" in reply.current["text"], 10)  # the one reply, edited in place
        assert reply.current["text"].startswith("✅ shop-demo is up")


def test_a_refused_action_is_still_refused_and_said_after_the_acknowledgement(tmp_path: Path, held: HeldSlack) -> None:
    held.release.set()
    with serving(tmp_path, held) as (port, paastis):
        assert post_command(port, held, "sleep hello", "refused", user=OUTSIDER) == (200, "")
        assert held.wait_for(lambda: held.responses("refused"))
        assert held.responses("refused")[0]["text"].startswith("⚠️ Only workspace admins")
        paastis.engine.wait_idle(5)
        assert [e.action for e in paastis.store.events(limit=20) if e.action == "slept"] == []
        world = paastis.providers["fake"].world
        assert world.app("hello").state is AppState.RUNNING
        assert [c for c in world.calls if c.operation == "sleep"] == []


def test_200_concurrent_commands_get_200_acknowledgements_then_200_answers(tmp_path: Path, held: HeldSlack) -> None:
    """users.info is held the whole time the 200 arrive: every listener thread is busy, and
    every command is still acknowledged; no more listener threads than the pool's size."""
    count = 200
    with serving(tmp_path, held) as (port, _):
        with ThreadPoolExecutor(50) as clients:
            acks = list(clients.map(lambda n: post_command(port, held, "status", f"c{n}"), range(count)))
        listener_threads = [t for t in threading.enumerate() if t.name.startswith("slack-listener")]
        assert acks == [(200, "")] * count
        assert held.asked.wait(5)  # the work began, and waits on Slack
        assert all(held.responses(f"c{n}") == [] for n in range(count))  # nothing answered yet: all waited
        held.release.set()
        assert held.wait_for(lambda: all(held.responses(f"c{n}") for n in range(count)), 60)
        assert {held.responses(f"c{n}")[0]["text"] for n in range(count)} == {"3 apps · 2 running · 1 asleep"}
        assert all(len(held.responses(f"c{n}")) == 1 for n in range(count))
    assert 0 < len(listener_threads) <= LISTENER_THREADS
