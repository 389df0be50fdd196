"""The hosted rig: the real hosted edition (registry, Bolt app with OAuth, a Paastis per
workspace) served over HTTP on loopback, against the fake Slack Web API; workspaces are
installed through the OAuth redirect and driven with signed requests."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.hosted.server import Edition
from bot.hosted.settings import HostedSettings
from bot.web import HttpServer
from providers.base import ProviderDeps, ProviderSpec
from tests.bot.slack.conftest import SECRET, signed_headers
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import CLIENT_ID, CLIENT_SECRET, FakeSlack

ADA, BOB, CAROL = "U0ADA", "U0BOB", "U0CAROL"  # Ada installs in Acme, Bob is a member there; Carol installs in Beta
ACME, BETA = "T0ACME", "T0BETA"
# a test marked so runs on SQLite (files in the data folder) and on a real PostgreSQL (DATABASE_URL)
ON_EACH_DATABASE = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite, the default), or a new PostgreSQL database's URL for tests ON_EACH_DATABASE."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(autouse=True)
def _no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_SCOPES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(ADA, "Ada", admin=True)
        fake.add_user(BOB, "Bob")
        fake.add_user(CAROL, "Carol", admin=True)
        yield fake


class Hosted:
    def __init__(
        self,
        tmp_path: Path,
        clock: FakeClock,
        slack: FakeSlack,
        deps_for: Callable[[ProviderSpec], ProviderDeps] | None = None,
        **overrides: Any,
    ) -> None:
        self.slack = slack
        self.clock = clock
        defaults: dict[str, Any] = {
            "secret_key": Fernet.generate_key().decode(),
            "data_dir": tmp_path / "data",
            "offered": ("scalingo", "clever-cloud", "fake"),
        }
        self.settings = HostedSettings(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            signing_secret=SECRET,
            api_url=slack.api_url,
            **{**defaults, **overrides},
        )
        self.edition = Edition(self.settings, clock, deps_for=deps_for, start=False)
        self.server = HttpServer(self.edition.wsgi(), "127.0.0.1", 0)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}", timeout=10)
        self._keys = 0

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.edition.bolt.listener_runner.listener_executor.shutdown(wait=True)
        for tenant in self.edition.tenants.running():
            tenant.paastis.engine.executor.shutdown(wait=True)
        self.edition.close()

    def stored_text(self) -> str:
        """Everything the hosted edition stored, as text: every file of its data folder, and
        on PostgreSQL every text column of every table of every schema."""
        found = [p.read_bytes().decode("latin-1") for p in self.settings.data_dir.rglob("*") if p.is_file()]
        if self.settings.database_url:
            database = self.edition.registry.database
            columns = database.rows(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where data_type in ('text', 'character varying') "
                "and table_schema not in ('pg_catalog', 'information_schema')"
            )
            for c in columns:
                quoted = f'"{c["table_schema"]}"."{c["table_name"]}"'
                found += [str(r["v"]) for r in database.rows(f'select "{c["column_name"]}" as v from {quoted}')]
        return "\n".join(found)

    # -- install ---------------------------------------------------------------------------
    def install_page(self, client: httpx.Client | None = None) -> str:
        """GET /slack/install in a browser (`client`, or none): the state in its link. The
        cookie is Secure (HTTPS only): the browser here keeps it by hand over loopback HTTP."""
        page = (client or self.http).get("/slack/install")
        assert page.status_code == 200, page.text
        state = re.search(r"state=([\w-]+)", page.text).group(1)
        if client is not None:
            client.headers["Cookie"] = page.headers["set-cookie"].split(";")[0]
        return state

    def install(self, team: str, name: str, installer: str) -> httpx.Response:
        with httpx.Client(base_url=str(self.http.base_url), timeout=10) as browser:
            state = self.install_page(browser)
            code = self.slack.authorize(team, name, installer)
            return browser.get("/slack/oauth_redirect", params={"code": code, "state": state})

    def token(self, team: str) -> str:
        return next(t for t, ws in self.slack.tokens.items() if ws["team_id"] == team)

    def tenant(self, team: str):
        return self.edition.tenants.get(team, self.token(team))

    def world(self, team: str, connection: str = "fake"):
        return self.tenant(team).paastis.providers[connection].world

    def discover(self, team: str) -> list[str]:
        """Discovery in that workspace now; the names of the apps it manages."""
        engine = self.tenant(team).paastis.engine
        engine.discover()
        return sorted(v.name for v in engine.catalog())

    # -- requests --------------------------------------------------------------------------
    def post(
        self, body: str, content_type: str = "application/x-www-form-urlencoded", retry: int | None = None
    ) -> httpx.Response:
        stamp = int(time.time()) + (retry or 0)  # a retry is signed anew, later (the Gate drops a replay)
        headers = {k: v[0] for k, v in signed_headers(body, stamp, SECRET, content_type).items()}
        if retry is not None:  # Slack's retry of a delivery it thinks was lost
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.http.post("/slack/events", content=body.encode(), headers=headers)

    def key(self) -> str:
        self._keys += 1
        return f"h{self._keys}"

    def command(self, team: str, user: str, text: str) -> tuple[httpx.Response, str]:
        key = self.key()
        body = urlencode(
            {
                "team_id": team,
                "team_domain": team.lower(),
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/paastis",
                "text": text,
                "response_url": self.slack.response_url(key),
                "trigger_id": f"trigger-{key}",
                "api_app_id": "A0TEST",
            }
        )
        return self.post(body), key

    def click(self, team: str, user: str, action: str, value: str, *, home: bool = False) -> tuple[httpx.Response, str]:
        key = self.key()
        body: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "A0TEST",
            "team": {"id": team, "domain": team.lower()},
            "trigger_id": f"trigger-{key}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action,
                    "block_id": "b1",
                    "value": value,
                    "text": {"type": "plain_text", "text": "x"},
                    "action_ts": "1700000000.1",
                }
            ],
        }
        if home:
            body["container"] = {"type": "view", "view_id": "V0HOME"}
            body["view"] = {"id": "V0HOME", "type": "home", "private_metadata": ""}
        else:
            body["container"] = {
                "type": "message",
                "channel_id": "C0GENERAL",
                "message_ts": "1700000000.000001",
                "is_ephemeral": True,
            }
            body["channel"] = {"id": "C0GENERAL"}
            body["response_url"] = self.slack.response_url(key)
        return self.post("payload=" + quote(json.dumps(body))), key

    def submit(self, team: str, user: str, view: dict[str, Any], typed: dict[str, str]) -> httpx.Response:
        """A modal submitted with `typed` values by block id."""
        state = {block: {"value": {"type": "plain_text_input", "value": value}} for block, value in typed.items()}
        submitted = {**view, "id": "V0MODAL", "state": {"values": state}}
        body = {
            "type": "view_submission",
            "team": {"id": team, "domain": team.lower()},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "A0TEST",
            "view": submitted,
        }
        return self.post("payload=" + quote(json.dumps(body)))

    def event(
        self, team: str, event: dict[str, Any], event_id: str = "Ev1", retry: int | None = None
    ) -> httpx.Response:
        body = {
            "team_id": team,
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "event": event,
        }
        return self.post(json.dumps(body), content_type="application/json", retry=retry)

    def connect_fake(self, team: str, user: str, apps: str, name: str = "") -> httpx.Response:
        response, _ = self.command(team, user, "connect fake")
        assert response.status_code == 200, response.text
        view = self.slack.opened[-1]["view"]
        return self.submit(team, user, view, {"apps": apps, **({"name": name} if name else {})})

    def last_response(self, key: str, containing: str = "") -> dict[str, Any]:
        assert self.slack.wait_for(lambda: any(containing in r.get("text", "") for r in self.slack.responses(key))), (
            key,
            self.slack.responses(key),
        )
        return [r for r in self.slack.responses(key) if containing in r.get("text", "")][-1]  # not a later one


@pytest.fixture
def hosted(tmp_path: Path, clock: FakeClock, slack: FakeSlack, database_url: str | None) -> Iterator[Hosted]:
    rig = Hosted(tmp_path, clock, slack, database_url=database_url)
    yield rig
    rig.close()
