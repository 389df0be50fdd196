"""Pages, not catalogs: status, an app's status, the report and App Home read what they show
(a page, an app with its group, the apps the report names) and say exactly what they said
when every app was decided for them."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import answers
from bot.chat.chatops import Chatops, ChatopsOptions
from bot.chat.messages import WAKE
from bot.chat.report import build_report, report_message
from bot.config.loading import Permissions
from bot.policy.pricing import Prices
from bot.slack.home import home_message
from bot.terminal import Terminal, TerminalDestination
from providers.base import ProviderError
from tests.bot.engine.harness import ADA, Harness
from tests.fakes.clock import FakeClock

PARIS = ZoneInfo("Europe/Paris")
RULES = [
    {"pattern": r"^shop-pr(\d+)-front$", "linked_apps": ["shop-pr$1-back"]},
    {"pattern": "^prod-", "protect": True},
    {"pattern": "^team-", "group": "team"},
    {"pattern": "^old-", "app_max_idle_time": 600},
]


@pytest.fixture
def h(where: str, clock: FakeClock) -> Harness:
    """57 apps: idle ones put to sleep, busy ones, a group, linked apps, protected, kept,
    worker-only, crashed, unreadable, a sleep that keeps failing, unused for a week."""
    h = Harness(where, clock, rules=RULES)  # on SQLite and PostgreSQL
    for i in range(40):
        h.add(f"app-{i:02d}", steady_every=60 if i % 3 else None)
    for name in ("shop-pr1-front", "shop-pr1-back", "team-a", "team-b", "team-c", "prod-api", "old-wiki"):
        h.add(name, steady_every=60 if name in ("shop-pr1-front", "team-a") else None)
    h.add("cron", {"clock": 1})
    for name in ("broken", "unreadable", "stubborn", "kept"):
        h.add(name, steady_every=60)  # up until the week after
    for name in ("Zeta", "alpha", "beta", "gamma", "delta"):
        h.add(name)
    h.discover()
    h.clock.advance(minutes=20)
    h.sweep()  # the idle ones sleep, and stay unused for a week
    h.clock.advance(days=8)
    h.world.crash("broken")
    h.world.steady("stubborn", None)
    h.world.steady("kept", None)
    h.world.fail("activity", "unreadable", times=-1)
    h.world.fail("sleep", "stubborn", ProviderError("the fake PaaS refused"), times=-1)
    h.engine.keep(h.view("kept"), h.clock.now() + timedelta(hours=2), ADA, "demo")
    h.discover()
    h.sweep()
    h.clock.advance(minutes=3)
    h.discover()
    return h


def test_every_page_of_status_says_what_the_whole_catalog_said(h: Harness) -> None:
    chatops = Chatops(h.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    full = h.engine.catalog()
    now, budgets = h.clock.now(), h.engine.budgets()
    for number in (1, 2, 3, 99):
        page = answers.Page(number, answers.STATUS_PAGE_SIZE)
        expected = answers.status(full.search(None), now, PARIS, page=page, budgets=budgets, catalog=full)
        assert chatops._status_page(None, number) == expected, number
    assert "Page 1 of 3" in str(chatops._status_page(None, 1))


@pytest.mark.parametrize("name", ["app-07", "shop-pr1-back", "team-b", "prod-api", "stubborn", "kept", "zeta", "cron"])
def test_an_app_s_status_says_what_the_whole_catalog_said(h: Harness, name: str) -> None:
    chatops = Chatops(h.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    full = h.engine.catalog()
    view = full.find(name)
    assert chatops._status(name) == answers.app_detail(view, full.members(view), h.clock.now(), PARIS)


def test_the_report_and_app_home_say_what_the_whole_catalog_said(h: Harness) -> None:
    chatops = Chatops(h.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    full, store, now = h.engine.catalog(), h.engine.store, h.clock.now()
    start = now - timedelta(days=1)
    data = build_report(
        list(full), store.naps(start), store.events(since=start, limit=10_000), store.provider_health(),
        Prices(), start, now,
    )  # fmt: skip
    expected = report_message(data, PARIS)
    report = chatops.report()
    assert report == expected
    for said in ("Unused for 7 days", "`app-00`", "broken: crashed", "unreadable: activity unreadable"):
        assert said in str(report)
    for number in (1, 2):
        paged = home_message(lambda: full.search(None), report, now, PARIS, number=number, page_of=h.engine.fleet.page)
        assert paged == home_message(full.search(None), report, now, PARIS, number=number)


def test_an_app_found_or_lost_by_discovery_shows_at_once(h: Harness) -> None:
    chatops = Chatops(h.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    assert chatops._status_page(None, 1).text.startswith("57 apps")
    h.add("aaa-new")
    h.world.remove_app("Zeta")
    h.discover()

    first = chatops._status_page(None, 1)

    assert first.text.startswith("57 apps")
    assert "aaa-new" in str(first.blocks[3])
    assert "Zeta" not in str(chatops._status_page(None, 3))
    assert "aaa-new" in str(chatops._status("aaa-new"))


def test_a_wake_click_reads_the_app_and_its_group_not_every_app(tmp_path: Path, clock: FakeClock) -> None:
    h = Harness(tmp_path / "p.db", clock, rules=RULES)
    front, back = h.add("shop-pr2-front"), h.add("shop-pr2-back")
    for i in range(5):
        h.add(f"other-{i}")
    h.discover()
    clock.advance(minutes=20)
    h.sweep()  # all asleep
    h.discover()
    chatops = Chatops(h.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    h.engine.fleet.catalog = lambda: pytest.fail("every app was read")  # type: ignore[method-assign]

    chatops.click(WAKE, f"fake:{front}", ADA, TerminalDestination(Terminal(io.StringIO())))
    chatops.command("wake other-3", ADA, TerminalDestination(Terminal(io.StringIO())))

    assert h.engine.wait_idle(30)
    assert [h.calls("wake", app) for app in (front, back, "other-3", "other-2")] == [1, 1, 1, 0]
