"""The Scalingo client calls and reads as Scalingo's own clients do (issue 13): against the
fake API, which behaves as the real one is documented (or may be expected) to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.engine.wake_jobs import Phase
from providers.base import AppState, Autoscaler, Formation
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from providers.scalingo.payloads import router_activity
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock
from tests.providers.scalingo.in_process import API_TOKEN, REGION, build_provider


def make() -> tuple[FakeClock, SimulatedPaas, FakeScalingo]:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    return clock, world, FakeScalingo({REGION: world}, [API_TOKEN], clock)


# -- token exchange ----------------------------------------------------------------------


def test_the_token_exchange_sends_an_empty_json_object_as_scalingo_js_does() -> None:
    clock, world, fake = make()
    world.add_app("api", formation={"web": 1})

    apps = build_provider(fake, clock).list_apps()

    assert [a.name for a in apps] == ["api"]
    assert fake.auth.exchange_bodies == [b"{}"]


# -- router metric windows ---------------------------------------------------------------


def test_a_long_window_is_read_in_one_minute_points_and_never_dates_a_request_early() -> None:
    clock, world, fake = make()
    world.add_app("report", formation={"web": 1})
    provider = build_provider(fake, clock)
    asked_from = clock.now()
    clock.advance(hours=9, minutes=30, seconds=10)
    world.hit("report")  # the one request of a long, quiet stretch
    used_at = clock.now()
    clock.advance(minutes=20)

    activity = provider.activity(provider.list_apps()[0], asked_from)

    asked = [r.path for r in fake.calls(REGION) if "/stats/router" in r.path]
    assert asked  # one read …
    assert activity.until - activity.since <= timedelta(hours=3)  # … of 3 hours at most: 1-minute points
    assert activity.requests == 1
    assert used_at <= activity.last_request_at <= used_at + timedelta(minutes=1)


def test_a_coarse_bucket_holding_an_average_below_one_is_use_dated_at_its_end() -> None:
    start = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    step = timedelta(minutes=14)
    points = [{"time": (start + i * step).isoformat(), "value": 0.07 if i == 100 else 0} for i in range(206)]
    until = start + 206 * step

    activity = router_activity(points, since=start, until=until, last_deploy_at=None)

    assert activity.requests == 1
    assert activity.last_request_at == start + 101 * step


# -- autoscalers -------------------------------------------------------------------------


def test_an_autoscaler_survives_a_sleep_and_a_wake_as_it_was() -> None:
    clock, world, fake = make()
    world.add_app("shop", formation={"web": 3, "worker": 1}, boot_seconds=30)
    region = fake.regions[REGION]
    web = region.autoscalers.add("shop", "web", 2, 6, target=150)
    provider = build_provider(fake, clock)

    recorded = provider.sleep(provider.get_app("shop"))
    stored = Formation.from_json(recorded.to_json())  # what the store keeps of it
    disabled_while_asleep = region.autoscalers.of("shop")[0]["disabled"]
    clock.advance(minutes=30)
    provider.wake(provider.get_app("shop"), stored)
    clock.advance(seconds=31)
    awake = provider.get_app("shop")

    assert stored == recorded
    assert recorded.processes[0].autoscaler == Autoscaler(web["id"], 2, 6, "rpm_per_container", 150.0, enabled=True)
    assert recorded.describe() == "web×3 (M, autoscaled 2–6 on rpm_per_container), worker×1 (M)"
    assert disabled_while_asleep  # Scalingo disabled it: the sleep scaled web by hand
    assert region.autoscalers.of("shop")[0]["disabled"] is False  # enabled again by the wake
    assert awake.state is AppState.RUNNING
    assert (awake.formation.amount("web"), awake.formation.amount("worker")) == (3, 1)


def test_an_autoscaler_that_was_off_stays_off() -> None:
    clock, world, fake = make()
    world.add_app("shop", formation={"web": 2})
    region = fake.regions[REGION]
    region.autoscalers.add("shop", "web", 1, 4)
    region.autoscalers.scaled("shop", {"web"})  # someone scaled web by hand long ago
    provider = build_provider(fake, clock)

    recorded = provider.sleep(provider.get_app("shop"))
    clock.advance(minutes=5)
    calls = len(fake.calls(REGION))
    provider.wake(provider.get_app("shop"), recorded)

    assert recorded.describe() == "web×2 (M, autoscaler 1–4 off)"
    assert region.autoscalers.of("shop")[0]["disabled"] is True
    assert not [c for c in fake.calls(REGION)[calls:] if c.method == "PATCH"]


def test_the_fake_disables_the_autoscaler_of_a_type_scaled_by_hand() -> None:
    clock, world, fake = make()
    world.add_app("shop", formation={"web": 2, "worker": 1})
    region = fake.regions[REGION]
    region.autoscalers.add("shop", "web", 1, 4)
    region.autoscalers.add("shop", "worker", 1, 2, metric="cpu")
    provider = build_provider(fake, clock)

    provider._client.call("POST", "/apps/shop/scale", body={"containers": [{"name": "worker", "amount": 2}]})

    assert [(a["container_type"], a["disabled"]) for a in region.autoscalers.of("shop")] == [
        ("web", False),
        ("worker", True),
    ]


# -- an app never deployed -----------------------------------------------------------------


def test_an_app_never_deployed_is_not_asleep_and_a_wake_refuses_at_once(tmp_path) -> None:
    clock, world, fake = make()
    world.add_app("fresh", formation={"web": 1}, never_deployed=True)
    provider = build_provider(fake, clock)
    h = Harness(tmp_path / "p.db", clock, world=world, provider=provider)
    h.discover()
    started = clock.now()

    listed = provider.list_apps()[0]
    progress = h.wake("fresh")

    assert listed.state is AppState.UNKNOWN
    assert "never deployed" in (listed.problem or "")
    assert progress.phase is Phase.FAILED
    assert "never deployed on Scalingo (status new): nothing to wake" in (progress.main.reason or "")
    assert clock.now() - started < timedelta(seconds=5)  # at once, not after the wake timeout
    assert not [c for c in fake.calls(REGION) if c.path.endswith("/scale")]
