"""Uninstall and purge, secrets at rest, a provider refusing credentials, /metrics."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.hosted.crypto import SealBroken, Sealer
from bot.hosted.redaction import Redactor, redact
from bot.hosted.server import list_workspaces, rotate_secrets, wake_all
from bot.hosted.uninstall import has_store, purge_due
from providers.base import ProviderDeps, ProviderSpec
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from providers.scalingo.fake_api import FakeScalingo
from tests.bot.hosted.conftest import ACME, ADA, BETA, CAROL, ON_EACH_DATABASE, Hosted
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack

GOOD_TOKEN = "tk-us-acme-good-0000000000000000"


class ScalingoHosts(httpx.BaseTransport):
    """Scalingo's real hosts (the modal asks no URL) routed to its fake."""

    def __init__(self, fake: FakeScalingo) -> None:
        self.inner = fake.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host=request.url.host.replace("scalingo.com", "scalingo.test"))
        return self.inner.handle_request(request)


@pytest.fixture
def with_scalingo(tmp_path: Path, clock: FakeClock, slack: FakeSlack, database_url: str | None):
    world = SimulatedPaas(clock)
    FakeDeployment(world).populate([{"name": "shop"}], boot_seconds=20.0)
    fake = FakeScalingo({"osc-fr1": world}, [GOOD_TOKEN], clock)

    def deps_for(spec: ProviderSpec) -> ProviderDeps:
        return ProviderDeps(clock=clock, transport=ScalingoHosts(fake) if spec.kind == "scalingo" else None)

    rig = Hosted(tmp_path, clock, slack, deps_for=deps_for, database_url=database_url)
    yield rig
    rig.close()


def test_a_refused_scalingo_token_gets_the_providers_reason_in_the_modal_and_nothing_is_saved(
    with_scalingo: Hosted,
) -> None:
    hosted = with_scalingo
    hosted.install(ACME, "Acme", ADA)
    hosted.command(ACME, ADA, "connect scalingo")
    view = hosted.slack.opened[-1]["view"]
    wrong = "tk-us-acme-wrong-000000000000000"

    refused = hosted.submit(ACME, ADA, view, {"api_token": wrong, "region": "osc-fr1"})

    errors = refused.json()["errors"]
    assert "refused these credentials" in errors["api_token"]
    assert wrong not in refused.text
    assert hosted.edition.registry.connections(ACME) == []
    assert all("initial_value" not in b["element"] for b in view["blocks"] if b["block_id"] == "api_token")


@ON_EACH_DATABASE
def test_the_life_of_two_workspaces_leaves_no_secret_in_clear_and_purges_one_without_the_other(
    with_scalingo: Hosted,
) -> None:
    hosted = with_scalingo
    hosted.install(ACME, "Acme", ADA)
    hosted.install(BETA, "Beta", CAROL)
    hosted.command(ACME, ADA, "connect scalingo")
    saved = hosted.submit(ACME, ADA, hosted.slack.opened[-1]["view"], {"api_token": GOOD_TOKEN, "region": "osc-fr1"})
    assert "Connected *scalingo-osc-fr1*" in saved.text
    hosted.connect_fake(BETA, CAROL, "shop, web")
    assert hosted.discover(ACME) == ["shop"]
    assert hosted.discover(BETA) == ["shop", "web"]
    hosted.command(BETA, CAROL, "sleep shop")
    assert hosted.slack.wait_for(lambda: any(c.operation == "sleep" for c in hosted.world(BETA).calls))
    hosted.clock.advance(seconds=30)
    hosted.discover(BETA)
    tokens = [hosted.token(ACME), hosted.token(BETA), GOOD_TOKEN]

    stored = hosted.stored_text()
    assert "scalingo-osc-fr1" in stored  # it did read the connections…
    assert "gAAAA" in stored  # … sealed
    assert not [t for t in tokens if t in stored]
    rotated = io.StringIO()
    rotate_secrets(hosted.settings, rotated)
    assert "4 secret(s) encrypted again" in rotated.getvalue()  # 2 installations, 2 connections

    hosted.slack.revoke(BETA)
    assert hosted.event(BETA, {"type": "app_uninstalled"}).status_code == 200
    assert hosted.event(BETA, {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}, "Ev2").status_code == 200

    registry = hosted.edition.registry
    assert hosted.slack.wait_for(lambda: registry.workspace(BETA).uninstalled_at is not None)
    assert registry.installation(BETA) is None
    assert registry.connections(BETA) == []
    assert registry.workspace(BETA).asleep_at_uninstall == "shop"
    listing = io.StringIO()
    list_workspaces(hosted.settings, listing)
    assert "asleep at uninstall: shop" in listing.getvalue()
    after = hosted.command(BETA, CAROL, "status")[0]
    assert after.status_code == 200
    assert "shop" not in after.text
    assert purge_due(registry, hosted.settings, hosted.clock) == []
    hosted.clock.advance(days=7, minutes=1)
    assert purge_due(registry, hosted.settings, hosted.clock) == [BETA]
    assert registry.workspace(BETA) is None
    assert not has_store(hosted.settings, registry, BETA)
    assert has_store(hosted.settings, registry, ACME)
    assert registry.installation(ACME) is not None
    assert hosted.discover(ACME) == ["shop"]


