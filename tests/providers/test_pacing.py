"""Following wakes within a budget (issue 11): "up" is seen within a tick of about a second
while the budget has room, the pace slows only when it is short, and twenty wakes in flight
cost one look a tick, not twenty."""

from __future__ import annotations

import threading
from datetime import timedelta

from providers.budget import CallBudget
from providers.fake import SimulatedPaas
from providers.pacing import FollowPace
from providers.scalingo.fake_api import FakeScalingo
from tests.fakes.clock import FakeClock
from tests.providers.scalingo.in_process import API_TOKEN, REGION, build_provider


def test_the_tick_is_a_second_while_the_budget_has_room_and_slows_when_it_is_short() -> None:
    clock = FakeClock()
    budget = CallBudget(clock, limit=60, reserve=12)
    pace = FollowPace(clock, budget)

    roomy = pace.tick()
    for _ in range(48):
        budget.spend()
    short = pace.tick()
    budget.throttle(20)
    throttled = pace.tick()

    assert roomy == 1.0
    assert short == 60 / 48  # a whole minute of looks fits outside the reserve
    assert throttled == 20


def test_followers_wake_on_one_grid_and_share_one_look_a_tick() -> None:
    clock = FakeClock()
    pace = FollowPace(clock, CallBudget(clock, limit=60, reserve=12))
    fetched: list[int] = []
    clock.advance(seconds=0.3)

    waits = {round(pace.interval(), 6) for _ in range(5)}
    clock.advance(seconds=waits.pop())
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(pace.shared("apps", lambda: fetched.append(1) or len(fetched))))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    clock.advance(seconds=pace.interval())
    later = pace.shared("apps", lambda: fetched.append(1) or len(fetched))

    assert clock.now().timestamp() % 1 == 0  # on the grid
    assert results == [1] * 20
    assert later == 2


def test_twenty_scalingo_wakes_in_flight_cost_one_app_list_a_tick() -> None:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    for n in range(20):
        world.add_app(f"review-{n}", formation={"web": 1}, running=False, boot_seconds=10)
    fake = FakeScalingo({REGION: world}, [API_TOKEN], clock, rate_limit=600)
    provider = build_provider(fake, clock, rate_limit=600)
    apps = {a.name: a for a in provider.list_apps()}
    for app in apps.values():
        provider.wake(app, None)
    started, mark = clock.now(), len(fake.calls(REGION))

    states: dict[str, str] = {}
    while set(states.values()) != {"running"} and clock.now() - started < timedelta(minutes=1):
        clock.advance(seconds=provider.poll_interval)
        states = {name: provider.get_app(name).state.value for name in apps}

    looks = [c.path for c in fake.calls(REGION)[mark:]]
    assert clock.now() - started == timedelta(seconds=10)  # seen at the tick they ran
    assert set(looks) == {"/v1/apps"}
    assert len(looks) == 10  # one a second for all twenty


def test_twenty_scalingo_wakes_started_at_once_check_their_apps_with_one_list() -> None:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    for n in range(20):
        world.add_app(f"review-{n}", formation={"web": 1}, running=False)
    fake = FakeScalingo({REGION: world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock)
    provider.list_apps()
    clock.advance(seconds=5)
    mark = len(fake.calls(REGION))

    for n in range(20):  # as the bot starts each wake: a fresh look, then the scale
        provider.wake(provider.get_app(f"review-{n}"), None)

    paths = [c.path for c in fake.calls(REGION)[mark:]]
    assert paths.count("/v1/apps") == 1  # one list for the nineteen checks made while scales run
    assert len([p for p in paths if p.startswith("/v1/apps/review-") and p.count("/") == 3]) == 1
    assert len([p for p in paths if p.endswith("/containers")]) == 20
    assert len([p for p in paths if p.endswith("/scale")]) == 20
    assert len(paths) == 42  # within the 48 calls a minute outside the reserve
