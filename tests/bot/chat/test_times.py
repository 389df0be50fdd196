"""Status never contradicts itself (issue 11, items 3 and 4): every moment shown carries its
time zone, a future event is never shown in the past, and a time to sleep says what it
counts from."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import answers, plain_text
from bot.policy.idle import Decision, Verdict
from bot.slack.blocks import message_payload
from tests.bot.engine.harness import ADA, Harness
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import walk_texts

PARIS = ZoneInfo("Europe/Paris")
TOKEN = re.compile(r"<!date\^(\d+)\^([^|>]+)\|([^>]+)>")


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    h = Harness(tmp_path / "p.db", clock, rules=[{"pattern": "^shop-front$", "linked_apps": ["shop-back"]}])
    for name in ("hello", "shop-front", "shop-back"):
        h.add(name)
    h.discover()
    return h


def shown(message) -> tuple[str, str]:
    """What the terminal shows, and what Slack receives (texts of the blocks)."""
    return plain_text.render(message, lambda b: 0), "\n".join(walk_texts(message_payload(message)["blocks"]))


def test_an_overdue_sleep_is_never_shown_as_a_time_in_the_past(harness: Harness, clock: FakeClock) -> None:
    """An app idle past its timeout that is still up (its sleep keeps failing, or the sweep
    has not run): its status must not promise a sleep at a moment already gone."""
    harness.engine.observer.check(harness.view("hello"))
    clock.advance(hours=1)
    harness.engine.observer.check(harness.view("hello"))  # idle, freshly confirmed: due
    view = harness.view("hello")
    assert view.decision.sleeps_at < clock.now()
    text, slack = shown(answers.app_detail(view, [view], clock.now(), PARIS))
    now_local = clock.now().astimezone(PARIS)
    for moment in re.findall(r"Sleeps at: (\d\d:\d\d)", text):
        assert moment >= now_local.strftime("%H:%M"), text
    for line in slack.splitlines():
        if "Sleeps at" in line or "sleeps in" in line:
            assert all(int(epoch) >= clock.now().timestamp() for epoch, _, _ in TOKEN.findall(line)), line
    assert "due since" in text


def test_every_moment_carries_its_time_zone(harness: Harness, clock: FakeClock) -> None:
    clock.set(datetime(2026, 11, 2, 13, 0, tzinfo=UTC))  # 14:00 in Paris
    view = harness.view("hello")
    until = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    text, slack = shown(answers.kept(view, until, clock.now(), PARIS))
    assert "18:00 CET" in text  # the team's time zone, named
    ((epoch, fmt, fallback),) = TOKEN.findall(slack)  # in Slack, a date token: each reader's own zone
    assert int(epoch) == int(until.timestamp())
    assert "{time}" in fmt
    assert fallback == "18:00 CET"
    harness.engine.keep(view, until, ADA, "demo")
    line = answers.app_line(harness.view("hello"), clock.now(), PARIS)
    assert "kept awake until 18:00 CET by Ada (demo)" in plain_text.inline(line)
    assert f"<!date^{int(until.timestamp())}^" in line


def test_a_sleep_time_set_by_the_group_names_the_member(harness: Harness, clock: FakeClock) -> None:
    for name in ("shop-front", "shop-back"):
        harness.engine.observer.check(harness.view(name))
    clock.advance(minutes=50)
    harness.world.hit("shop-front", 1)
    for name in ("shop-front", "shop-back"):
        harness.engine.observer.check(harness.view(name))
    catalog = harness.engine.catalog()
    back = harness.view("shop-back")
    assert back.decision.verdict is Verdict.KEEP
    line = plain_text.inline(answers.app_line(back, clock.now(), PARIS, catalog=catalog))
    assert "sleeps in" in line
    assert "shop-front" in line, line  # what keeps it up is named
    detail, _ = shown(answers.app_detail(back, catalog.members(back), clock.now(), PARIS))
    assert "shop-front" in detail.split("Group")[0], detail


def test_a_sleep_time_counted_from_when_watching_began_says_so(harness: Harness, clock: FakeClock) -> None:
    harness.engine.observer.check(harness.view("hello"))
    clock.advance(minutes=50)
    view = harness.view("hello")
    started = clock.now() - timedelta(minutes=3)
    watched = replace(view, decision=Decision(Verdict.KEEP, "idle", sleeps_at=started + timedelta(minutes=15)))
    line = plain_text.inline(answers.app_line(watched, clock.now(), PARIS))
    assert f"watched since {started.astimezone(PARIS):%H:%M} CET" in line, line
    assert "sleeps in 12 min" in line
