"""The Scalingo client calls and reads as Scalingo's own clients do (issue 13): against the
fake API, which behaves as the real one is documented (or may be expected) to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from providers.scalingo.payloads import router_activity
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
