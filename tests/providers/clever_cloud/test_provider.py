"""The Clever Cloud provider against its fake API, over loopback HTTP, on a fake clock.

What a user of Paastis on Clever Cloud would notice: signed requests get in and bad
credentials get a clear refusal; apps of the personal space and of organisations are
managed, apps of other zones never; states read as Clever Cloud's own tools read them;
the Open link is the one the Console opens; activity is never lost nor invented, and
Paastis's own redeploys are not taken for use; the API is called a known number of times.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests.adapters import HTTPAdapter

from providers import parse_spec, provider_type
from providers.base import (
    ActivityUnavailable,
    AppNotFound,
    AppState,
    AuthenticationFailed,
    PaasApp,
    ProviderDeps,
    ProviderUnavailable,
    RateLimited,
)
from providers.clever_cloud import CleverCloudProvider, build
from providers.clever_cloud.signing import Credentials, oauth1
from providers.clever_cloud.sse import SseDecoder, SseEvent
from providers.clever_cloud.state import app_status, open_url
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.providers.clever_cloud.kit import ORG, ZONE, add, calls_since, make_client, make_provider, settle

# -- OAuth 1 -------------------------------------------------------------------------------

RFC_CREDENTIALS = Credentials("dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")


class Unversioned(OAuthClient):
    """A signer without `oauth_version`, as RFC 5849's examples (and no Clever Cloud client) sign."""

    def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
        return [p for p in super().get_oauth_params(request) if p[0] != "oauth_version"]


def signed_header(credentials: Credentials, method: str, url: str, **fixed: Any) -> str:
    request = requests.Request("GET", url, auth=oauth1(credentials, method, **fixed)).prepare()
    header = request.headers["Authorization"]
    return header.decode() if isinstance(header, bytes) else header


def test_the_rfc_5849_hmac_sha1_example_gets_its_published_signature() -> None:
    header = signed_header(
        RFC_CREDENTIALS,
        "HMAC-SHA1",
        "http://photos.example.net/photos?file=vacation.jpg&size=original",
        nonce="chapoH",
        timestamp="137131202",
        realm="Photos",
        client_class=Unversioned,
    )

    assert 'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"' in header  # RFC 5849 §1.2


def test_plaintext_signs_with_both_secrets_encoded_and_joined_by_an_ampersand() -> None:
    # RFC 5849 §2.3's request: client secret ja893SD9, token secret xyz4992k83j47x0b
    rfc = signed_header(
        Credentials("jd83jd92dhsh93js", "ja893SD9", "hdk48Djdsa", "xyz4992k83j47x0b"),
        "PLAINTEXT",
        "https://server.example.com/request_token",
    )
    # §3.4.4: each secret is percent-encoded (§3.6) before the join, then the whole is encoded again
    reserved = signed_header(Credentials("ck", "a b&c", "t", "d/e"), "PLAINTEXT", "https://example.com/")

    assert 'oauth_signature="ja893SD9%26xyz4992k83j47x0b"' in rfc
    assert 'oauth_signature="a%2520b%2526c%26d%252Fe"' in reserved


@pytest.mark.parametrize("method", ["HMAC-SHA512", "HMAC-SHA1", "PLAINTEXT"])
def test_every_signature_method_is_accepted_by_the_api(fake, clock, world, method) -> None:
    add(world, "front")

    apps = make_provider(fake, clock, signature_method=method).list_apps()

    assert [a.name for a in apps] == ["front"]


@pytest.mark.parametrize("method", ["PLAINTEXT", "HMAC-SHA512"])
def test_a_wrong_secret_is_refused_with_a_clear_message_that_shows_no_secret(
    fake, clock, world, caplog, method
) -> None:
    add(world, "front")
    caplog.set_level(logging.DEBUG)
    provider = make_provider(fake, clock, secret="wrong-token-secret-7f3a", signature_method=method)

    with pytest.raises(AuthenticationFailed) as refused:
        provider.list_apps()

    message = str(refused.value)
    assert "refused" in message
    assert "PROVIDER_CLEVER_SECRET" in message
    assert "invalid OAuth signature" in message
    shown = message + caplog.text + repr(provider) + repr(provider._client)
    for secret in ("wrong-token-secret-7f3a", fake.api.credentials.consumer_secret):
        assert secret not in shown
    assert len([r for r in fake.api.requests if r.path == "/v2/summary"]) == 1  # a refusal is not retried


