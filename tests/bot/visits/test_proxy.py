"""The built-in proxy against a local upstream and the fake provider."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import SystemClock
from bot.engine.wake_jobs import Phase
from bot.visits.asgi import HTML
from bot.visits.visits import Visits
from providers.base import AppState, Formation
from providers.fake import FakeProvider, SimulatedPaas
from tests.bot.engine.harness import ADA, Harness
from tests.bot.visits.conftest import HeldWakes, Site
from tests.bot.visits.upstream import closed_port
from tests.fakes.clock import FakeClock

ROUTES = {"review-42.example.com": "review-42"}
BROWSER = {"accept": "text/html,application/xhtml+xml"}


async def _get(site: Site, path: str = "/", **kw) -> object:
    async with site.through(**kw.pop("settings", {})) as http:
        return await http.get(path, **kw)


def test_a_sleeping_app_shows_the_waiting_page_wakes_once_then_serves_its_content(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")

    async def visit():
        async with site.through() as http:
            first = await http.get("/hello", headers=BROWSER)
            site.h.engine.wait_idle()
            site.visits.refresh()
            second = await http.get("/hello?x=1", headers=BROWSER)
            return first, second

    first, second = asyncio.run(visit())
    assert first.status_code == 503
    assert first.headers["content-type"] == HTML
    assert "Waking review-42" in first.text
    assert 'http-equiv="refresh"' in first.text
    assert "<script" not in first.text
    assert "http" not in first.text.split("<body>")[1].replace("http-equiv", "")
    assert second.status_code == 200
    assert second.json()["path"] == "/hello"
    assert second.json()["query"] == "x=1"
    assert site.wake_calls() == 1
    assert site.h.state("review-42") is AppState.RUNNING
    [(message, _channel)] = site.posts
    assert "review-42* woken by a visit to review-42.example.com (1 request waited" in message.text


def test_api_clients_get_503_with_retry_after_not_the_page(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    answer = asyncio.run(_get(site, "/api/items", headers={"accept": "application/json"}))
    assert answer.status_code == 503
    assert int(answer.headers["retry-after"]) >= 1
    assert answer.json()["detail"].startswith("review-42 is waking up")


def test_a_hundred_concurrent_first_requests_make_one_provider_wake_and_all_are_served(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")

    async def one(http, n: int) -> int:
        headers = {"x-forwarded-for": f"10.0.0.{n}", "accept": "application/json"}
        for _ in range(200):
            answer = await http.get("/", headers=headers)
            if answer.status_code == 200:
                return n
            assert answer.status_code == 503, answer.text
            await asyncio.sleep(0.01)
            site.visits.refresh()
        raise AssertionError("never served")

    async def crowd():
        async with site.through(trust_forwarded=True) as http:
            return await asyncio.gather(*(one(http, n) for n in range(100)))

    assert sorted(asyncio.run(crowd())) == list(range(100))
    assert site.wake_calls() == 1
    assert len(site.posts) == 1


def test_every_request_served_is_use_written_in_batches_without_a_provider_call(site: Site) -> None:
    site.up("review-42")
    calls = len(site.h.world.calls)

    async def many():
        async with site.through() as http:
            return [(await http.get("/")).status_code for _ in range(20)]

    assert asyncio.run(many()) == [200] * 20
    assert len(site.h.world.calls) == calls  # not one provider call for 20 requests
    assert site.h.engine.store.app(*site.h.view("review-42").ref).last_used_at is None  # not yet written
    assert site.visits.flush() == 1  # one write for the 20 requests
    assert site.h.engine.store.app(*site.h.view("review-42").ref).last_used_at == site.h.clock.now()


def test_an_unknown_host_gets_a_404_page_and_wakes_nothing(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    answer = asyncio.run(_get(site, headers={"host": "nope.example.com"}))
    assert answer.status_code == 404
    assert "nope.example.com is not an app this proxy serves" in answer.text
    assert site.wake_calls() == 0


def test_protected_and_ignored_apps_are_passed_through_never_woken(site: Site) -> None:
    site.add("admin")
    site.add("old")
    site.h.discover()
    site.h.world.scale(site.h.view("admin").row.app_id, Formation(()))  # asleep, outside Paastis
    site.h.clock.advance(minutes=5)
    site.h.discover()
    assert site.h.view("admin").state is AppState.SLEEPING
    site.visits.refresh()
    for host in ("admin.example.com", "old.example.com"):
        answer = asyncio.run(_get(site, "/x", headers={"host": host}))
        assert answer.status_code == 200, host  # streamed to the app as it is: the platform answers
        assert answer.json()["headers"]["x-forwarded-host"] == host
    assert site.wake_calls() == 0
    assert site.visits.flush() == 0  # and no activity is recorded for them


def test_upstream_down_after_a_wake_is_a_502_page_and_the_wake_is_reported_failed_once(
    tmp_path, clock, upstream
) -> None:
    site = Site(tmp_path, clock, closed_port())
    site.add("review-42")
    site.asleep("review-42")
    asyncio.run(_get(site, headers=BROWSER))
    site.h.engine.wait_idle()
    site.visits.refresh()
    answers = [asyncio.run(_get(site, headers=BROWSER)) for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 502]
    assert "review-42 does not answer" in answers[0].text
    assert "reported failed" in answers[0].text
    assert "reported failed" not in answers[1].text
    failed = [n for n in site.h.notices if type(n).__name__ == "WakeFailed"]
    assert len(failed) == 1
    assert "connection refused or unreachable at 127.0.0.1" in failed[0].reason
    assert site.posts == []  # no "woken by a visit" for a wake that did not work
    site.h.engine.shutdown()


def test_a_body_over_the_limit_gets_413_whether_announced_or_streamed(site: Site) -> None:
    site.up("review-42")

    async def send():
        async with site.through(max_body=1000) as http:
            announced = await http.post("/echo", content=b"x" * 2000)

            async def chunks():
                for _ in range(4):
                    yield b"y" * 400

            streamed = await http.post("/echo", content=chunks())
            fine = await http.post("/echo", content=b"z" * 999)
            return announced, streamed, fine

    announced, streamed, fine = asyncio.run(send())
    assert announced.status_code == 413
    assert "limited to 1000 bytes" in announced.text
    assert streamed.status_code == 413
    assert fine.status_code == 200
    assert fine.json()["body_length"] == 999


def test_bodies_and_chunked_responses_are_streamed_both_ways(site: Site) -> None:
    site.up("review-42")

    async def send():
        async with site.through() as http:

            async def chunks():
                for _ in range(10):
                    yield b"a" * 1000

            echoed = await http.post("/echo", content=chunks())
            chunked = await http.get("/chunked")
            return echoed, chunked

    echoed, chunked = asyncio.run(send())
    assert echoed.json()["body_length"] == 10_000
    assert chunked.text == "one,two,three"


def test_forwarded_headers_are_set_and_spoofed_ones_dropped(site: Site) -> None:
    site.up("review-42")
    spoof = {
        "x-forwarded-for": "1.2.3.4",
        "x-forwarded-host": "evil.example.com",
        "connection": "keep-alive, x-forwarded-for",
        "x-kept": "yes",
    }
    seen = asyncio.run(_get(site, headers=spoof)).json()["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-host"] == "review-42.example.com"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["host"] == site.upstream.removeprefix("http://")
    assert seen["x-kept"] == "yes"


def test_header_injection_attempts_are_refused(site: Site) -> None:
    site.up("review-42")
    bad_hosts = ["review-42.example.com evil", "review-42.example.com/../x", ""]
    for host in bad_hosts:
        assert asyncio.run(_get(site, headers={"host": host})).status_code == 400, host
    twice = asyncio.run(_get(site, headers={"content-length": "abc"}))
    assert twice.status_code == 400


def test_websocket_upgrades_are_refused_clearly(site: Site) -> None:
    site.up("review-42")
    answer = asyncio.run(_get(site, headers={"connection": "upgrade", "upgrade": "websocket"}))
    assert answer.status_code == 501
    assert "WebSockets are not passed through" in answer.text


def test_a_flood_of_first_requests_from_one_client_gets_429(tmp_path, clock, upstream) -> None:
    held = HeldWakes()  # the wake stays in flight while the client floods
    site = Site(tmp_path, clock, upstream, hooks=held)
    site.add("review-42")
    site.asleep("review-42")

    async def flood():
        async with site.through(FakeClock(), first_requests_per_minute=5) as http:
            return [(await http.get("/", headers=BROWSER)).status_code for _ in range(8)]

    codes = asyncio.run(flood())
    held.released.set()
    site.h.engine.wait_idle()
    assert codes[:5] == [503] * 5
    assert codes[5:] == [429] * 3
    assert site.wake_calls() == 1
    site.h.engine.shutdown()


def test_the_waiting_page_estimates_from_past_wakes(site: Site) -> None:
    site.add("review-42")
    site.asleep("review-42")
    site.h.wake("review-42")  # a wake from Slack: 20 s on the fake PaaS
    site.asleep("review-42")
    page = asyncio.run(_get(site, headers=BROWSER)).text
    assert "It usually takes about 2" in page  # 20-some seconds, the wake above


def test_a_wake_that_fails_is_not_tried_again_for_every_request(tmp_path, clock, upstream) -> None:
    held = HeldWakes()
    site = Site(tmp_path, clock, upstream, hooks=held)
    site.add("review-42")
    site.asleep("review-42")
    site.h.world.fail("wake", times=-1)

    async def crowd():
        async with site.through(trust_forwarded=True) as http:
            first = await http.get("/", headers=BROWSER)
            held.released.set()
            site.h.engine.wait_idle()
            later = [await http.get("/", headers={**BROWSER, "x-forwarded-for": f"10.1.0.{n}"}) for n in range(20)]
            return first, later

    first, later = asyncio.run(crowd())
    assert first.status_code == 503  # the waiting page: the wake has just begun
    assert {a.status_code for a in later} == {502}
    assert "Paastis could not wake review-42" in later[0].text
    assert site.wake_calls() == 1  # one provider call, not 21
    site.h.clock.advance(seconds=61)
    asyncio.run(_get(site, headers=BROWSER))
    site.h.engine.wait_idle()
    assert site.wake_calls() == 2  # tried again a minute later
    site.h.engine.shutdown()


def test_a_wildcard_domain_leads_each_first_label_to_its_review_app(site: Site) -> None:
    site.add("pr-7")
    site.asleep("pr-7")
    site.visits.routes["*.review.example.com"] = "{}"

    async def visit():
        async with site.through(routes=site.visits.routes) as http:
            woken = await http.get("/", headers={**BROWSER, "host": "pr-7.review.example.com"})
            unknown = await http.get("/", headers={**BROWSER, "host": "pr-8.review.example.com"})
            deeper = await http.get("/", headers={**BROWSER, "host": "a.pr-7.review.example.com"})
            return woken, unknown, deeper

    woken, unknown, deeper = asyncio.run(visit())
    assert woken.status_code == 503
    assert "Waking pr-7" in woken.text
    assert unknown.status_code == 404
    assert deeper.status_code == 404
    site.h.engine.wait_idle()
    assert site.wake_calls() == 1


@pytest.mark.slow
def test_two_proxy_workers_on_one_database_make_one_wake_and_tell_it_once(tmp_path, upstream) -> None:
    clock = SystemClock()  # real time: each worker's wake job polls as in production
    world = SimulatedPaas(clock)
    world.add_app("review-42", formation={"web": 1}, url=upstream, boot_seconds=0.5)
    workers = []
    for _ in range(2):
        provider = FakeProvider(world, name="fake", poll_interval=0.1, wake_timeout=30)
        harness = Harness(tmp_path / "paastis.db", clock, world=world, provider=provider)  # type: ignore[arg-type]
        posts: list = []
        workers.append((harness, Visits(harness.engine, lambda m, c, p=posts: p.append(m), clock, ROUTES), posts))
    first, second = workers
    first[0].discover()
    first[0].engine.sleep(first[0].view("review-42"), ADA)
    first[0].engine.wait_idle()
    for _harness, visits, _ in workers:
        visits.refresh()
    wakes = [
        visits.wake(visits.find("review-42"), "review-42.example.com", f"10.0.0.{n}")
        for n, (_, visits, _) in enumerate(workers)
    ]
    for wake in wakes:
        assert wake.ticket.wait(10).phase is Phase.UP
    assert [w.progress.main.elsewhere for w in wakes] == [False, True]
    for harness, visits, _ in workers:
        visits.served(visits.find("review-42"))
        harness.engine.shutdown()
    assert sum(1 for c in world.calls if c.operation == "wake") == 1
    assert [len(first[2]), len(second[2])] == [1, 0]
    assert "woken by a visit to review-42.example.com" in first[2][0].text


def test_a_redirect_to_the_apps_paas_url_is_rewritten_to_the_public_domain(site: Site) -> None:
    site.up("review-42")

    async def visit():
        async with site.through() as http:
            own = await http.get("/redirect?{self}/next?a=1")
            https = await http.get("/redirect?{https}")
            elsewhere = await http.get("/redirect?https://login.example.org/sso?back=x")
            relative = await http.get("/redirect?/relative")
        async with site.through(trust_forwarded=True) as http:  # behind the PaaS's router, which speaks https
            routed = await http.get("/redirect?{self}/x", headers={"x-forwarded-proto": "https"})
        return own, https, elsewhere, relative, routed

    own, https, elsewhere, relative, routed = asyncio.run(visit())
    assert own.status_code == 302
    assert own.headers["location"] == "http://review-42.example.com/next?a=1"  # the visitor stays behind the proxy
    assert https.headers["location"] == "http://review-42.example.com"
    assert elsewhere.headers["location"] == "https://login.example.org/sso?back=x"
    assert relative.headers["location"] == "/relative"
    assert routed.headers["location"] == "https://review-42.example.com/x"
