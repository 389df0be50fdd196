"""The first run's plan, as Slack gets it: every app named or counted, within Block Kit's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.chat.messages import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.chat.plan import plan_message
from bot.engine.notices import FirstRunPlan, PlannedSleep
from bot.slack.blocks import render_blocks
from tests.fakes.slack_api import walk_texts

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def planned(name: str, minutes: int | None) -> PlannedSleep:
    at = None if minutes is None else NOW + timedelta(minutes=minutes)
    return PlannedSleep(name, ("fake", name), at, "idle for 3 min of 15 min")


def test_the_plan_says_when_each_app_would_sleep_and_what_stays_up() -> None:
    plan = FirstRunPlan((planned("a", 0), planned("b", 12), planned("c", None)), kept=2, unmanaged=1)
    text = "\n".join(walk_texts(render_blocks(plan_message(plan, NOW))))
    assert "*a* — now: idle for 3 min of 15 min" in text
    assert "*b* — in 12 min: idle for 3 min of 15 min" in text
    assert "*c* — once its activity is read and found idle" in text
    assert "2 kept up (protected, kept awake, in a keep-awake window)" in text
    assert "1 not managed (ignored, or no web process and no `manage_workers` rule)" in text


def test_a_plan_of_a_thousand_long_named_apps_fits_slack() -> None:
    plan = FirstRunPlan(tuple(planned(f"<!channel>-{i:04d}-" + "x" * 90, i) for i in range(1000)), 0, 0)
    blocks = render_blocks(plan_message(plan, NOW))
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(t) <= MAX_SECTION_TEXT for t in walk_texts(blocks))
    text = "\n".join(walk_texts(blocks))
    assert "… and 960 more: `/paastis status` lists every app." in text
    assert "<!channel>" not in text  # names are text, never mentions