def test_the_fake_refuses_an_hmac_signature_made_with_another_secret(fake, world) -> None:
    add(world, "front")
    good = fake.api.credentials
    forged = Credentials(good.consumer_key, "not-the-consumer-secret", good.token, good.secret)

    answer = requests.get(fake.url + "/v2/self", auth=oauth1(forged, "HMAC-SHA512"), timeout=5)
    signed = requests.get(fake.url + "/v2/self?x=1", auth=oauth1(good, "HMAC-SHA512"), timeout=5)

    assert answer.status_code == 401
    assert answer.json()["message"] == "Unauthorized: invalid OAuth signature"
    assert signed.status_code == 200
    assert signed.json()["id"] == fake.api.user["id"]


# -- state, the way clever-client's getStatus computes it ----------------------------------

UP, DEPLOYING, STOPPING = {"state": "UP"}, {"state": "DEPLOYING"}, {"state": "STOPPING"}


@pytest.mark.parametrize(
    ("app", "deployment", "instances", "expected", "clever"),
    [
        ({"state": "SHOULD_BE_DOWN"}, {"action": "UNDEPLOY", "state": "OK"}, [], AppState.SLEEPING, "stopped"),
        ({"state": "SHOULD_BE_DOWN"}, {"action": "UNDEPLOY", "state": "WIP"}, [STOPPING], AppState.STOPPING, "stopped"),
        ({"state": "WANTS_TO_BE_UP"}, {"action": "DEPLOY", "state": "WIP"}, [DEPLOYING], AppState.WAKING, "starting"),
        ({"state": "WANTS_TO_BE_UP"}, {"action": "DEPLOY", "state": "FAIL"}, [], AppState.CRASHED, "start-failed"),
        (
            {"state": "SHOULD_BE_UP", "homogeneous": True},
            {"state": "WIP"},
            [],
            AppState.WAKING,
            "restarting-with-downtime",
        ),
        (
            {"state": "SHOULD_BE_UP", "homogeneous": False},
            {"state": "WIP"},
            [UP, DEPLOYING],
            AppState.WAKING,
            "restarting",
        ),
        ({"state": "SHOULD_BE_UP"}, {"state": "FAIL"}, [UP], AppState.CRASHED, "restart-failed"),
        ({"state": "SHOULD_BE_UP"}, {"state": "OK"}, [UP, UP], AppState.RUNNING, "running"),
        ({"state": "SHOULD_BE_UP"}, None, [UP], AppState.RUNNING, "running"),
        ({"state": "SHOULD_BE_UP"}, {"state": "OK"}, [], AppState.UNKNOWN, "unknown"),
        ({"state": "MODERATED"}, {"state": "OK"}, [UP], AppState.UNKNOWN, "unknown"),
        ({"state": "DEFAULT_OF_PAYMENT"}, None, [], AppState.UNKNOWN, "unknown"),
    ],
)
def test_every_state_get_status_tells_apart(app, deployment, instances, expected, clever) -> None:
    status = app_status({"id": "app_x", **app}, deployment, instances)

    assert (status.state, status.clever) == (expected, clever)
    assert bool(status.problem) == (expected in (AppState.CRASHED, AppState.UNKNOWN))


def test_unknown_states_say_why_in_words() -> None:
    moderated = app_status({"state": "MODERATED"}, None, [])
    unpaid = app_status({"state": "DEFAULT_OF_PAYMENT"}, None, [])
    no_instance = app_status({"state": "SHOULD_BE_UP"}, {"state": "OK"}, [])

    assert "moderated" in moderated.problem
    assert "unpaid invoice" in unpaid.problem
    assert "none of its instances is UP" in no_instance.problem


