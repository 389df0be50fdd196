"""The Clever Cloud client signs, follows and reads as Clever Cloud's own clients do (issue 13),
and an optional read never blocks a sleep or a wake (issue 11): against the fake API, which
behaves as the real one is known (or may be expected) to.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests.adapters import HTTPAdapter

from bot.engine.wake_jobs import Phase
from providers import parse_spec
from providers.base import AppState, PaasApp, ProviderDeps
from providers.clever_cloud import CleverCloudProvider, build
from providers.clever_cloud.fake_api import FakeCleverCloudServer
from providers.clever_cloud.signing import oauth1
from providers.fake import SimulatedPaas
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock
from tests.providers.clever_cloud.kit import ZONE, add, make_client, make_provider

# -- signature ----------------------------------------------------------------------------------


def test_requests_are_signed_plaintext_with_oauth_version_as_clever_clients_sign(fake, provider, world) -> None:
    add(world, "front")

    provider.list_apps()

    assert {r.signed_with for r in fake.api.requests} == {"PLAINTEXT 1.0"}


class WithoutVersion(OAuthClient):
    def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
        return [p for p in super().get_oauth_params(request) if p[0] != "oauth_version"]


def test_the_fake_refuses_hmac_without_oauth_version_as_the_api_may(fake: FakeCleverCloudServer, world) -> None:
    add(world, "front")
    credentials = fake.api.credentials

    bare = requests.get(
        fake.url + "/v2/self", auth=oauth1(credentials, "HMAC-SHA512", client_class=WithoutVersion), timeout=5
    )
    versioned = requests.get(fake.url + "/v2/self", auth=oauth1(credentials, "HMAC-SHA512"), timeout=5)
    plaintext = requests.get(
        fake.url + "/v2/self", auth=oauth1(credentials, "PLAINTEXT", client_class=WithoutVersion), timeout=5
    )

    assert bare.status_code == 401
    assert bare.json()["message"] == "Unauthorized: HMAC-SHA512 without oauth_version 1.0"
    assert (versioned.status_code, plaintext.status_code) == (200, 200)


def test_hmac_stays_an_option_and_is_sent_with_its_version(fake, clock: FakeClock, world: SimulatedPaas) -> None:
    add(world, "front")

    apps = make_provider(fake, clock, signature_method="HMAC-SHA512").list_apps()

    assert [a.name for a in apps] == ["front"]
    assert {r.signed_with for r in fake.api.requests} == {"HMAC-SHA512 1.0"}


# -- following a wake -----------------------------------------------------------------------


def follow(provider, clock: FakeClock, app_id: str, *, limit: float = 600) -> list[PaasApp]:
    """get_app at every poll_interval, as the bot does, until the app is neither waking nor asleep."""
    seen = [provider.get_app(app_id)]
    started = clock.now()
    while seen[-1].state in (AppState.WAKING, AppState.SLEEPING) and clock.now() - started < timedelta(seconds=limit):
        clock.advance(seconds=provider.poll_interval)
        seen.append(provider.get_app(app_id))
    return seen


def test_the_fake_boots_through_wants_to_be_up_with_a_deploy_ok_and_no_instance_up(fake, clock, world) -> None:
    app_id = add(world, "slow", running=False, boot_seconds=40)
    client = make_provider(fake, clock)._client
    base = f"/v2/self/applications/{app_id}"

    redeploy = client.post(f"{base}/instances")
    too_soon = client.get(f"{base}/deployments", {"limit": 5})
    clock.advance(seconds=38)  # 2 s before it is up
    app, deployments, instances = (
        client.get(base),
        client.get(f"{base}/deployments", {"limit": 5}),
        client.get(f"{base}/instances"),
    )

    assert too_soon == []
    assert app["state"] == "WANTS_TO_BE_UP"
    assert (deployments[0]["uuid"], deployments[0]["state"]) == (redeploy["deploymentId"], "OK")
    assert [i["state"] for i in instances] == ["DEPLOYING"]


def test_a_wake_is_followed_through_wants_to_be_up_until_the_app_runs(fake, provider, clock, world) -> None:
    app_id = add(world, "review-9", running=False, boot_seconds=40)
    asleep = next(a for a in provider.list_apps() if a.id == app_id)
    mark = len(fake.api.requests)

    provider.wake(asleep, None)
    seen = follow(provider, clock, app_id)

    assert {a.state for a in seen[:-1]} == {AppState.WAKING}
    assert seen[-1].state is AppState.RUNNING
    deployment_reads = [r.query.get("limit") for r in fake.api.requests[mark:] if r.path.endswith("/deployments")]
    assert deployment_reads
    assert set(deployment_reads) == {"5"}  # matched by uuid among the last five, never limit=1
    assert not [r for r in fake.api.requests[mark:] if "/deployments/" in r.path]  # never fetched by id


def test_a_wake_through_the_engine_is_told_up_not_failed(tmp_path, fake, provider, clock, world) -> None:
    # its deployment reads OK from 44 s while no instance is UP yet (getStatus: "unknown")
    app_id = add(world, "crm-staging", running=False, boot_seconds=47)
    h = Harness(tmp_path / "p.db", clock, world=world, provider=provider)
    h.discover()

    progress = h.wake("crm-staging")

    assert progress.phase is Phase.UP, progress.main.reason
    assert world.app(app_id).state is AppState.RUNNING
    assert timedelta(seconds=47) <= progress.elapsed <= timedelta(seconds=49)  # up within a tick or two


def test_a_failed_redeploy_is_still_told_failed_while_followed(fake, provider, clock, world) -> None:
    app_id = add(world, "broken", running=False, boot_seconds=30)
    world.fail("boot", app_id)
    provider.list_apps()

    provider.wake(provider.get_app(app_id), None)
    seen = follow(provider, clock, app_id)

    assert seen[-1].state is AppState.CRASHED
    assert "failed" in (seen[-1].problem or "")


# -- 404 on sub-resources, and optional reads ------------------------------------------------


def test_a_never_deployed_app_reads_as_asleep_not_as_missing(fake, provider, world) -> None:
    app_id = add(world, "fresh", never_deployed=True)

    app = provider.get_app(app_id)

    assert app.state is AppState.SLEEPING
    assert app.problem is None
    assert any(r.path.endswith("/deployments") for r in fake.api.requests)


@pytest.mark.parametrize("status", [404, 500])
def test_a_failing_environment_read_never_blocks_a_sleep(fake, provider, clock, world, status) -> None:
    app_id = add(world, "api", formation={"web": 2, "worker": 1})
    app = provider.list_apps()[0]
    fake.api.fail_path("/env", status, times=-1)

    ran = provider.sleep(app)
    clock.advance(minutes=1)

    assert world.app(app_id).state is AppState.SLEEPING
    assert ran.amount("web") == 2
    assert ran.amount("worker") == 0  # unknown: left out, the sleep went on


def test_failing_optional_reads_degrade_what_get_app_says_never_the_app(fake, provider, world) -> None:
    app_id = add(world, "api", formation={"web": 1, "worker": 1})
    provider.list_apps()
    for suffix in ("/env", "/vhosts/favourite", "/deployments"):
        fake.api.fail_path(suffix, 500, times=-1)

    app = provider.get_app(app_id)

    assert app.state is AppState.RUNNING
    assert app.formation.amount("web") == 1
    assert app.url == f"https://{app_id.replace('_', '-')}.cleverapps.io"  # the default vhost, from the app
    for what in ("the worker count", "the favourite domain", "the deployments"):
        assert f"{what} could not be read" in (app.problem or "")
    assert "has no app" not in (app.problem or "")


def test_a_wake_comes_up_though_its_deployments_cannot_be_read(fake, provider, clock, world) -> None:
    app_id = add(world, "api", running=False, boot_seconds=30)
    provider.list_apps()
    fake.api.fail_path("/deployments", 500, times=-1)

    provider.wake(provider.get_app(app_id), None)
    seen = follow(provider, clock, app_id)

    assert seen[-1].state is AppState.RUNNING


# -- access-log stream timeouts ---------------------------------------------------------------


def provider_with(fake: FakeCleverCloudServer, clock: FakeClock, **settings: Any) -> CleverCloudProvider:
    return CleverCloudProvider(name="clever-par", client=make_client(fake, clock, **settings), clock=clock, zone=ZONE)


def test_a_slow_first_byte_costs_no_retry_and_no_call(fake, clock, world) -> None:
    app_id = add(world, "busy")
    provider = provider_with(fake, clock, silence_timeout=0.2)  # heartbeats 0.05 s apart on this fake
    app = provider.list_apps()[0]
    since = clock.now()
    clock.advance(minutes=2)
    world.hit(app_id)
    clock.advance(minutes=1)
    fake.api.fault_stream("slow_start", seconds=0.6)  # the answer starts 3 silences late

    activity = provider.activity(app, since)

    assert activity.requests == 1
    assert len([r for r in fake.api.requests if r.path.endswith("/accesslogs")]) == 1


def test_streams_connect_in_5_s_and_allow_the_ordinary_timeout_for_their_first_bytes(fake, clock, world) -> None:
    add(world, "busy")
    timeouts: dict[str, Any] = {}

    class Recording(HTTPAdapter):
        def send(self, request, **kw):  # type: ignore[no-untyped-def]
            timeouts[request.path_url.split("?")[0].rsplit("/", 1)[-1]] = kw.get("timeout")
            return super().send(request, **kw)

    spec, _ = parse_spec("clever-cloud", fake.options(zone=ZONE), where="test")
    provider = build(spec, ProviderDeps(clock=clock, transport=Recording()))

    provider.activity(provider.list_apps()[0], clock.now() - timedelta(minutes=5))

    assert timeouts["accesslogs"] == (5.0, 15.0)  # connect, first bytes; then 4 s between heartbeats
    assert timeouts["applications"] == (15.0, 15.0)
