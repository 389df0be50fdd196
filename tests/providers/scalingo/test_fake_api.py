"""The Scalingo API fake speaks the API as PROVIDERS.md / ACTIVITY.md describe it.

These talk raw HTTP to the fake (no provider in between), so the shapes the provider relies
on are pinned here: a provider bug cannot hide a fake bug.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers.base import ActivityUnavailable, ProviderUnavailable, RateLimited
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo, serve_fake_scalingo
from tests.fakes.clock import FakeClock

TOKEN = "tk-us-fake-test-token"
API = "https://api.osc-fr1.scalingo.test"


@pytest.fixture
def fake(world: SimulatedPaas, clock: FakeClock) -> FakeScalingo:
    return FakeScalingo({"osc-fr1": world}, [TOKEN], clock)


@pytest.fixture
def http(fake: FakeScalingo) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport()) as client:
        yield client


def bearer(http: httpx.Client, token: str = TOKEN) -> str:
    response = http.post("https://auth.scalingo.test/v1/tokens/exchange", auth=("", token))
    assert response.status_code == 200
    return response.json()["token"]


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def api(http: httpx.Client, method: str, path: str, jwt: str, **kw: object) -> httpx.Response:
    return http.request(method, f"{API}/v1{path}", headers={"Authorization": f"Bearer {jwt}"}, **kw)


def test_the_exchange_gives_a_three_part_jwt_expiring_in_an_hour(http: httpx.Client, clock: FakeClock) -> None:
    jwt = bearer(http)

    assert jwt.count(".") == 2
    assert datetime.fromtimestamp(claims(jwt)["exp"], UTC) == clock.now() + timedelta(hours=1)


def test_an_unknown_api_token_is_refused_at_the_exchange(http: httpx.Client) -> None:
    response = http.post("https://auth.scalingo.test/v1/tokens/exchange", auth=("", "tk-us-wrong"))

    assert response.status_code == 401
    assert "error" in response.json()


BASIC = f"Basic {base64.b64encode(b':' + TOKEN.encode()).decode()}"  # the API token itself: not for regional APIs


@pytest.mark.parametrize("authorization", [None, "Bearer not.a.jwt", BASIC])
def test_regional_calls_need_a_valid_bearer(http: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = http.get(f"{API}/v1/apps", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]


def test_a_bearer_expires_after_an_hour_on_the_fake_clock(http: httpx.Client, clock: FakeClock) -> None:
    jwt = bearer(http)
    assert api(http, "GET", "/apps", jwt).status_code == 200

    clock.advance(minutes=60)

    response = api(http, "GET", "/apps", jwt)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


def test_apps_are_listed_with_their_regional_url_and_status(http: httpx.Client, world: SimulatedPaas) -> None:
    world.add_app("front", formation={"web": 1})
    world.add_app("back", formation={"web": 1}, running=False)

    response = api(http, "GET", "/apps?", bearer(http))  # go-scalingo's trailing "?"

    apps = {a["name"]: a for a in response.json()["apps"]}
    assert apps["front"]["url"] == "https://front.osc-fr1.scalingo.io"
    assert (apps["front"]["status"], apps["back"]["status"]) == ("running", "stopped")
    assert apps["front"]["region"] == "osc-fr1"
    assert len(apps["front"]["id"]) == 24


def test_an_unknown_app_is_a_404_naming_the_resource(http: httpx.Client) -> None:
    response = api(http, "GET", "/apps/ghost", bearer(http))

    assert response.status_code == 404
    assert response.json() == {"resource": "app", "error": "not found"}


def test_a_scale_answers_202_with_the_operation_and_the_complete_formation(
    http: httpx.Client, world: SimulatedPaas, clock: FakeClock
) -> None:
    world.add_app("api", formation={"web": 2, "worker": 1}, stop_seconds=5)
    jwt = bearer(http)

    response = api(http, "POST", "/apps/api/scale", jwt, json={"containers": [{"name": "worker", "amount": 0}]})
    assert [(c["name"], c["amount"]) for c in response.json()["containers"]] == [("web", 2), ("worker", 0)]

    response = api(http, "POST", "/apps/api/scale", jwt, json={"containers": [{"name": "web", "amount": 0}]})

    assert response.status_code == 202
    assert response.headers["Location"].startswith(f"{API}/v1/apps/api/operations/")
    operation = httpx.URL(response.headers["Location"]).path.removeprefix("/v1")
    statuses = []
    for _ in range(4):
        statuses.append(api(http, "GET", operation, jwt).json()["operation"]["status"])
        clock.advance(seconds=2)
    assert statuses == ["pending", "running", "running", "done"]


def test_a_failed_boot_ends_the_operation_in_error_with_its_reason(
    http: httpx.Client, world: SimulatedPaas, clock: FakeClock
) -> None:
    world.add_app("broken", formation={"web": 1}, running=False, boot_seconds=10)
    world.fail("boot", "broken")
    jwt = bearer(http)

    scaled = api(http, "POST", "/apps/broken/scale", jwt, json={"containers": [{"name": "web", "amount": 1}]})
    location = scaled.headers["Location"]
    clock.advance(seconds=11)

    operation = http.get(location, headers={"Authorization": f"Bearer {jwt}"}).json()["operation"]
    assert operation["status"] == "error"
    assert "crashed" in operation["error"]
    assert api(http, "GET", "/apps/broken", jwt).json()["app"]["status"] == "crashed"


def test_a_second_scale_while_one_runs_is_refused(http: httpx.Client, world: SimulatedPaas) -> None:
    world.add_app("slow", formation={"web": 1}, running=False, boot_seconds=60)
    jwt = bearer(http)
    api(http, "POST", "/apps/slow/scale", jwt, json={"containers": [{"name": "web", "amount": 1}]})

    response = api(http, "POST", "/apps/slow/scale", jwt, json={"containers": [{"name": "web", "amount": 0}]})

    assert response.status_code == 409
    assert "scaling" in response.json()["error"]
    assert api(http, "GET", "/apps/slow", jwt).json()["app"]["status"] == "scaling"


def test_scaling_an_unknown_type_or_too_many_containers_is_refused(http: httpx.Client, world: SimulatedPaas) -> None:
    world.add_app("api", formation={"web": 1})
    jwt = bearer(http)

    unknown = api(http, "POST", "/apps/api/scale", jwt, json={"containers": [{"name": "clock", "amount": 1}]})
    too_many = api(http, "POST", "/apps/api/scale", jwt, json={"containers": [{"name": "web", "amount": 11}]})

    assert unknown.status_code == 404
    assert unknown.json()["resource"] == "container_type"
    assert too_many.status_code == 422
    assert "amount" in too_many.json()["errors"]


def test_the_router_metric_is_a_bare_array_of_minutes_oldest_first(
    http: httpx.Client, world: SimulatedPaas, clock: FakeClock
) -> None:
    world.add_app("busy", formation={"web": 1})
    clock.advance(minutes=30, seconds=20)
    world.hit("busy", 4)
    clock.advance(minutes=2)

    points = api(http, "GET", "/apps/busy/stats/router", bearer(http), params={"since": 1}).json()

    times = [datetime.fromisoformat(p["time"]) for p in points]
    assert len(points) == 61
    assert all(b - a == timedelta(minutes=1) for a, b in itertools.pairwise(times))
    assert points[0]["value"] is None
    assert times[-1] == clock.now().replace(second=0)  # the current minute is included
    assert [p["value"] for p in points if p["value"]] == [4]
    assert next(t for t, p in zip(times, points, strict=False) if p["value"]) == datetime(
        2026, 11, 2, 9, 30, tzinfo=UTC
    )


def test_no_request_in_the_window_is_a_404_no_metrics_found(
    http: httpx.Client, world: SimulatedPaas, clock: FakeClock
) -> None:
    world.add_app("quiet", formation={"web": 1})
    world.hit("quiet", at=clock.now())
    clock.advance(hours=2)

    response = api(http, "GET", "/apps/quiet/stats/router", bearer(http), params={"since": 1})

    assert response.status_code == 404
    assert response.json() == {"error": "no metrics found"}


def test_container_metrics_need_a_container_type(http: httpx.Client, world: SimulatedPaas) -> None:
    world.add_app("api", formation={"web": 1})

    response = api(http, "GET", "/apps/api/stats/cpu", bearer(http))

    assert response.status_code == 400
    assert response.json() == {"error": "'container' should be defined"}


def test_the_61st_call_in_a_minute_is_a_plain_text_429(
    http: httpx.Client, world: SimulatedPaas, clock: FakeClock
) -> None:
    jwt = bearer(http)
    statuses = [api(http, "GET", "/apps", jwt).status_code for _ in range(61)]

    assert statuses[:60] == [200] * 60
    refused = api(http, "GET", "/apps", jwt)
    assert refused.status_code == 429
    assert refused.text == "Retry later"
    assert refused.headers["Content-Type"].startswith("text/plain")
    assert "Retry-After" not in refused.headers
    clock.advance(seconds=60)
    assert api(http, "GET", "/apps", jwt).status_code == 200


def test_injected_failures_come_out_as_the_api_would_say_them(http: httpx.Client, world: SimulatedPaas) -> None:
    world.add_app("api", formation={"web": 1})
    world.hit("api")
    world.fail("list", error=ProviderUnavailable("upstream down"))
    world.fail("activity", "api", ActivityUnavailable("metrics down"))
    world.fail("get", "api", RateLimited("slow down"))
    jwt = bearer(http)

    listed = api(http, "GET", "/apps", jwt)
    stats = api(http, "GET", "/apps/api/stats/router", jwt, params={"since": 1})
    shown = api(http, "GET", "/apps/api", jwt)

    assert listed.status_code == 503
    assert "error" in listed.json()
    assert stats.status_code == 500
    assert stats.json() == {"error": "Internal error occured, we're on it!"}
    assert shown.status_code == 429
    assert shown.text == "Retry later"


def test_served_on_loopback_for_the_demo(world: SimulatedPaas, clock: FakeClock) -> None:
    world.add_app("hello", formation={"web": 1})
    api_urls, auth_url, close = serve_fake_scalingo({"osc-fr1": world}, [TOKEN], clock)
    try:
        with httpx.Client(transport=httpx.HTTPTransport()) as client:
            jwt = client.post(f"{auth_url}/v1/tokens/exchange", auth=("", TOKEN)).json()["token"]
            apps = client.get(f"{api_urls['osc-fr1']}/v1/apps", headers={"Authorization": f"Bearer {jwt}"}).json()
    finally:
        close()

    assert api_urls["osc-fr1"].startswith("http://127.0.0.1:")
    assert [a["name"] for a in apps["apps"]] == ["hello"]