def test_a_wake_goes_from_sleeping_through_waking_to_running(provider, clock, world) -> None:
    app_id = add(world, "review-42", running=False, boot_seconds=180)
    provider.list_apps()

    before = provider.get_app(app_id)
    provider.wake(before, None)
    waking = provider.get_app(app_id)
    clock.advance(seconds=181)
    running = provider.get_app(app_id)

    assert before.state is AppState.SLEEPING
    assert before.formation.amount("web") == 0
    assert waking.state is AppState.WAKING
    assert ("clever_status", "starting") in waking.details
    assert running.state is AppState.RUNNING
    assert running.formation.amount("web") == 1


def wake_a_broken_app(provider: CleverCloudProvider, world: SimulatedPaas) -> str:
    app_id = add(world, "broken", running=False)
    world.fail("boot", app_id)
    provider.list_apps()
    provider.wake(provider.get_app(app_id), None)
    return app_id


def test_a_failed_redeploy_ends_crashed_with_a_clear_reason(provider, clock, world) -> None:
    app_id = wake_a_broken_app(provider, world)

    app = settle(provider, clock, app_id)

    deployment = dict(app.details)["deployment"]
    assert app.state is AppState.CRASHED
    assert app.problem == (
        f"the Clever Cloud deployment {deployment} failed (start-failed). Its logs: "
        f"clever logs --app {app_id} --deployment-id {deployment}"
    )


def test_a_crashed_app_listed_with_a_coarse_state_is_corrected_by_get_app(provider, clock, world) -> None:
    app_id = wake_a_broken_app(provider, world)
    clock.advance(minutes=5)

    listed = next(a for a in provider.list_apps() if a.id == app_id)

    assert listed.state is AppState.WAKING  # app.state alone: WANTS_TO_BE_UP
    assert provider.get_app(app_id).state is AppState.CRASHED


# -- zones and owners ------------------------------------------------------------------------


def test_an_app_of_another_zone_is_never_listed_nor_touched(fake, provider, clock, world) -> None:
    here = add(world, "here")
    there = add(world, "there", zone="rbx")
    stranger = PaasApp(provider=provider.name, id=there, name="there", state=AppState.SLEEPING)

    listed = [a.id for a in provider.list_apps()]
    for attempt in (
        lambda: provider.get_app(there),
        lambda: provider.sleep(stranger),
        lambda: provider.wake(stranger, None),
        lambda: provider.activity(stranger, clock.now()),
    ):
        with pytest.raises(AppNotFound, match="in zone par"):
            attempt()

    assert listed == [here]
    assert not [r for r in fake.api.requests if there in r.path]
    assert world.app(there).state is AppState.RUNNING


def test_one_provider_per_zone_is_named_after_it_and_an_empty_zone_means_every_zone(fake, clock, world) -> None:
    add(world, "here")
    add(world, "there", zone="rbx")
    ptype = provider_type("clever-cloud")

    everywhere = make_provider(fake, clock, zone="")

    assert sorted(a.name for a in everywhere.list_apps()) == ["here", "there"]
    assert ptype.default_name({"zone": "rbx"}) == "clever-rbx"
    assert ptype.default_name({"zone": ""}) == "clever-cloud"


def test_an_organisation_app_is_managed_like_a_personal_one(fake, provider, clock, world) -> None:
    mine = add(world, "mine")
    theirs = add(world, "theirs", owner=ORG)

    apps = {a.id: a for a in provider.list_apps()}
    mark = len(fake.api.requests)
    provider.sleep(apps[theirs])
    provider.activity(apps[theirs], clock.now() - timedelta(minutes=5))
    provider.activity(apps[mine], clock.now() - timedelta(minutes=5))

    assert set(apps) == {mine, theirs}
    assert dict(apps[theirs].details)["owner"] == ORG
    paths = [path for _, path in calls_since(fake, mark)]
    assert f"/v2/organisations/{ORG}/applications/{theirs}/instances" in paths
    assert f"/v4/accesslogs/organisations/{ORG}/applications/{theirs}/accesslogs" in paths
    assert f"/v4/accesslogs/organisations/{fake.api.user['id']}/applications/{mine}/accesslogs" in paths
    assert world.app(theirs).state is AppState.STOPPING


# -- the Open link --------------------------------------------------------------------------

DEFAULT = "app-0210ab5c-1d2e-4f3a-8b9c-0d1e2f3a4b5c.cleverapps.io/"


