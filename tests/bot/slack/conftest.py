"""The Slack suite's rig: Paastis on the simulated PaaS and a fake clock, built as `serve`
builds it (`slack_side`, then `build`, then `connect`) against a fake Slack Web API, and
signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from bot.config.loading import Permissions, Settings, SlackSettings
from bot.policy.rules import parse_rules
from bot.slack.app import SlackParts, SlackSide, connect, slack_side
from bot.wiring import Paastis, build
from providers import parse_spec
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"
CHANNEL = "C0PAASTIS"
ALICE, ADMIN, OPS_MEMBER, OUTSIDER = "U0ALICE", "U0ADMIN", "U0OPS", "U0NOBODY"
OPS_GROUP = "S0OPS"
APPS = [
    {"name": "hello", "formation": {"web": 1}},
    {"name": "review-42", "formation": {"web": 1}},
    {"name": "shop-demo", "formation": {"web": 1}, "running": False},
]


@pytest.fixture(autouse=True)
def _no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bolt reads some SLACK_* variables by itself: the tests must not depend on the shell."""
    for name in (
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_VERIFICATION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(ALICE, "Alice")
        fake.add_user(ADMIN, "Ada", admin=True)
        fake.add_user(OPS_MEMBER, "Olga")
        fake.add_user(OUTSIDER, "Nobody")
        fake.usergroups[OPS_GROUP] = [OPS_MEMBER]
        yield fake


def settings_for(
    tmp_path: Path,
    slack: FakeSlack,
    *,
    apps: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    dry_run: bool | None = False,  # False: act from the first sweep, as with PAASTIS_DRY_RUN=false
    **slack_settings: Any,
) -> Settings:
    spec, problems = parse_spec("fake", {"apps": apps or APPS, "boot_seconds": "20s"}, where="test")
    assert spec is not None, problems
    assert not problems, problems
    parsed, rule_problems, _ = parse_rules(rules or [])
    assert not rule_problems, rule_problems
    return Settings(
        providers=(spec,),
        rules=parsed,
        db_path=tmp_path / "paastis.db",
        dry_run=dry_run,
        permissions=Permissions(admins=(OPS_GROUP,)),
        slack=SlackSettings(
            **{
                "bot_token": slack.bot_token,
                "signing_secret": SECRET,
                "api_url": slack.api_url,
                "channel": CHANNEL,
                **slack_settings,
            }
        ),
    )


class Rig:
    """Paastis + the real Bolt app; requests are signed and dispatched like Slack sends them."""

    def __init__(
        self,
        tmp_path: Path,
        clock: FakeClock,
        slack: FakeSlack,
        *,
        apps: list[dict[str, Any]] | None = None,
        rules: list[dict[str, Any]] | None = None,
        dry_run: bool | None = False,
    ) -> None:
        self.slack = slack
        self.clock = clock
        self.settings = settings_for(tmp_path, slack, apps=apps, rules=rules, dry_run=dry_run)
        self.side: SlackSide = slack_side(self.settings, clock)
        self.paastis: Paastis = built_with(self.side, self.settings, clock)
        self.world = self.paastis.providers["fake"].world
        self.paastis.engine.discover()
        self.parts: SlackParts = connect(self.paastis, self.side, self.settings.slack)
        self.bolt = self.parts.bolt
        self._keys = 0

    def close(self) -> None:
        """Let listeners and engine work finish (they may still talk to the fake), then stop."""
        self.bolt.listener_runner.listener_executor.shutdown(wait=True)
        self.paastis.engine.executor.shutdown(wait=True)
        self.parts.close()
        self.paastis.close()
        self.side.close()

    # -- requests ------------------------------------------------------------------------
    def key(self) -> str:
        self._keys += 1
        return f"r{self._keys}"

    def dispatch(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> BoltResponse:
        return self.bolt.dispatch(BoltRequest(body=body, headers=signed_headers(body, timestamp, secret, content_type)))

    def command(self, text: str, user: str = ALICE, *, key: str | None = None) -> tuple[BoltResponse, str]:
        """`/paastis <text>` from `user`; returns the response and the response_url's key."""
        key = key or self.key()
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0TEST",
                "team_domain": "paastis-test",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/paastis",
                "text": text,
                "response_url": self.slack.response_url(key),
                "trigger_id": "1.2.3",
                "api_app_id": "A0TEST",
            }
        )
        return self.dispatch(body), key

    def ask(self, text: str, user: str = ALICE) -> tuple[dict[str, Any], str]:
        """`/paastis <text>`: acknowledged with nothing, as every request; returns the first
        answer (through the command's response_url) and the response_url's key."""
        response, key = self.command(text, user)
        assert (response.status, response.body) == (200, ""), (response.status, response.body)
        return self.answer(key), key

    def click(
        self,
        action: str,
        value: str = "",
        user: str = ALICE,
        *,
        where: str = "ephemeral",
        message_ts: str = "1700000000.000001",
        channel: str = "C0GENERAL",
        key: str | None = None,
        metadata: str = "",
        action_id: str | None = None,
        thread_ts: str | None = None,
    ) -> tuple[BoltResponse, str]:
        """A button click on an ephemeral message, a channel message (maybe in a thread) or the Home tab."""
        key = key or self.key()
        body = click_payload(
            action_id or action,
            value,
            user,
            where=where,
            message_ts=message_ts,
            channel=channel,
            response_url=self.slack.response_url(key),
            metadata=metadata,
        )
        if thread_ts:
            body["message"]["thread_ts"] = thread_ts
        return self.dispatch("payload=" + quote(json.dumps(body))), key

    def event(self, event: dict[str, Any]) -> BoltResponse:
        body = {
            "token": "legacy",
            "team_id": "T0TEST",
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event_id": "Ev0TEST",
            "event_time": 1700000000,
            "event": event,
        }
        return self.dispatch(json.dumps(body), content_type="application/json")

    @contextmanager
    def held_wakes(self) -> Iterator[threading.Event]:
        """Provider wakes wait for the returned event (or the end of the block): with a fake
        clock a wake is otherwise over before Slack even gets its acknowledgement."""
        gate = threading.Event()
        provider = self.paastis.providers["fake"]
        original = provider.wake
        threads: list[str] = []

        def wake(app: Any, formation: Any) -> None:
            threads.append(threading.current_thread().name)
            assert gate.wait(10), "a held wake was never released"
            original(app, formation)

        provider.wake = wake
        self.wake_threads = threads
        try:
            yield gate
        finally:
            gate.set()
            del provider.wake

    # -- looking ------------------------------------------------------------------------
    def answer(self, key: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first answer through the response_url of `key`."""
        assert self.slack.wait_for(lambda: self.slack.responses(key), timeout), f"no answer through {key}"
        return self.slack.responses(key)[0]

    def last_response(self, key: str, timeout: float = 5.0, *, containing: str = "") -> dict[str, Any]:
        assert self.slack.wait_for(
            lambda: any(containing in r.get("text", "") for r in self.slack.responses(key)), timeout
        ), (key, self.slack.responses(key))
        return self.slack.responses(key)[-1]

    def wake_calls(self, app: str) -> int:
        return sum(1 for c in self.world.calls if c.operation == "wake" and c.app == app)


@pytest.fixture
def rig(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[Rig]:
    r = Rig(tmp_path, clock, slack)
    yield r
    r.close()


def built_with(side: SlackSide, settings: Settings, clock: FakeClock) -> Paastis:
    """Paastis built as `serve` builds it in Slack: with the Slack side's poster and user groups."""
    return build(settings, clock=clock, poster=side.poster, groups_of=side.directory.groups_of)


def signed_headers(
    body: str,
    timestamp: int | None = None,
    secret: str = SECRET,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, list[str]]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"content-type": [content_type], "x-slack-request-timestamp": [ts], "x-slack-signature": [f"v0={digest}"]}


def click_payload(
    action_id: str,
    value: str,
    user: str,
    *,
    where: str,
    message_ts: str,
    channel: str,
    response_url: str,
    metadata: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "token": "legacy",
        "team": {"id": "T0TEST", "domain": "paastis-test"},
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "Wake"},
                "action_ts": "1700000000.1",
            }
        ],
    }
    if not value:
        del body["actions"][0]["value"]
    if where == "home":
        body["container"] = {"type": "view", "view_id": "V0HOME"}
        body["view"] = {"id": "V0HOME", "type": "home", "private_metadata": metadata}
        del body["response_url"]
    else:
        ephemeral = where == "ephemeral"
        body["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        body["channel"] = {"id": channel, "name": "general"}
        if not ephemeral:
            body["message"] = {"type": "message", "ts": message_ts, "text": "notice", "blocks": []}
    return body
