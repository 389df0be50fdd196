"""Unknown activity is never idleness (issue 10): every activity parser, fed malformed, partial
and empty answers, never says "no request" about a span that held one.

A seeded generator (no dependency): each case starts from a well-formed answer that shows a
request at a known time T, then damages it in ways a parser can detect (nulls, gaps, cuts,
empty answers, wrong types, garbage). The parser must then either refuse the answer
(ActivityUnavailable, or the ValueError family the provider turns into it) or still vouch
for T: a newest request no earlier than T, or a window that starts after T. Only answers that
positively say "no request" (Scalingo's 404 "no metrics found", an empty window Clever Cloud
ended with UNTIL_REACHED) may report none.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from providers.base import Activity, ActivityUnavailable
from providers.clever_cloud.activity import last_human_deploy, requests_activity
from providers.clever_cloud.sse import SseEvent, StreamBroken
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from providers.scalingo.payloads import LATE, router_activity
from tests.fakes.clock import FakeClock
from tests.providers.scalingo.in_process import API_TOKEN, REGION, build_provider

CASES = 400
UNTIL = datetime(2026, 11, 2, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
BAD_VALUES = ("3", True, -1, float("nan"), float("inf"), [], {}, "null")
REFUSED = (ActivityUnavailable, ValueError, KeyError, TypeError, AttributeError)


def vouches_for(activity: Activity, truth: datetime) -> bool:
    """What an activity says is true of a request at `truth`: seen (not dated earlier, save
    for the one minute the metric may lag), or outside the window it speaks of."""
    if activity.last_request_at is not None:
        return activity.last_request_at >= truth - LATE
    return activity.since > truth


# -- Scalingo: the router metric ---------------------------------------------------------


def router_series(rng: random.Random) -> tuple[list[dict[str, Any]], datetime, datetime]:
    """A well-formed answer for a window of 10 to 180 minutes, its asked start, and the newest
    request T (at least two minutes before the end, so the lag allowance never hides it)."""
    minutes = rng.randint(10, 180)
    start = UNTIL.replace(second=0) - timedelta(minutes=minutes)
    points = [{"time": (start + i * MINUTE).isoformat().replace("+00:00", "Z"), "value": 0} for i in range(minutes + 1)]
    points[0]["value"] = None if rng.random() < 0.5 else 0  # as recorded, the first may be null
    newest = rng.randint(1, minutes - 2)
    for index in {newest, *rng.sample(range(1, newest + 1), k=min(3, newest))}:
        points[index]["value"] = rng.randint(1, 40)
    truth = start + newest * MINUTE + timedelta(seconds=rng.randint(0, 59))
    return points, start, truth


def damage_series(rng: random.Random, points: list[dict[str, Any]], newest: int) -> Any:
    kind = rng.choice(
        ["empty", "all-null", "null-newest", "gap", "cut", "bad-value", "no-key", "bad-time", "not-a-point", "twice"]
    )
    points = [dict(p) for p in points]
    if kind == "empty":
        return []
    if kind == "all-null":
        return [{**p, "value": None} for p in points]
    if kind == "null-newest":  # the bucket holding T, and maybe the ones after it
        for p in points[newest : newest + rng.randint(1, 3)]:
            p["value"] = None
    elif kind == "gap":
        del points[rng.randint(max(1, newest - 2), newest) : newest + rng.randint(1, 3)]
    elif kind == "cut":
        del points[newest - rng.randint(0, 1) :]
    elif kind == "bad-value":
        points[rng.randint(newest, len(points) - 1)]["value"] = rng.choice(BAD_VALUES)
    elif kind == "no-key":
        del points[newest][rng.choice(["time", "value"])]
    elif kind == "bad-time":
        points[newest]["time"] = rng.choice([None, "soon", "2026-11-02T11:00:00", 1762081200, ""])
    elif kind == "not-a-point":
        points[newest] = rng.choice([None, "x", 3, [], [points[newest]["time"], 1]])
    elif kind == "twice":
        points.insert(newest, {**points[newest], "value": 0})
    if rng.random() < 0.3:
        rng.shuffle(points)  # order is no help, and no harm
    return points


def test_no_damaged_router_metric_ever_reads_as_idleness() -> None:
    rng = random.Random(20261102)
    refused = 0
    for case in range(CASES):
        points, start, truth = router_series(rng)
        newest = int((truth - start) / MINUTE)
        body = damage_series(rng, points, newest)
        try:
            activity = router_activity(body, since=start, until=UNTIL, last_deploy_at=None)
        except REFUSED:
            refused += 1
            continue
        assert vouches_for(activity, truth), (case, body, activity)
    assert refused > CASES / 2  # most damage is refused outright


def test_a_well_formed_router_metric_still_reads_as_it_should() -> None:
    rng = random.Random(7)
    for _ in range(50):
        points, start, truth = router_series(rng)

        activity = router_activity(points, since=start, until=UNTIL, last_deploy_at=None)

        assert activity.requests > 0
        assert truth <= activity.last_request_at <= truth + MINUTE


class Answering(httpx.BaseTransport):
    """The Scalingo fake, except that the router metric answers 200 with `body`."""

    def __init__(self, inner: httpx.BaseTransport, body: Any) -> None:
        self.inner, self.body = inner, body

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stats/router"):
            return httpx.Response(200, json=self.body)
        return self.inner.handle_request(request)


@pytest.mark.parametrize(
    "body",
    [[], None, {}, "ok", [{"time": "2026-11-02T11:59:00Z", "value": None}] * 3],
    ids=["empty", "null", "object", "text", "all-null"],
)
def test_the_scalingo_provider_reads_an_empty_or_null_metric_as_unknown(body: Any) -> None:
    clock = FakeClock(UNTIL)
    world = SimulatedPaas(clock)
    world.add_app("api", formation={"web": 1}, steady_every=5)  # served every 5 s, as in the report
    fake = FakeScalingo({REGION: world}, [API_TOKEN], clock)
    if isinstance(body, list) and body:
        body = [{"time": (UNTIL.replace(second=0) - i * MINUTE).isoformat(), "value": None} for i in range(61)]
    provider = build_provider(fake, clock, transport=Answering(fake.transport(), body))

    with pytest.raises(ActivityUnavailable, match="api"):
        provider.activity(provider.list_apps()[0], UNTIL - timedelta(minutes=15))


def test_scalingo_no_metrics_found_still_means_no_request() -> None:
    clock = FakeClock(UNTIL)
    world = SimulatedPaas(clock)
    world.add_app("quiet", formation={"web": 1})
    provider = build_provider(FakeScalingo({REGION: world}, [API_TOKEN], clock), clock)
    clock.advance(minutes=30)

    activity = provider.activity(provider.list_apps()[0], clock.now() - timedelta(minutes=15))

    assert (activity.requests, activity.last_request_at) == (0, None)


# -- Clever Cloud: access-log streams ------------------------------------------------------


class Replaying:
    """A client whose access-log stream replays `events` (every resume too); a stream
    that runs out without END_OF_STREAM is broken, as `sse.read_events` says it."""

    def __init__(self, events: list[SseEvent]) -> None:
        self.events = events
        self.opened = 0

    @contextlib.contextmanager
    def stream(self, path: str, params: dict[str, Any], **where: Any) -> Iterator[Iterator[SseEvent]]:
        self.opened += 1
        yield self._events()

    def _events(self) -> Iterator[SseEvent]:
        for event in self.events:
            yield event
            if event.event == "END_OF_STREAM":
                return
        raise StreamBroken("the Clever Cloud event stream closed without END_OF_STREAM")


def access_log(when: datetime, key: str) -> SseEvent:
    data = {"id": key, "date": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "http": {}}
    return SseEvent("ACCESS_LOG", json.dumps(data), key)


def access_log_stream(rng: random.Random) -> tuple[list[SseEvent], datetime, datetime]:
    since = UNTIL - timedelta(minutes=rng.randint(5, 60))
    count = rng.randint(1, 30)
    times = sorted(since + (UNTIL - since) * rng.random() for _ in range(count))
    events = [SseEvent("HEARTBEAT", "{}")]
    for n, when in enumerate(times):
        events.append(access_log(when, f"{int(when.timestamp() * 1000)}-{n}"))
        if rng.random() < 0.2:
            events.append(SseEvent("HEARTBEAT", "{}"))
    events.append(SseEvent("END_OF_STREAM", json.dumps({"endedBy": "UNTIL_REACHED"})))
    return events, since, times[-1]


def damage_stream(rng: random.Random, events: list[SseEvent]) -> list[SseEvent]:
    logs = [i for i, e in enumerate(events) if e.event == "ACCESS_LOG"]
    newest = logs[-1]
    kind = rng.choice(["no-end", "bad-end", "bad-log", "no-id", "cut", "nothing", "heartbeats", "early-end"])
    events = list(events)
    if kind == "no-end":
        events.pop()
    elif kind == "bad-end":
        events[-1] = SseEvent("END_OF_STREAM", rng.choice(["", "null", "{}", "[]", '{"endedBy": null}', "{oops"]))
    elif kind == "early-end":
        events[-1] = SseEvent("END_OF_STREAM", json.dumps({"endedBy": rng.choice(["LIMIT_REACHED", "TIMEOUT", ""])}))
    elif kind == "bad-log":
        entry = json.loads(events[newest].data)
        spoilt = rng.choice(
            [
                "{not json",
                "null",
                "[]",
                json.dumps({k: v for k, v in entry.items() if k != "date"}),
                json.dumps({**entry, "date": entry["date"].removesuffix("Z")}),  # no time zone
                json.dumps({**entry, "date": rng.choice([None, "yesterday", 1762081200, ""])}),
            ]
        )
        events[newest] = SseEvent("ACCESS_LOG", spoilt, events[newest].id)
    elif kind == "no-id":
        entry = json.loads(events[newest].data)
        events[newest] = SseEvent("ACCESS_LOG", json.dumps({k: v for k, v in entry.items() if k != "id"}), None)
    elif kind == "cut":
        del events[rng.randint(1, newest) :]
    elif kind == "nothing":
        events = []
    elif kind == "heartbeats":
        events = [SseEvent("HEARTBEAT", "{}")] * rng.randint(1, 5)
    if rng.random() < 0.3:
        events.insert(rng.randint(0, len(events)), SseEvent("message", "{}"))  # unknown events are skipped
    return events


def test_no_damaged_access_log_stream_ever_reads_as_idleness() -> None:
    rng = random.Random(1013)
    refused = 0
    for case in range(CASES):
        events, since, truth = access_log_stream(rng)
        damaged = damage_stream(rng, events)
        try:
            count, newest = requests_activity(Replaying(damaged), "/v4/accesslogs", since, UNTIL, app="app_x")  # type: ignore[arg-type]
        except ActivityUnavailable:
            refused += 1
            continue
        assert count > 0, (case, damaged)
        assert newest is not None
        assert newest >= truth, (case, damaged)
    assert refused > CASES / 2


def test_only_an_empty_window_ended_until_reached_is_no_request() -> None:
    ended = SseEvent("END_OF_STREAM", json.dumps({"endedBy": "UNTIL_REACHED"}))

    count, newest = requests_activity(Replaying([ended]), "/v4/x", UNTIL - MINUTE * 15, UNTIL, app="app_x")  # type: ignore[arg-type]

    assert (count, newest) == (0, None)


# -- Clever Cloud: deployments (a deploy is use) -------------------------------------------


def deployments(rng: random.Random) -> tuple[list[Any], datetime]:
    human = UNTIL - timedelta(minutes=rng.randint(1, 600))
    listed: list[Any] = [
        {
            "id": n,
            "date": int((human - timedelta(hours=n)).timestamp() * 1000),
            "action": "DEPLOY",
            "author": {"id": "u"},
        }
        for n in range(rng.randint(1, 5))
    ]
    return listed, human


def damage_deployments(rng: random.Random, listed: list[Any]) -> Any:
    kind = rng.choice(["date", "author", "entry", "body"])
    listed = [dict(d) for d in listed]
    if kind == "date":
        listed[0]["date"] = rng.choice([None, "yesterday", "", [], 10**30])
    elif kind == "author":
        listed[0]["author"] = rng.choice(["u", 3, ["u"]])
    elif kind == "entry":
        listed[0] = rng.choice([None, "DEPLOY", 3])
    else:
        return rng.choice([{"deployments": listed}, "[]", 3])
    return listed


def test_no_damaged_deployment_list_hides_a_deploy() -> None:
    rng = random.Random(4021)
    for case in range(CASES):
        listed, human = deployments(rng)
        damaged = damage_deployments(rng, listed)
        try:
            deployed = last_human_deploy(damaged, "paastis-user")
        except ActivityUnavailable:
            continue
        assert deployed is not None, (case, damaged)
        assert deployed >= human - timedelta(milliseconds=1), (case, damaged)
