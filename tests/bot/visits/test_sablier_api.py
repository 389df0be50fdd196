"""The Sablier API driven the way the Caddy and Traefik plugins call it (their query strings,
from caddy-plugin config_test.go and the Traefik plugin's request builder)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.visits.sablier_api import go_duration
from providers.base import AppState
from tests.bot.engine.harness import ADA
from tests.bot.visits.conftest import HeldWakes, Site

SECRET = "s3cret-s3cret-s3cret"


def ask(site: Site, path: str, headers: dict | None = None, **settings):
    api = site.sablier(**settings)

    async def go():
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://sablier:10000") as http:
            return await http.get(path, headers=headers or {})

    return asyncio.run(go())


@pytest.fixture
def two_asleep(tmp_path, clock, upstream) -> Iterator[Site]:
    """shop-front and shop-back asleep (one group), admin protected, old ignored."""
    rules = [{"pattern": "shop-.*", "group": "shop"}, {"pattern": "admin", "protect": True}]
    site = Site(tmp_path, clock, upstream, rules=rules, ignored=["old"])
    for name in ("shop-front", "shop-back", "admin", "old"):
        site.add(name)
    site.h.discover()
    for name in ("shop-front", "shop-back"):
        site.h.engine.sleep(site.h.view(name), ADA)
    site.h.engine.wait_idle()
    site.visits.refresh()
    yield site
    site.h.engine.shutdown()


def test_caddy_dynamic_request_on_a_sleeping_app_wakes_it_once_and_says_not_ready_then_ready(
    tmp_path, clock, upstream
) -> None:
    held = HeldWakes()
    site = Site(tmp_path, clock, upstream, hooks=held)
    site.add("review-42")
    site.asleep("review-42")
    caddy = (
        "/api/strategies/dynamic?display_name=Hello+World%21&names=review-42&session_duration=1m0s"
        "&theme=hacker-terminal"
    )
    first = ask(site, caddy)
    assert first.status_code == 200
    assert first.headers["x-sablier-session-status"] == "not-ready"
    assert first.headers["content-type"].startswith("text/html")
    assert "Waking Hello World!" in first.text
    assert ask(site, caddy).headers["x-sablier-session-status"] == "not-ready"  # joins the wake in flight
    held.released.set()
    site.h.engine.wait_idle()
    second = ask(site, caddy)
    assert second.headers["x-sablier-session-status"] == "ready"
    assert site.wake_calls() == 1
    [(message, _)] = site.posts
    assert "review-42* woken by a visit to the Sablier API (2 requests waited" in message.text


def test_traefik_blocking_request_is_held_until_the_app_is_up(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    answer = ask(site, "/api/strategies/blocking?session_duration=1m&names=review-42&timeout=1m")
    assert answer.status_code == 200
    assert answer.headers["x-sablier-session-status"] == "ready"
    session = answer.json()["session"]
    assert session["status"] == "ready"
    assert session["instances"][0]["instance"]["name"] == "review-42"
    assert session["instances"][0]["instance"]["status"] == "ready"
    assert site.wake_calls() == 1
    assert site.h.state("review-42") is AppState.RUNNING


def test_blocking_gives_up_after_its_timeout_with_a_504_problem(tmp_path, clock, upstream) -> None:
    held = HeldWakes()
    site = Site(tmp_path, clock, upstream, hooks=held)
    site.add("review-42")
    site.asleep("review-42")
    answer = ask(site, "/api/strategies/blocking?names=review-42&timeout=300ms")
    held.released.set()
    site.h.engine.shutdown()
    assert answer.status_code == 504
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("id=timeout")
    assert "review-42" in answer.json()["detail"]


def test_a_group_wakes_every_app_of_the_sleep_together_group(two_asleep: Site) -> None:
    site = two_asleep
    answer = ask(site, "/api/strategies/blocking?group=shop&session_duration=1m0s")
    assert answer.status_code == 200
    assert sorted(i["instance"]["name"] for i in answer.json()["session"]["instances"]) == ["shop-back", "shop-front"]
    missing = ask(site, "/api/strategies/dynamic?group=nope")
    assert missing.status_code == 404
    assert missing.json()["availableGroups"] == ["shop"]


def test_unknown_and_ignored_names_get_the_same_404_and_protected_a_403(two_asleep: Site) -> None:
    site = two_asleep
    unknown = ask(site, "/api/strategies/dynamic?names=nope")
    ignored = ask(site, "/api/strategies/dynamic?names=old")
    protected = ask(site, "/api/strategies/blocking?names=admin")
    assert unknown.status_code == ignored.status_code == 404
    assert unknown.json()["type"].endswith("id=instance-not-managed")
    assert ignored.json()["detail"] == unknown.json()["detail"].replace("nope", "old")
    assert protected.status_code == 403
    assert "protected" in protected.json()["detail"]
    assert "shop" not in unknown.text  # no near names revealed
    assert site.wake_calls() == 0


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", "'names' or 'group' query parameter must be set"),
        ("names=a&group=b", "only one must be set"),
        ("names=review-42&session_duration=soon", "session_duration: invalid duration"),
    ],
)
def test_bad_requests_get_a_validation_problem(site: Site, query: str, detail: str) -> None:
    answer = ask(site, f"/api/strategies/dynamic?{query}")
    assert answer.status_code == 400
    assert detail in answer.json()["detail"]


def test_an_unknown_theme_is_refused_before_anything_wakes(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    answer = ask(site, "/api/strategies/dynamic?names=review-42&theme=pink")
    assert answer.status_code == 404
    assert answer.json()["requestTheme"] == "pink"
    assert site.wake_calls() == 0


def test_the_shared_secret_as_a_header_or_as_the_url_prefix_plugins_can_use(site: Site) -> None:
    site.up("review-42")
    query = "/api/strategies/dynamic?names=review-42"
    assert ask(site, query, secret=SECRET).status_code == 401
    assert ask(site, query, headers={"x-paastis-secret": "wrong"}, secret=SECRET).status_code == 401
    assert ask(site, query, headers={"x-paastis-secret": SECRET}, secret=SECRET).status_code == 200
    via_url = ask(site, f"/{SECRET}{query}", secret=SECRET)
    assert via_url.status_code == 200
    assert via_url.headers["x-sablier-session-status"] == "ready"


def test_a_client_asking_too_often_gets_429(site: Site) -> None:
    site.up("review-42")
    api = site.sablier(requests_per_minute=3)

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://s") as http:
            return [(await http.get("/api/strategies/dynamic?names=review-42")).status_code for _ in range(5)]

    assert asyncio.run(go()) == [200, 200, 200, 429, 429]


def test_a_session_longer_than_the_idle_timeout_keeps_the_app_awake_that_long(site: Site) -> None:
    site.up("review-42")
    ask(site, "/api/strategies/dynamic?names=review-42&session_duration=5m0s")
    assert site.h.engine.store.keeps(site.h.clock.now()) == {}  # 5 min < 15 min idle: a request is enough
    site.visits.flush()
    assert site.h.engine.store.app(*site.h.view("review-42").ref).last_used_at == site.h.clock.now()
    ask(site, "/api/strategies/dynamic?names=review-42&session_duration=2h0m0s")
    ask(site, "/api/strategies/dynamic?names=review-42&session_duration=2h0m0s")
    [keep] = site.h.engine.store.keeps(site.h.clock.now()).values()
    assert keep.until == site.h.clock.now() + timedelta(hours=2)
    assert len(site.h.engine.store.events(actions=("kept",))) == 1  # renewed at half-time, not per request


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m0s", 60), ("30s", 30), ("1h30m", 5400), ("500ms", 0.5), ("1.5s", 1.5), ("0", 0), ("2h0m0s", 7200)],
)
def test_go_durations_as_the_plugins_send_them(text: str, seconds: float) -> None:
    assert go_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["1", "5 m", "m", "1d", "-1s"])
def test_go_durations_that_are_not(text: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        go_duration(text)


def test_a_wake_that_fails_is_an_error_not_a_wait_and_is_not_retried_per_request(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    site.h.world.fail("wake", times=-1)
    ask(site, "/api/strategies/dynamic?names=review-42")
    site.h.engine.wait_idle()
    answer = ask(site, "/api/strategies/blocking?names=review-42&timeout=30s")
    assert answer.status_code == 500
    assert answer.json()["detail"].startswith("wake failed: review-42:")
    page = ask(site, "/api/strategies/dynamic?names=review-42")
    assert page.headers["x-sablier-session-status"] == "not-ready"
    assert site.wake_calls() == 1


def test_show_details_lists_each_app_with_its_status_on_the_waiting_page(tmp_path, clock, upstream) -> None:
    held = HeldWakes()
    site = Site(tmp_path, clock, upstream, hooks=held)
    site.add("review-42")
    site.add("review-43")
    site.asleep("review-42")
    query = "/api/strategies/dynamic?names=review-43&names=review-42"
    detailed = ask(site, query + "&show_details=true")
    assert detailed.status_code == 200
    assert "<li>review-42: not-ready</li><li>review-43: ready</li>" in detailed.text  # sorted by name, as Sablier
    assert "<li>" not in ask(site, query).text  # off by default
    assert "<li>" not in ask(site, query + "&show_details=0").text
    wrong = ask(site, query + "&show_details=maybe")
    assert wrong.status_code == 400
    assert "show_details: 'maybe' is not true or false" in wrong.json()["detail"]
    held.released.set()
    site.h.engine.wait_idle()
    site.h.engine.shutdown()


def test_each_builtin_sablier_theme_has_its_own_look(site: Site) -> None:
    site.up("review-42")
    pages = {}
    for theme in ("", "ghost", "shuffle", "hacker-terminal", "matrix"):
        answer = ask(site, f"/api/strategies/dynamic?names=review-42&theme={theme}")
        assert answer.status_code == 200, theme
        pages[theme] = answer.text.split("<style>")[1].split("</style>")[0]
    assert len(set(pages.values())) == 5
    assert "#000" in pages["hacker-terminal"]
    assert "monospace" in pages["matrix"]
    refused = ask(site, "/api/strategies/dynamic?names=review-42&theme=pink")
    assert refused.json()["availableTheme"] == ["ghost", "hacker-terminal", "matrix", "shuffle"]
