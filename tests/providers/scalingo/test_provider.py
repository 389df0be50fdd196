"""The Scalingo provider against the Scalingo API fake: what a user of Paastis would notice.

Bearer tokens that expire or get revoked never show up as failures; a wrong API token says
what to fix without printing it; 429 storms slow Paastis down but never push it past 60
calls a minute nor make a wake fail; formations come back as they were, sizes included;
failed boots say why; metrics that cannot be read are never taken for idleness.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import certifi
import httpx
import pytest

from providers import parse_spec
from providers.base import (
    Activity,
    ActivityUnavailable,
    AppNotFound,
    AppState,
    AuthenticationFailed,
    Formation,
    OperationRejected,
    PaasApp,
    Process,
    ProviderDeps,
    ProviderUnavailable,
    RateLimited,
)
from providers.fake import SimulatedPaas
from providers.scalingo import DEFAULT_OPERATION_TIMEOUT, PROVIDER_TYPE, ScalingoProvider
from providers.scalingo.fake_api import FakeScalingo, serve_fake_scalingo
from providers.scalingo.fake_api.wsgi import Received
from tests.fakes.clock import FakeClock
from tests.providers.scalingo.in_process import API_TOKEN, build_provider

REGION = "osc-fr1"


@dataclass
class Scalingo:
    clock: FakeClock
    world: SimulatedPaas
    fake: FakeScalingo
    provider: ScalingoProvider

    def calls(self) -> list[Received]:
        return self.fake.calls(REGION)

    def calls_during(self, action: Callable[[], object]) -> list[tuple[str, str]]:
        before = len(self.calls())
        action()
        return [(r.method, r.path) for r in self.calls()[before:]]

    def follow(self, app_id: str) -> PaasApp:
        """Poll get_app every poll_interval, as the bot does, until it is not busy."""
        waited, app = 0.0, self.provider.get_app(app_id)
        while app.state.busy and waited < self.provider.wake_timeout:
            self.clock.advance(seconds=self.provider.poll_interval)
            waited += self.provider.poll_interval
            app = self.provider.get_app(app_id)
        return app


def make(**fake_options: object) -> Scalingo:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    fake = FakeScalingo({REGION: world}, [API_TOKEN], clock, **fake_options)
    return Scalingo(clock, world, fake, build_provider(fake, clock))


@pytest.fixture
def sc() -> Scalingo:
    return make()


def most_calls_in_a_minute(calls: list[Received]) -> int:
    times = [c.at for c in calls]
    return max((sum(1 for t in times if start <= t < start + timedelta(minutes=1)) for start in times), default=0)


def statuses(calls: list[Received]) -> list[int]:
    return [c.status for c in calls]


# -- configuration ---------------------------------------------------------------------


def test_a_token_alone_configures_osc_fr1_with_sound_defaults() -> None:
    spec, problems = parse_spec("scalingo", {"api_token": "tk-us-secret"}, where="providers[0]")

    assert problems == []
    assert spec is not None
    provider = PROVIDER_TYPE.build(spec, ProviderDeps(clock=FakeClock()))
    assert provider.name == "scalingo-osc-fr1"
    assert provider.api_url == "https://api.osc-fr1.scalingo.com"
    assert provider.wake_timeout == DEFAULT_OPERATION_TIMEOUT
    assert 0 < provider.poll_interval <= 60 / (60 - 12)  # a tick: one shared look, outside the reserve
    assert "tk-us-secret" not in repr(spec) + repr(provider) + str(spec.redacted())


def test_any_region_is_data_and_names_its_provider_and_api() -> None:
    spec, problems = parse_spec("scalingo", {"api_token": "tk", "region": "osc-secnum-fr1"}, where="p")

    assert problems == []
    assert spec is not None
    assert spec.name == "scalingo-osc-secnum-fr1"
    provider = PROVIDER_TYPE.build(spec, ProviderDeps(clock=FakeClock()))
    assert provider.api_url == "https://api.osc-secnum-fr1.scalingo.com"


def test_operation_timeout_keeps_the_original_meaning_seconds_a_wake_may_take() -> None:
    spec, problems = parse_spec("scalingo", {"api_token": "tk", "operation_timeout": "30"}, where="p")

    assert problems == []
    assert spec is not None
    assert PROVIDER_TYPE.build(spec, ProviderDeps(clock=FakeClock(), ca_bundle=certifi.where())).wake_timeout == 30


def test_configuration_problems_are_all_reported_and_the_token_is_required() -> None:
    _, problems = parse_spec("scalingo", {"region": "osc fr1/..", "rate_limit": "lots"}, where="p")

    assert {p.key for p in problems} == {"p.api_token", "p.region", "p.rate_limit"}


# -- authentication --------------------------------------------------------------------


def test_the_bearer_is_renewed_before_it_expires_without_a_single_401(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})

    for _ in range(13):  # two hours and more, one call every 10 minutes
        assert [a.name for a in sc.provider.list_apps()] == ["api"]
        sc.clock.advance(minutes=10)
    sc.clock.advance(hours=3)  # idle past several expiries
    sc.provider.list_apps()

    assert statuses(sc.calls()) == [200] * 14
    assert sc.fake.auth.exchanges == 4


def test_a_refused_bearer_is_exchanged_again_once_and_the_call_succeeds(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})
    sc.provider.list_apps()
    sc.fake.auth.revoke_bearers()

    apps = sc.provider.list_apps()

    assert [a.name for a in apps] == ["api"]
    assert statuses(sc.calls()) == [200, 401, 200]
    assert sc.fake.auth.exchanges == 2


def test_a_bearer_refused_twice_is_an_authentication_failure_not_a_loop(sc: Scalingo) -> None:
    sc.world.fail("list", error=AuthenticationFailed("token revoked"), times=-1)

    with pytest.raises(AuthenticationFailed):
        sc.provider.list_apps()
    assert statuses(sc.calls()) == [401, 401]
    assert sc.fake.auth.exchanges == 2


def test_threads_sharing_a_provider_exchange_the_token_once(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})
    results: list[list[PaasApp]] = []
    threads = [threading.Thread(target=lambda: results.append(sc.provider.list_apps())) for _ in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(results) == 8
    assert sc.fake.auth.exchanges == 1
    assert statuses(sc.calls()) == [200] * 8


def test_a_wrong_api_token_says_what_to_fix_and_never_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sc = make()
    wrong = "tk-us-wrong-0123456789"
    provider = build_provider(sc.fake, sc.clock, token=wrong)

    with pytest.raises(AuthenticationFailed) as caught:
        provider.list_apps()

    message = str(caught.value)
    assert "api_token" in message
    assert "PROVIDER_SCALINGO_API_TOKEN" in message
    assert wrong not in message + repr(provider) + caplog.text
    assert sc.calls() == []  # no regional call was made with it


def test_secrets_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sc = make()
    sc.world.add_app("api", formation={"web": 1})
    app = sc.provider.get_app("api")
    sc.fake.auth.revoke_bearers()
    recorded = sc.provider.sleep(app)
    sc.provider.wake(sc.follow("api"), recorded)
    sc.follow("api")
    sc.provider.activity(app, sc.clock.now() - timedelta(minutes=30))

    assert "scalingo.call" in caplog.text  # calls are logged …
    assert API_TOKEN not in caplog.text
    assert "eyJ" not in caplog.text
    assert "Bearer" not in caplog.text


# -- rate limit ------------------------------------------------------------------------


def test_a_429_storm_during_activity_checks_backs_off_and_every_check_completes(sc: Scalingo) -> None:
    apps = [sc.world.add_app(f"review-{n}", formation={"web": 1}).id for n in range(10)]
    sc.world.hit("review-3", 2)
    listed = {a.id: a for a in sc.provider.list_apps()}
    sc.fake.auth.spend_elsewhere(API_TOKEN, 60)  # a CI job spent the whole minute

    results = []
    for _round in range(3):
        for app_id in apps:
            results.append(sc.provider.activity(listed[app_id], sc.clock.now() - timedelta(minutes=30)))
        sc.fake.auth.spend_elsewhere(API_TOKEN, 60)  # and it keeps at it

    assert len(results) == 30
    assert all(isinstance(r, Activity) for r in results)
    assert [r.requests for r in results[:10]] == [0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    refused = [c for c in sc.calls() if c.status == 429]
    assert refused, "the storm never reached the provider"
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(refused)][:3]
    assert gaps == [5, 10, 20]  # exponential back-off without Retry-After
    assert most_calls_in_a_minute(sc.calls()) <= 60


def test_retry_after_is_honoured_when_scalingo_sends_it() -> None:
    sc = make(retry_after_header=True)
    sc.world.add_app("api", formation={"web": 1})
    app = sc.provider.list_apps()[0]
    start = sc.clock.now()
    sc.fake.auth.spend_elsewhere(API_TOKEN, 60)

    sc.provider.activity(app, start)

    assert statuses(sc.calls()) == [200, 429, 404]
    assert sc.clock.now() - start == timedelta(seconds=60)


def test_a_429_storm_during_a_wake_slows_it_but_the_app_comes_back(sc: Scalingo) -> None:
    sc.world.add_app("shop", formation={"web": 2, "worker": 1}, boot_seconds=40)
    recorded = sc.provider.sleep(sc.provider.get_app("shop"))
    sc.clock.advance(minutes=1)
    sc.fake.auth.spend_elsewhere(API_TOKEN, 60)

    sc.provider.wake(sc.provider.get_app("shop"), recorded)
    waited, app = 0.0, sc.provider.get_app("shop")
    while app.state.busy and waited < sc.provider.wake_timeout:
        sc.fake.auth.spend_elsewhere(API_TOKEN, 20)  # the storm goes on while we poll
        sc.clock.advance(seconds=sc.provider.poll_interval)
        waited += sc.provider.poll_interval
        app = sc.provider.get_app("shop")

    assert app.state is AppState.RUNNING
    assert app.formation is not None
    assert (app.formation.amount("web"), app.formation.amount("worker")) == (2, 1)
    assert 429 in statuses(sc.calls())
    assert most_calls_in_a_minute(sc.calls()) <= 60


def test_a_rate_limit_that_never_ends_gives_up_after_five_tries(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})
    app = sc.provider.list_apps()[0]
    sc.world.fail("activity", "api", RateLimited("storm"), times=-1)
    sc.world.fail("get", "api", RateLimited("storm"), times=-1)

    with pytest.raises(ActivityUnavailable):
        sc.provider.activity(app, sc.clock.now())
    with pytest.raises(RateLimited) as caught:
        sc.provider.get_app("api")

    assert statuses(sc.calls()) == [200] + [429] * 10
    assert caught.value.retry_after > 0
    assert sc.provider.budget().throttled_until is not None


# -- state, sleep and wake -------------------------------------------------------------


def test_sleep_after_get_app_costs_two_calls_and_wake_one(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 2, "worker": 1})
    app = sc.provider.get_app("api")
    recorded: list[Formation] = []

    sleep_calls = sc.calls_during(lambda: recorded.append(sc.provider.sleep(app)))
    sc.clock.advance(minutes=1)
    wake_calls = sc.calls_during(lambda: sc.provider.wake(app, recorded[0]))

    assert sleep_calls == [("GET", "/v1/apps/api/autoscalers"), ("POST", "/v1/apps/api/scale")]
    assert recorded[0].amount("web") == 2
    assert recorded[0].amount("worker") == 1
    assert wake_calls == [("POST", "/v1/apps/api/scale")]


def test_sleep_of_a_listed_app_reads_its_formation_first(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 2})
    app = sc.provider.list_apps()[0]

    sleep_calls = sc.calls_during(lambda: sc.provider.sleep(app))

    assert sleep_calls == [
        ("GET", "/v1/apps/api/containers"),
        ("GET", "/v1/apps/api/autoscalers"),
        ("POST", "/v1/apps/api/scale"),
    ]


def test_listing_checking_and_reading_activity_cost_one_two_and_one_call(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})
    app = sc.provider.list_apps()[0]

    assert len(sc.calls()) == 1
    get_calls = sc.calls_during(lambda: sc.provider.get_app("api"))
    assert get_calls == [("GET", "/v1/apps/api"), ("GET", "/v1/apps/api/containers")]
    assert sc.calls_during(lambda: sc.provider.activity(app, sc.clock.now())) == [("GET", "/v1/apps/api/stats/router")]


def test_a_twenty_second_wake_is_followed_by_one_shared_look_a_tick_and_ends_without_more(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1}, running=False, boot_seconds=20)
    app = sc.provider.get_app("api")
    awake: list[PaasApp] = []
    woken_at = sc.clock.now()

    calls = sc.calls_during(lambda: (sc.provider.wake(app, Formation.of(web=1)), awake.append(sc.follow("api"))))

    assert awake[0].state is AppState.RUNNING
    assert awake[0].formation == Formation((Process("web", 1, "M"),))
    assert calls[0] == ("POST", "/v1/apps/api/scale")
    assert set(calls[1:]) == {("GET", "/v1/apps")}  # the app list, whatever the number of wakes
    assert len(calls[1:]) == 21  # a look a second, at 0 … 20 s: the minute had spare calls
    assert sc.clock.now() - woken_at == timedelta(seconds=20)  # told up at the tick it ran


def test_the_recorded_formation_comes_back_with_its_sizes(sc: Scalingo) -> None:
    ran = Formation((Process("web", 2, "L"), Process("worker", 1, "S"), Process("clock", 0, "M")))
    sc.world.add_app("api", formation=ran)

    recorded = sc.provider.sleep(sc.provider.get_app("api"))
    asleep = sc.follow("api")
    resized = Formation(tuple(Process(p.name, 0, "XS") for p in recorded.processes))
    sc.world.scale("api", resized)  # meanwhile someone set every size to XS in the dashboard
    sc.provider.wake(asleep, recorded)
    awake = sc.follow("api")

    assert recorded == ran
    assert asleep.state is AppState.SLEEPING
    assert not asleep.formation.running
    restored = Formation((Process("web", 2, "L"), Process("worker", 1, "S"), Process("clock", 0, "XS")))
    assert awake.state is AppState.RUNNING
    assert awake.formation == restored
    assert sc.world.app("api").formation == restored


def test_an_app_first_seen_asleep_gets_one_web_and_its_worker_stays_off(sc: Scalingo) -> None:
    sc.world.add_app("demo", formation={"web": 3, "worker": 2}, running=False)

    calls = sc.calls_during(lambda: sc.provider.wake(sc.provider.list_apps()[0], None))

    assert sc.follow("demo").state is AppState.RUNNING
    assert (sc.world.app("demo").formation.amount("web"), sc.world.app("demo").formation.amount("worker")) == (1, 0)
    assert calls == [("GET", "/v1/apps"), ("GET", "/v1/apps/demo/containers"), ("POST", "/v1/apps/demo/scale")]


def test_a_wake_without_a_recorded_formation_never_scales_a_running_app_down(sc: Scalingo) -> None:
    sc.world.add_app("busy", formation={"web": 3})

    sc.provider.wake(sc.provider.get_app("busy"), None)

    assert sc.follow("busy").formation.amount("web") == 3


def test_an_app_being_scaled_is_busy_for_everyone(sc: Scalingo) -> None:
    sc.world.add_app("slow", formation={"web": 1}, running=False, boot_seconds=90)
    sc.world.add_app("leaving", formation={"web": 1}, stop_seconds=30)
    sc.provider.wake(sc.provider.get_app("slow"), Formation.of(web=1))
    sc.provider.sleep(sc.provider.get_app("leaving"))
    sc.clock.advance(seconds=5)
    other = build_provider(sc.fake, sc.clock)  # a restarted bot: no memory of the scales

    assert sc.provider.get_app("slow").state is AppState.WAKING
    assert sc.provider.get_app("leaving").state is AppState.STOPPING
    assert {a.name: a.state for a in sc.provider.list_apps()} == {"slow": AppState.WAKING, "leaving": AppState.STOPPING}
    assert (other.get_app("slow").state, other.get_app("leaving").state) == (AppState.WAKING, AppState.STOPPING)
    with pytest.raises(OperationRejected, match="scaling"):
        sc.provider.sleep(sc.provider.get_app("slow"))


def test_a_failed_scale_operation_is_a_crash_with_its_error(sc: Scalingo) -> None:
    sc.world.add_app("broken", formation={"web": 1}, running=False, boot_seconds=30)
    sc.world.fail("boot", "broken", OperationRejected("container web-1 exited with status 1 while booting"))

    sc.provider.wake(sc.provider.get_app("broken"), Formation.of(web=1))
    app = sc.follow("broken")

    assert app.state is AppState.CRASHED
    assert app.problem == "container web-1 exited with status 1 while booting"


def test_a_crashed_app_is_reported_crashed_with_a_reason(sc: Scalingo) -> None:
    sc.world.add_app("flaky", formation={"web": 1})
    sc.world.crash("flaky")

    listed = sc.provider.list_apps()[0]
    fetched = sc.provider.get_app("flaky")

    assert listed.state is AppState.CRASHED
    assert fetched.state is AppState.CRASHED
    assert fetched.problem
    assert "crashed" in fetched.problem


def test_an_unknown_app_is_not_found_and_a_process_type_it_lacks_is_rejected(sc: Scalingo) -> None:
    sc.world.add_app("worker-only", formation={"worker": 1}, running=False)

    with pytest.raises(AppNotFound):
        sc.provider.get_app("ghost")
    with pytest.raises(OperationRejected, match="process type"):
        sc.provider.wake(sc.provider.get_app("worker-only"), None)


# -- activity --------------------------------------------------------------------------


def test_no_router_metrics_is_no_request_not_an_unknown_app(sc: Scalingo) -> None:
    sc.world.add_app("quiet", formation={"web": 1}, deployed_at=sc.clock.now())
    sc.clock.advance(minutes=40)
    app = sc.provider.list_apps()[0]

    activity = sc.provider.activity(app, sc.clock.now() - timedelta(minutes=30))

    assert sc.calls()[-1].status == 404
    assert (activity.requests, activity.last_request_at) == (0, None)
    assert activity.last_deploy_at == app.last_deployed_at is not None
    assert activity.until - activity.since == timedelta(hours=1)


def test_the_last_request_is_dated_at_the_end_of_its_minute(sc: Scalingo) -> None:
    sc.world.add_app("busy", formation={"web": 1})
    start = sc.clock.now()
    sc.clock.advance(minutes=80, seconds=15)
    sc.world.hit("busy", 5)
    sc.clock.advance(seconds=20)  # still in the same minute

    activity = sc.provider.activity(sc.provider.list_apps()[0], start)

    assert activity.requests == 5
    assert activity.last_request_at == activity.until  # the minute is not over: clamped to now
    sc.clock.advance(minutes=5)
    later = sc.provider.activity(sc.provider.list_apps()[0], start)
    assert later.last_request_at == start + timedelta(minutes=81)
    assert later.since <= start  # 2 hours asked for the 85 minutes


def test_a_500_on_the_router_metric_is_unavailable_activity_never_idleness(sc: Scalingo) -> None:
    sc.world.add_app("api", formation={"web": 1})
    app = sc.provider.list_apps()[0]
    sc.world.fail("activity", "api")

    with pytest.raises(ActivityUnavailable, match="api"):
        sc.provider.activity(app, sc.clock.now() - timedelta(minutes=15))
    assert sc.calls()[-1].status == 500


class Breaking(httpx.BaseTransport):
    """The fake, except that requests to paths ending in `suffix` get `outcome` instead."""

    def __init__(self, inner: httpx.BaseTransport, suffix: str, outcome: Callable[[httpx.Request], httpx.Response]):
        self.inner, self.suffix, self.outcome = inner, suffix, outcome

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.suffix):
            return self.outcome(request)
        return self.inner.handle_request(request)


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    "outcome",
    [
        timeout,
        lambda r: httpx.Response(200, text="<html>maintenance</html>"),
        lambda r: httpx.Response(200, json=[{"time": "soon"}]),
    ],
    ids=["timeout", "html", "bad-point"],
)
def test_an_unreadable_router_metric_is_unavailable_activity(
    sc: Scalingo, outcome: Callable[[httpx.Request], httpx.Response]
) -> None:
    sc.world.add_app("api", formation={"web": 1})
    provider = build_provider(sc.fake, sc.clock, transport=Breaking(sc.fake.transport(), "/stats/router", outcome))
    app = provider.list_apps()[0]

    with pytest.raises(ActivityUnavailable):
        provider.activity(app, sc.clock.now())


def test_a_dead_network_is_unavailable_never_an_httpx_error(sc: Scalingo) -> None:
    provider = build_provider(sc.fake, sc.clock, transport=Breaking(sc.fake.transport(), "/apps", timeout))

    with pytest.raises(ProviderUnavailable, match="in time"):
        provider.list_apps()


# -- several regions -------------------------------------------------------------------


def test_two_regions_in_one_process_keep_to_themselves() -> None:
    clock = FakeClock()
    paris, secnum = SimulatedPaas(clock), SimulatedPaas(clock)
    fake = FakeScalingo({"osc-fr1": paris, "osc-secnum-fr1": secnum}, [API_TOKEN], clock)
    paris.add_app("shop", formation={"web": 1}, boot_seconds=60)
    paris.add_app("blog", formation={"web": 1})
    secnum.add_app("shop", formation={"web": 2})
    fr1, sec = build_provider(fake, clock, "osc-fr1"), build_provider(fake, clock, "osc-secnum-fr1")

    fr1_apps, sec_apps = fr1.list_apps(), sec.list_apps()
    fr1.sleep(fr1.get_app("shop"))

    assert (fr1.name, sec.name) == ("scalingo-osc-fr1", "scalingo-osc-secnum-fr1")
    assert sorted(a.name for a in fr1_apps) == ["blog", "shop"]
    assert [a.name for a in sec_apps] == ["shop"]
    assert sec_apps[0].url == "https://shop.osc-secnum-fr1.scalingo.io"
    assert sec_apps[0].provider == sec.name
    assert fr1.get_app("shop").state is AppState.STOPPING
    secnum_shop = sec.get_app("shop")
    assert secnum_shop.state is AppState.RUNNING
    assert secnum_shop.formation == Formation((Process("web", 2, "M"),))
    with pytest.raises(AppNotFound):
        sec.get_app("blog")
    # list, get (2), autoscalers, scale, get; and list, get (2), get
    assert (fr1.budget().used_last_minute, sec.budget().used_last_minute) == (6, 4)


def test_the_demo_setup_over_loopback_http() -> None:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    world.add_app("hello", formation={"web": 1}, running=False, boot_seconds=10)
    api_urls, auth_url, close = serve_fake_scalingo({"osc-fr1": world}, [API_TOKEN], clock)
    try:
        spec, problems = parse_spec(
            "scalingo", {"api_token": API_TOKEN, "api_url": api_urls["osc-fr1"], "auth_url": auth_url}, where="demo"
        )
        assert problems == []
        assert spec is not None
        provider = PROVIDER_TYPE.build(spec, ProviderDeps(clock=clock))  # no transport: real HTTP
        provider.wake(provider.list_apps()[0], None)
        clock.advance(seconds=11)
        app = provider.get_app("hello")
    finally:
        close()

    assert app.state is AppState.RUNNING
    assert app.url == "https://hello.osc-fr1.scalingo.io"
