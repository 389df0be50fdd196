"""Plans: apps beyond the limit are not monitored (never checked, never slept), chosen
deterministically, and chosen by users with monitor / unmonitor."""

from __future__ import annotations

import io
import json
import threading

from bot.hosted.plans import KnownApp, choose_monitored
from bot.hosted.registry import Registry
from bot.hosted.server import list_workspaces, set_plan
from tests.bot.hosted.conftest import ACME, ADA, BOB, Hosted


def test_the_free_plan_monitors_the_three_oldest_known_apps_and_says_which_are_not(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")

    assert hosted.discover(ACME) == ["api", "blog", "shop"]
    hosted.clock.advance(hours=3)
    hosted.tenant(ACME).paastis.engine.sweep()
    answer = json.dumps(hosted.command(ACME, BOB, "plan")[0].json())

    assert "apps 3/3" in answer
    assert "Not monitored (plan limit: 3): docs" in answer
    assert {c.operation for c in hosted.world(ACME).calls if c.app == "docs"} == set()


def test_monitor_over_the_limit_is_a_clear_message_and_unmonitor_makes_room(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")
    hosted.discover(ACME)

    over = hosted.command(ACME, ADA, "monitor docs")[0].json()["text"]
    hosted.command(ACME, ADA, "unmonitor blog")
    hosted.command(ACME, ADA, "monitor docs")

    assert "Plan free monitors 3 apps at once and 3 are monitored (shop, blog, api)" in over
    assert hosted.discover(ACME) == ["api", "docs", "shop"]


def test_a_member_may_not_choose_what_is_monitored(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")
    hosted.discover(ACME)

    answer = hosted.command(ACME, BOB, "unmonitor shop")[0].json()["text"]

    assert "Only this workspace's admins and owners" in answer
    assert hosted.discover(ACME) == ["api", "blog", "shop"]


def test_the_operator_sets_a_plan_and_the_workspace_gets_its_limits(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")
    out = io.StringIO()

    assert set_plan(hosted.settings, ACME, "team", "green", out) == 0
    assert hosted.discover(ACME) == ["api", "blog", "docs", "shop"]
    assert "plan team (green): 3 provider(s), 20 apps" in out.getvalue()
    assert set_plan(hosted.settings, "T0NOBODY", "team", None, out) == 1
    listing = io.StringIO()
    list_workspaces(hosted.settings, listing)
    assert "T0ACME 'Acme' · installed · plan team (green)" in listing.getvalue()
    assert "apps monitored 4/20: shop, blog, api, docs" in listing.getvalue()


def test_pins_come_first_then_the_oldest_and_excluded_apps_never() -> None:
    apps = [
        KnownApp("p", "a", "a", 1),
        KnownApp("p", "b", "b", 2, excluded=True),
        KnownApp("p", "c", "c", 3),
        KnownApp("p", "d", "d", 4, pinned_at="2026-11-02T10:00"),
        KnownApp("p", "e", "e", 5, pinned_at="2026-11-02T09:00"),
    ]

    monitored, others = choose_monitored(apps, 3)

    assert [a.name for a in monitored] == ["e", "d", "a"]
    assert [a.name for a in others] == ["c", "b"]
    assert choose_monitored(list(reversed(apps)), 3) == (monitored, others)


def test_a_smaller_plan_never_leaves_an_app_asleep_out_of_reach(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop, blog, api, docs")
    set_plan(hosted.settings, ACME, "team", None, io.StringIO())
    hosted.discover(ACME)
    hosted.command(ACME, ADA, "sleep docs")
    assert hosted.slack.wait_for(lambda: any(c.operation == "sleep" for c in hosted.world(ACME).calls))
    hosted.clock.advance(minutes=1)

    set_plan(hosted.settings, ACME, "free", None, io.StringIO())

    assert hosted.discover(ACME) == ["api", "blog", "docs", "shop"]  # docs asleep: still there, over the limit
    answer = json.dumps(hosted.command(ACME, BOB, "plan")[0].json())
    assert "Over the limit but asleep, kept until woken: docs" in answer
    hosted.command(ACME, BOB, "wake docs")
    assert hosted.slack.wait_for(lambda: any(c.operation == "wake" for c in hosted.world(ACME).calls))
    hosted.clock.advance(minutes=5)
    assert hosted.slack.wait_for(lambda: hosted.discover(ACME) == ["api", "blog", "shop"])


def test_the_registry_answers_every_workspaces_threads_at_once(tmp_path) -> None:
    """Every workspace's threads read the one registry (its plan limit at each listing): more
    threads than a per-thread pool keeps must never find their connection closed by another."""
    registry = Registry(tmp_path / "registry.db")
    registry.save_installation(ACME, "sealed", "Acme", ADA, "2026-01-01T00:00:00+00:00")
    failures: list[BaseException] = []
    go = threading.Barrier(120)

    def read() -> None:
        go.wait()
        try:
            for _ in range(20):
                assert registry.workspace(ACME) is not None
                registry.known_apps(ACME)
        except BaseException as exc:  # every failure is the finding
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(120)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    registry.close()

    assert failures == []
