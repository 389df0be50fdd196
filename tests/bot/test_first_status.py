"""The first `/paastis status` after start (issue 12): activity is read right after the
first discovery, within the provider's budget; an app the budget left for later says when
its first check comes, never a bare "not checked yet"."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.chat import plain_text
from bot.config.loading import Settings
from bot.engine.actors import Actor
from bot.terminal import Terminal, TerminalDestination
from bot.wiring import build
from providers import parse_spec
from tests.fakes.clock import FakeClock

ADA = Actor("U0ADA", "Ada")


def first_status(tmp_path: Path, clock: FakeClock, apps: int, rate_limit: int | None) -> list[str]:
    options = {"apps": [f"review-{n:02}" for n in range(1, apps + 1)]}
    if rate_limit:
        options["rate_limit"] = rate_limit
    spec, problems = parse_spec("fake", options, where="test")
    assert spec is not None, problems
    settings = Settings(
        providers=(spec,), db_path=tmp_path / "p.db", sweep_cron="0 0 1 1 *", timezone=ZoneInfo("Europe/Paris")
    )
    paastis = build(settings, clock=clock)
    try:
        paastis.start()  # what `paastis serve` runs before it answers anyone
        reply = TerminalDestination(Terminal(io.StringIO()))
        paastis.chatops.command("status", ADA, reply)
        (answer,) = reply.sent
        return [line for line in plain_text.render(answer, lambda b: 0).splitlines() if line.startswith("review-")]
    finally:
        paastis.close()


def test_the_first_status_after_start_knows_every_apps_activity(tmp_path: Path, clock: FakeClock) -> None:
    lines = first_status(tmp_path, clock, apps=6, rate_limit=None)
    assert len(lines) == 6
    assert all("last activity 20 min ago" in line for line in lines), lines  # read from the provider
    assert not [line for line in lines if "check" in line]


def test_an_app_the_budget_left_for_later_says_when_its_first_check_comes(tmp_path: Path, clock: FakeClock) -> None:
    clock.set(clock.now().replace(hour=11, minute=30, second=10))  # 12:30:10 in Paris
    lines = first_status(tmp_path, clock, apps=12, rate_limit=10)  # 10 calls a minute, 2 kept for wakes
    checked = [line for line in lines if "last activity" in line]
    later = [line for line in lines if "activity: first check by 12:32 CET" in line]
    assert len(checked) == 7, lines  # 10 - 1 (discovery) - 2 (the reserve)
    assert len(later) == 5, lines
    assert not [line for line in lines if "not checked yet" in line]