@pytest.mark.parametrize(
    ("vhosts", "favourite", "expected"),
    [
        ([DEFAULT, "shop.example.com/", "shop.cleverapps.io/"], "shop.cleverapps.io/", "https://shop.cleverapps.io"),
        ([DEFAULT, "shop.cleverapps.io/", "www.shop.example.com/"], None, "https://www.shop.example.com"),
        ([DEFAULT, "shop.cleverapps.io/"], None, "https://shop.cleverapps.io"),
        ([DEFAULT], None, "https://app-0210ab5c-1d2e-4f3a-8b9c-0d1e2f3a4b5c.cleverapps.io"),
        (["example.com/api/"], None, "https://example.com/api"),
        (
            ["app_0210ab5c-1d2e-4f3a-8b9c-0d1e2f3a4b5c.cleverapps.io/"],
            None,
            "https://app-0210ab5c-1d2e-4f3a-8b9c-0d1e2f3a4b5c.cleverapps.io",
        ),
        ([], None, None),
    ],
    ids=[
        "favourite first",
        "then a custom domain",
        "then a cleverapps name",
        "then the default",
        "path kept, slash dropped",
        "never app_",
        "no vhost, no link",
    ],
)
def test_the_open_link(vhosts, favourite, expected) -> None:
    assert open_url([{"fqdn": v} for v in vhosts], favourite) == expected


def test_get_app_opens_the_favourite_vhost_and_list_apps_remembers_it(fake, provider, world) -> None:
    app_id = add(world, "shop")
    default = app_id.replace("_", "-") + ".cleverapps.io/"
    fake.api.set_vhosts(app_id, [default, "shop.example.com/"], favourite="www.shop.example.com/")

    listed_before = provider.list_apps()[0].url
    fetched = provider.get_app(app_id).url
    listed_after = provider.list_apps()[0].url

    assert listed_before == "https://shop.example.com"  # no favourite known yet: the custom domain
    assert fetched == listed_after == "https://www.shop.example.com"


def test_an_app_without_favourite_vhost_opens_its_default_domain(provider, world) -> None:
    app_id = add(world, "plain")

    assert provider.get_app(app_id).url == f"https://{app_id.replace('_', '-')}.cleverapps.io"


# -- activity ----------------------------------------------------------------------------------


def hits(world: SimulatedPaas, clock: FakeClock, app_id: str, count: int, every: float = 30.0) -> list:
    times = []
    for _ in range(count):
        clock.advance(seconds=every)
        world.hit(app_id)
        times.append(clock.now())
    return times


def test_a_cut_access_log_stream_resumes_without_losing_or_double_counting(fake, provider, clock, world) -> None:
    app_id = add(world, "busy")
    app = provider.list_apps()[0]
    since = clock.now()
    times = hits(world, clock, app_id, 5)
    fake.api.fault_stream("cut", after=2)

    activity = provider.activity(app, since)

    streams = [r for r in fake.api.requests if r.path.endswith("/accesslogs")]
    assert (activity.requests, activity.last_request_at) == (5, times[-1])
    assert [s.last_event_id is None for s in streams] == [True, False]
    assert streams[1].query["limit"] == "98"
    assert streams[1].query["since"] == streams[0].query["since"]


def test_an_access_log_stream_silent_past_its_heartbeats_is_unknown_not_idle(fake, clock, world) -> None:
    app_id = add(world, "quiet")
    client = make_client(fake, clock, silence_timeout=0.2)
    provider = CleverCloudProvider(name="clever-par", client=client, clock=clock, zone=ZONE)
    app = provider.list_apps()[0]
    fake.api.fault_stream("silence", times=3, seconds=1.0)

    with pytest.raises(ActivityUnavailable, match=r"not even a heartbeat, for 0\.2 s"):
        provider.activity(app, clock.now() - timedelta(minutes=15))
    assert world.app(app_id).state is AppState.RUNNING


def test_an_unreadable_access_log_is_unknown_not_idle(fake, provider, clock, world) -> None:
    add(world, "garbled")
    app = provider.list_apps()[0]
    fake.api.fault_stream("garbage")

    with pytest.raises(ActivityUnavailable, match="cannot read"):
        provider.activity(app, clock.now() - timedelta(minutes=15))


