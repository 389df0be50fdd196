"""The contract every provider honours, run over every registered provider type, on its fake.

What the bot relies on: apps are listed with their state and URL; sleeping returns the
formation that ran; waking with it restores it exactly; an app boots, then runs (or
crashes, and says why); activity counts requests and deploys; activity that cannot be read
raises, it is never reported as "no requests".
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from providers import PROVIDERS
from providers.base import (
    ActivityUnavailable,
    AppNotFound,
    AppState,
    Formation,
    PaasApp,
    Provider,
    ProviderError,
    ProviderUnavailable,
)
from tests.fakes.clock import FakeClock
from tests.providers.kits import Kit, make_kit


@pytest.fixture(params=sorted(PROVIDERS))
def kit(request: pytest.FixtureRequest) -> Kit:
    made = make_kit(request.param, FakeClock())
    yield made
    made.close()


def settle(kit: Kit, app_id: str, *, timeout: float = 600) -> PaasApp:
    """Follow get_app like the bot does, until the app is neither waking nor stopping."""
    waited = 0.0
    app = kit.provider.get_app(app_id)
    while app.state.busy and waited < timeout:
        kit.clock.advance(seconds=kit.provider.poll_interval)
        waited += kit.provider.poll_interval
        app = kit.provider.get_app(app_id)
    return app


def only(kit: Kit, name: str) -> PaasApp:
    return next(a for a in kit.provider.list_apps() if a.name == name)


def test_is_a_provider(kit: Kit) -> None:
    assert isinstance(kit.provider, Provider)
    assert kit.provider.name
    assert kit.provider.kind
    assert kit.provider.poll_interval > 0
    assert kit.provider.wake_timeout > 0


def test_lists_running_and_sleeping_apps_with_their_urls(kit: Kit) -> None:
    kit.add_app("front", {"web": 1})
    kit.add_app("back", {"web": 1}, running=False)

    apps = {a.name: a for a in kit.provider.list_apps()}

    assert apps["front"].state is AppState.RUNNING
    assert apps["back"].state is AppState.SLEEPING
    assert apps["front"].url
    assert apps["front"].url.startswith("http")
    assert all(a.provider == kit.provider.name for a in apps.values())


def test_get_app_gives_the_formation(kit: Kit) -> None:
    app_id = kit.add_app("api", {"web": 2, "worker": 1})

    app = kit.provider.get_app(app_id)

    assert app.formation is not None
    assert app.formation.amount("web") == 2
    assert app.formation.amount("worker") == 1


def test_an_unknown_app_is_not_found(kit: Kit) -> None:
    with pytest.raises(AppNotFound):
        kit.provider.get_app("no-such-app")


def test_sleep_returns_what_ran_and_the_app_ends_asleep(kit: Kit) -> None:
    app_id = kit.add_app("api", {"web": 2, "worker": 1})

    recorded = kit.provider.sleep(kit.provider.get_app(app_id))

    assert recorded.amount("web") == 2
    assert recorded.amount("worker") == 1
    assert settle(kit, app_id).state is AppState.SLEEPING


def test_wake_restores_the_recorded_formation_exactly(kit: Kit) -> None:
    app_id = kit.add_app("api", {"web": 2, "worker": 1, "clock": 0}, boot_seconds=30)
    recorded = kit.provider.sleep(kit.provider.get_app(app_id))
    settle(kit, app_id)

    kit.provider.wake(kit.provider.get_app(app_id), recorded)
    app = settle(kit, app_id)

    assert app.state is AppState.RUNNING
    assert app.formation is not None
    assert (app.formation.amount("web"), app.formation.amount("worker"), app.formation.amount("clock")) == (2, 1, 0)


def test_an_app_first_seen_asleep_wakes_with_one_web_container(kit: Kit) -> None:
    app_id = kit.add_app("demo", {"web": 3}, running=False)

    kit.provider.wake(kit.provider.get_app(app_id), None)
    app = settle(kit, app_id)

    assert app.state is AppState.RUNNING
    assert app.formation is not None
    assert app.formation.amount("web") == 1


def test_a_waking_app_is_busy_until_it_has_booted(kit: Kit) -> None:
    app_id = kit.add_app("slow", {"web": 1}, running=False, boot_seconds=120)

    kit.provider.wake(kit.provider.get_app(app_id), Formation.of(web=1))

    assert kit.provider.get_app(app_id).state is AppState.WAKING
    kit.clock.advance(seconds=121)
    assert settle(kit, app_id).state is AppState.RUNNING


def test_a_boot_that_crashes_ends_crashed_with_a_reason(kit: Kit) -> None:
    app_id = kit.add_app("broken", {"web": 1}, running=False)
    kit.world.fail("boot", app_id)

    kit.provider.wake(kit.provider.get_app(app_id), Formation.of(web=1))
    app = settle(kit, app_id)

    assert app.state is AppState.CRASHED
    assert app.problem


def test_activity_counts_requests_and_dates_the_last_one(kit: Kit) -> None:
    app_id = kit.add_app("busy", {"web": 1})
    start = kit.clock.now()
    kit.clock.advance(minutes=5)
    kit.world.hit(app_id, 3)
    last_hit = kit.clock.now()
    kit.clock.advance(minutes=7)

    activity = kit.provider.activity(only(kit, "busy"), start)

    assert 1 <= activity.requests <= 3
    assert activity.last_request_at is not None
    slack = timedelta(seconds=kit.activity_resolution_seconds)
    assert last_hit <= activity.last_request_at <= min(last_hit + slack, activity.until)
    assert activity.since <= start
    assert activity.until >= kit.clock.now() - timedelta(minutes=1)


def test_no_request_is_reported_as_none_not_as_an_error(kit: Kit) -> None:
    kit.add_app("quiet", {"web": 1})
    since = kit.clock.now()
    kit.clock.advance(minutes=20)

    activity = kit.provider.activity(only(kit, "quiet"), since)

    assert activity.requests == 0
    assert activity.last_request_at is None


def test_a_deploy_is_reported_as_activity(kit: Kit) -> None:
    app_id = kit.add_app("deployed", {"web": 1})
    since = kit.clock.now()
    kit.clock.advance(minutes=3)
    kit.world.deploy(app_id)
    deployed = kit.clock.now()
    kit.clock.advance(minutes=3)

    app = only(kit, "deployed")
    activity = kit.provider.activity(app, since)

    seen = [t for t in (activity.last_deploy_at, app.last_deployed_at) if t]
    assert seen
    assert all(abs((t - deployed).total_seconds()) < 1 for t in seen)


def test_unreadable_activity_raises_instead_of_looking_idle(kit: Kit) -> None:
    app_id = kit.add_app("opaque", {"web": 1})
    app = only(kit, "opaque")
    kit.world.fail("activity", app_id, times=-1)

    with pytest.raises(ActivityUnavailable):
        kit.provider.activity(app, kit.clock.now() - timedelta(minutes=30))


def test_an_unavailable_api_raises_a_provider_error(kit: Kit) -> None:
    kit.add_app("any", {"web": 1})
    kit.world.fail("list", times=-1)

    with pytest.raises(ProviderUnavailable):
        kit.provider.list_apps()


def test_errors_are_provider_errors_with_a_readable_message(kit: Kit) -> None:
    with pytest.raises(ProviderError) as caught:
        kit.provider.get_app("ghost")
    assert str(caught.value)
    assert "Traceback" not in str(caught.value)