def test_a_reinstall_within_the_grace_period_finds_its_workspace(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.edition.registry.set_plan(ACME, "team", "npo")
    hosted.event(ACME, {"type": "app_uninstalled"})
    assert hosted.slack.wait_for(lambda: hosted.edition.registry.workspace(ACME).uninstalled_at is not None)
    hosted.clock.advance(days=1)

    hosted.install(ACME, "Acme", ADA)

    workspace = hosted.edition.registry.workspace(ACME)
    assert (workspace.plan, workspace.uninstalled_at) == ("team", None)
    hosted.clock.advance(days=30)
    assert purge_due(hosted.edition.registry, hosted.settings, hosted.clock) == []


def test_metrics_count_workspaces_and_apps_without_secrets_or_app_names(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")
    hosted.discover(ACME)

    text = hosted.http.get("/metrics").text

    assert 'paastis_workspaces{plan="free",state="installed"} 1.0' in text
    assert f'paastis_workspace_apps{{state="awake",team="{ACME}"}} 3.0' in text
    assert f'paastis_workspace_apps_not_monitored{{team="{ACME}"}} 1.0' in text
    assert "shop" not in text
    assert hosted.token(ACME) not in text


def test_metrics_count_sleeps_wakes_and_how_long_wakes_took(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop")
    hosted.discover(ACME)
    hosted.command(ACME, ADA, "sleep shop")
    assert hosted.slack.wait_for(lambda: any(c.operation == "sleep" for c in hosted.world(ACME).calls))
    hosted.clock.advance(minutes=1)
    hosted.discover(ACME)
    hosted.command(ACME, ADA, "wake shop")
    events = hosted.tenant(ACME).paastis.store
    assert hosted.slack.wait_for(lambda: events.events(actions=("woke",)))

    text = hosted.http.get("/metrics").text

    assert f'paastis_sleeps_total{{team="{ACME}"}} 1.0' in text
    assert f'paastis_wakes_total{{outcome="up",team="{ACME}"}} 1.0' in text
    assert f'paastis_wake_seconds_count{{team="{ACME}"}} 1.0' in text
    assert f'paastis_wake_seconds_bucket{{le="+Inf",team="{ACME}"}} 1.0' in text


def test_metrics_tell_each_connections_provider_calls(with_scalingo: Hosted) -> None:
    hosted = with_scalingo
    hosted.install(ACME, "Acme", ADA)
    hosted.command(ACME, ADA, "connect scalingo")
    hosted.submit(ACME, ADA, hosted.slack.opened[-1]["view"], {"api_token": GOOD_TOKEN, "region": "osc-fr1"})
    hosted.discover(ACME)

    text = hosted.http.get("/metrics").text

    assert f'paastis_provider_throttled{{connection="scalingo-osc-fr1",team="{ACME}"}} 0.0' in text
    calls = [line for line in text.splitlines() if line.startswith("paastis_provider_calls_last_minute{")]
    assert len(calls) == 1
    assert float(calls[0].split()[-1]) >= 1


def test_a_sealer_made_of_another_key_opens_nothing(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    other = Sealer(Fernet.generate_key().decode())

    assert hosted.edition.installations.find_installation(enterprise_id=None, team_id=ACME) is not None
    with pytest.raises(SealBroken, match="no key"):
        other.open(ACME, hosted.edition.registry.installation(ACME))


def test_no_secret_reaches_the_logs_even_at_debug(with_scalingo: Hosted, caplog: pytest.LogCaptureFixture) -> None:
    hosted = with_scalingo
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(Redactor())
    hosted.install(ACME, "Acme", ADA)
    hosted.command(ACME, ADA, "connect scalingo")
    view = hosted.slack.opened[-1]["view"]
    hosted.submit(ACME, ADA, view, {"api_token": "tk-us-acme-wrong-000000000000000", "region": "osc-fr1"})
    hosted.submit(ACME, ADA, view, {"api_token": GOOD_TOKEN, "region": "osc-fr1"})
    hosted.command(ACME, ADA, "status")

    assert "oauth.v2.access" in caplog.text  # slack_sdk's DEBUG lines are there, without the token
    for secret in (GOOD_TOKEN, "tk-us-acme-wrong", hosted.token(ACME), hosted.edition.registry.installation(ACME)):
        assert secret not in caplog.text


def test_the_redaction_masks_tokens_in_text_and_json() -> None:
    line = 'body: {"access_token": "abc123", "team": "T0"} xoxb-1-2-abc tk-us-xyz gAAAAABrEaP3swLSgxwF1b9rqkH4y44'

    assert redact(line) == 'body: {"access_token": "[redacted]", "team": "T0"} [redacted] [redacted] [redacted]'
    typed = '{"secret": {"value": {"type": "plain_text_input", "value": "k3y-typed"}}}'
    assert "k3y-typed" not in redact(typed)
    assert redact("body: payload=%7B%22type%22%3A%22view_submission%22 end") == "body: payload=[redacted] end"


def test_the_operator_wakes_every_app_a_workspace_put_to_sleep_and_after_uninstall_is_told_what_was_asleep(
    tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> None:
    world = SimulatedPaas(clock)
    FakeDeployment(world).populate([{"name": "shop"}, {"name": "blog"}], boot_seconds=20.0)

    def deps_for(spec: ProviderSpec) -> ProviderDeps:  # serve and the command see the same PaaS
        return ProviderDeps(clock=clock, transport=world)

    hosted = Hosted(tmp_path, clock, slack, deps_for=deps_for)
    try:
        hosted.install(ACME, "Acme", ADA)
        hosted.connect_fake(ACME, ADA, "shop, blog")
        hosted.discover(ACME)
        hosted.command(ACME, ADA, "sleep shop")
        assert slack.wait_for(lambda: any(c.operation == "sleep" for c in world.calls))
        clock.advance(minutes=1)
        hosted.discover(ACME)
        out = io.StringIO()

        assert wake_all(hosted.settings, ACME, out, clock=clock, deps_for=deps_for) == 0

        assert "1 app(s) asleep in T0ACME, each woken: shop" in out.getvalue()
        assert [c.app for c in world.calls if c.operation == "wake"] == ["shop"]
        hosted.command(ACME, ADA, "sleep blog")
        assert slack.wait_for(lambda: any(c.operation == "sleep" and c.app == "blog" for c in world.calls))
        clock.advance(minutes=1)
        hosted.discover(ACME)
        hosted.event(ACME, {"type": "app_uninstalled"})
        assert slack.wait_for(lambda: hosted.edition.registry.workspace(ACME).uninstalled_at is not None)
        after = io.StringIO()
        assert wake_all(hosted.settings, ACME, after, clock=clock, deps_for=deps_for) == 1
        assert "no provider credentials left (deleted at uninstall); asleep then: blog" in after.getvalue()
    finally:
        hosted.close()


def test_metrics_count_each_workspaces_slack_calls_and_429s(hosted: Hosted) -> None:
    for team, name, user in ((ACME, "Acme", ADA), (BETA, "Beta", CAROL)):
        hosted.install(team, name, user)
        hosted.edition.registry.set_settings(team, "C0OPS", None, "")
        hosted.connect_fake(team, user, "shop")
    hosted.slack.rate_limit("chat.postMessage", retry_after=1)  # Acme's report is refused once, then posted

    hosted.tenant(ACME).paastis.post_report()
    assert hosted.slack.wait_for(lambda: len(hosted.slack.messages) == 1)
    text = hosted.http.get("/metrics").text

    assert f'paastis_slack_calls_total{{method="chat.postMessage",team="{ACME}"}} 2.0' in text
    assert f'paastis_slack_rate_limited_total{{method="chat.postMessage",team="{ACME}"}} 1.0' in text
    assert f'team="{BETA}"' in text  # Beta is running…
    assert f'paastis_slack_calls_total{{method="chat.postMessage",team="{BETA}"}}' not in text  # … and posted nothing