def test_paastis_own_redeploys_are_not_use_but_a_developer_deploy_is(provider, clock, world) -> None:
    app_id = add(world, "review-7", running=False)
    since = clock.now()
    provider.list_apps()
    provider.wake(provider.get_app(app_id), None)
    settle(provider, clock, app_id)
    clock.advance(minutes=10)
    after_wake = provider.activity(provider.get_app(app_id), since)
    world.deploy(app_id)
    pushed = clock.now()
    clock.advance(minutes=1)

    after_push = provider.activity(provider.get_app(app_id), since)

    assert after_wake.last_deploy_at is None
    assert after_push.last_deploy_at == pushed


def test_a_busy_window_dates_its_newest_request_late_never_early(fake, provider, clock, world) -> None:
    app_id = add(world, "popular", steady_every=5.0)
    app = provider.list_apps()[0]
    since = clock.now()
    clock.advance(minutes=15)  # 180 requests: more than one query returns
    provider.list_apps()
    true_newest = world.request_times(app_id, since, clock.now())[-1]
    mark = len(fake.api.requests)

    activity = provider.activity(app, since)

    assert activity.requests >= 100
    assert true_newest <= activity.last_request_at <= true_newest + timedelta(seconds=60)
    assert len(calls_since(fake, mark)) == 3  # the window, the tail probe, the deployments


# -- retries -----------------------------------------------------------------------------------


def test_a_503_is_retried_with_back_off(fake, provider, clock, world) -> None:
    app_id = add(world, "flaky")
    provider.list_apps()
    world.fail("get", app_id, ProviderUnavailable("maintenance"), times=2)
    started = clock.now()

    app = provider.get_app(app_id)

    assert app.state is AppState.RUNNING
    assert len([r for r in fake.api.requests if r.path.endswith(f"/applications/{app_id}")]) == 3
    assert clock.now() - started == timedelta(seconds=1 + 2)


def test_an_api_that_stays_down_is_unavailable_after_four_attempts(fake, provider, clock, world) -> None:
    add(world, "any")
    world.fail("list", None, ProviderUnavailable("maintenance"), times=-1)
    started = clock.now()

    with pytest.raises(ProviderUnavailable, match=r"HTTP 503 .* after 4 attempts"):
        provider.list_apps()

    assert len(fake.api.requests) == 4
    assert clock.now() - started == timedelta(seconds=1 + 2 + 4)


def test_a_429_waits_retry_after_then_gives_up_rate_limited(fake, provider, clock, world) -> None:
    app_id = add(world, "any")
    provider.list_apps()
    world.fail("get", app_id, RateLimited("slow down", retry_after=5), times=-1)
    started = clock.now()

    with pytest.raises(RateLimited) as limited:
        provider.get_app(app_id)

    assert limited.value.retry_after == 5
    assert clock.now() - started >= timedelta(seconds=3 * 5)
    assert provider.budget().throttled_until is not None


def test_a_redeploy_is_not_sent_twice_on_a_503(fake, provider, world) -> None:
    app_id = add(world, "asleep", running=False)
    app = next(a for a in provider.list_apps() if a.id == app_id)
    world.fail("wake", app_id, ProviderUnavailable("maintenance"))

    with pytest.raises(ProviderUnavailable):
        provider.wake(app, None)

    assert len([r for r in fake.api.requests if r.method == "POST"]) == 1


def test_an_unreadable_ca_bundle_is_a_provider_error(clock) -> None:
    spec, _ = parse_spec(
        "clever-cloud",
        {"api_host": "https://127.0.0.1:9", "consumer_key": "k", "consumer_secret": "s", "token": "t", "secret": "s2"},
        where="test",
    )
    provider = build(spec, ProviderDeps(clock=clock, ca_bundle="/nonexistent/ca.pem"))

    with pytest.raises(ProviderUnavailable, match="CA bundle"):
        provider.list_apps()


# -- calls, formation, configuration ----------------------------------------------------------


def test_sleep_wake_and_activity_cost_a_known_number_of_calls(fake, provider, clock, world) -> None:
    app_id = add(world, "api", formation={"web": 2, "worker": 1})
    app = provider.list_apps()[0]

    mark = len(fake.api.requests)
    ran = provider.sleep(app)
    sleep_calls = calls_since(fake, mark)
    clock.advance(minutes=1)
    asleep = provider.get_app(app_id)
    mark = len(fake.api.requests)
    provider.wake(asleep, ran)
    wake_calls = calls_since(fake, mark)
    mark = len(fake.api.requests)
    provider.activity(asleep, clock.now() - timedelta(minutes=15))
    activity_calls = calls_since(fake, mark)

    base = f"/v2/self/applications/{app_id}"
    assert sleep_calls == [("GET", f"{base}/instances"), ("GET", f"{base}/env"), ("DELETE", f"{base}/instances")]
    assert wake_calls == [("POST", f"{base}/instances")]
    assert [m for m, _ in activity_calls] == ["GET", "GET"]
    assert activity_calls[0][1].endswith(f"/applications/{app_id}/accesslogs")
    assert activity_calls[1][1] == f"{base}/deployments"
    assert ran.amount("web") == 2
    assert ran.amount("worker") == 1


def test_get_app_and_list_apps_cost_a_known_number_of_calls(fake, provider, world) -> None:
    app_id = add(world, "api")
    add(world, "theirs", owner=ORG)

    mark = len(fake.api.requests)
    provider.list_apps()
    first_list = len(calls_since(fake, mark))
    mark = len(fake.api.requests)
    provider.list_apps()
    second_list = len(calls_since(fake, mark))
    mark = len(fake.api.requests)
    provider.get_app(app_id)
    cold = len(calls_since(fake, mark))
    mark = len(fake.api.requests)
    provider.get_app(app_id)
    warm = len(calls_since(fake, mark))

    assert (first_list, second_list) == (1 + 2, 2)  # summary once, then one call per owner
    assert (cold, warm) == (5, 3)  # app, instances, deployments (+ favourite, env until cached)


def test_the_formation_is_web_instances_of_a_flavor_and_worker_commands(provider, world, caplog) -> None:
    from providers.base import Formation, Process

    caplog.set_level(logging.DEBUG)
    app_id = add(world, "api", formation=Formation((Process("web", 3, "S"), Process("worker", 2))))

    app = provider.get_app(app_id)

    assert app.formation == Formation((Process("web", 3, "S"), Process("worker", 2)))
    assert "fake-db-password" not in caplog.text  # variables' values are never kept nor logged


def test_a_transport_given_by_the_composition_root_carries_every_call(fake, clock, world) -> None:
    add(world, "front")
    seen = []

    class Recording(HTTPAdapter):
        def send(self, request, **kw):  # type: ignore[no-untyped-def]
            seen.append(request.path_url)
            return super().send(request, **kw)

    spec, _ = parse_spec("clever-cloud", fake.options(zone=ZONE), where="test")
    provider = build(spec, ProviderDeps(clock=clock, transport=Recording()))

    provider.list_apps()

    assert seen == ["/v2/summary", "/v2/self/applications", f"/v2/organisations/{ORG}/applications"]


def test_options_defaults_and_problems() -> None:
    _spec, problems = parse_spec("clever-cloud", {"zone": "Par!", "signature_method": "RSA-SHA1"}, where="clever")

    assert sorted(p.key for p in problems) == [
        "clever.consumer_key",
        "clever.consumer_secret",
        "clever.secret",
        "clever.signature_method",
        "clever.token",
        "clever.zone",
    ]
    good, none = parse_spec(
        "clever-cloud",
        {"consumer_key": "k", "consumer_secret": "cs", "token": "t", "secret": "ts", "zone": "MTL"},
        where="clever",
    )
    assert not none
    assert good.name == "clever-mtl"
    assert good.options["api_host"] == "https://api.clever-cloud.com"
    assert good.options["signature_method"] == "PLAINTEXT"
    assert good.options["operation_timeout"] == 900
    assert "cs" not in repr(good)
    assert good.redacted()["consumer_secret"] == "<redacted>"


def test_the_wake_timeout_fits_minutes_long_redeploys_and_polls_fit_the_budget(fake, clock) -> None:
    provider = make_provider(fake, clock, operation_timeout="20m", rate_limit=30)

    assert 0 < provider.poll_interval <= 60 * 3 / (30 - 6)  # a full read (3 calls) outside the reserve
    assert provider.wake_timeout == 1200
    assert provider.budget().limit_per_minute == 30


# -- server-sent events framing ------------------------------------------------------------------


def test_sse_events_survive_any_chunking() -> None:
    payload = (
        "event: HEARTBEAT\r\ndata: {}\r\n\r\n: a comment\n"
        'event: ACCESS_LOG\ndata: {"city":\ndata: "Montréal"}\nid: 12-0\n\n'
    ).encode()
    whole = SseDecoder().feed(payload)
    decoder = SseDecoder()
    pieces = [e for i in range(len(payload)) for e in decoder.feed(payload[i : i + 1])]

    assert (
        whole
        == pieces
        == [
            SseEvent("HEARTBEAT", "{}", None),
            SseEvent("ACCESS_LOG", '{"city":\n"Montréal"}', "12-0"),
        ]
    )


# -- the fake itself: the shapes the documentation describes ------------------------------------


def test_the_fake_answers_in_the_documented_shapes(fake, clock, world) -> None:
    client = make_client(fake, clock)
    app_id = add(world, "api", running=False, boot_seconds=60)
    add(world, "theirs", owner=ORG)
    user = fake.api.user["id"]

    summary = client.get("/v2/summary")
    organisations = client.get("/v2/organisations")
    apps = client.get("/v2/self/applications")
    redeploy = client.post(f"/v2/self/applications/{app_id}/instances")
    unlisted = client.get(f"/v2/self/applications/{app_id}/deployments", {"limit": 1})
    clock.advance(seconds=2)  # a fresh deployment is listed a moment later
    deploying = client.get(f"/v2/self/applications/{app_id}/deployments", {"limit": 1})
    clock.advance(seconds=59)
    deployed = client.get(f"/v2/self/applications/{app_id}/deployments", {"limit": 1})
    no_favourite = requests.get(
        f"{fake.url}/v2/self/applications/{app_id}/vhosts/favourite",
        auth=oauth1(fake.api.credentials, "PLAINTEXT"),
        timeout=5,
    )

    assert summary["user"]["id"] == user
    assert [o["id"] for o in summary["organisations"]] == [user, ORG]  # the personal space is listed too
    assert organisations == [{"id": ORG, "name": "Acme"}]
    assert isinstance(apps, list)
    assert [a["id"] for a in apps] == [app_id]
    assert apps[0]["state"] == "SHOULD_BE_DOWN"
    assert apps[0]["vhosts"] == [{"fqdn": app_id.replace("_", "-") + ".cleverapps.io/"}]
    assert set(redeploy) == {"id", "message", "type", "deploymentId"}
    assert unlisted == []
    assert [(d["uuid"], d["state"], d["action"]) for d in deploying] == [(redeploy["deploymentId"], "WIP", "DEPLOY")]
    assert [(d["uuid"], d["state"], d["author"]["id"]) for d in deployed] == [(redeploy["deploymentId"], "OK", user)]
    assert no_favourite.status_code == 404
    assert no_favourite.json()["id"] == 4021


def test_the_fake_streams_live_with_heartbeats_until_until_passes(fake, clock, world) -> None:
    client = make_client(fake, clock)
    app_id = add(world, "live")
    path = f"/v4/accesslogs/organisations/{fake.api.user['id']}/applications/{app_id}/accesslogs"
    since, until = clock.now(), clock.now() + timedelta(minutes=1)
    seen, hit = [], False

    with client.stream(path, {"since": since.isoformat(), "until": until.isoformat()}) as events:
        for event in events:
            seen.append(event.event)
            if event.event == "HEARTBEAT" and not hit:
                world.hit(app_id)
                hit = True
            elif event.event == "ACCESS_LOG":
                clock.advance(minutes=2)

    assert seen[0] == "HEARTBEAT"
    assert seen.count("ACCESS_LOG") == 1
    assert seen[-1] == "END_OF_STREAM"
