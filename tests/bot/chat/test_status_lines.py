"""Status lines a person reads in a second (issue 12, item 3): no budget counts in the
header unless they change what Paastis does, and `keep 2h` answers "2 h"."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import answers, plain_text
from bot.chat.chatops import Chatops, ChatopsOptions
from bot.config.loading import Permissions
from bot.engine.actors import Actor
from bot.policy.pricing import Prices
from bot.terminal import Terminal, TerminalDestination
from providers.base import AppState, BudgetSnapshot
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    h = Harness(tmp_path / "p.db", clock)
    h.add("hello")
    h.discover()
    return h


def header(harness: Harness, budget: BudgetSnapshot) -> str:
    message = answers.status(
        [harness.view("hello")], harness.clock.now(), PARIS, budgets={"clever-par": budget, "fake": None}
    )
    return plain_text.render(message, lambda b: 0).splitlines()[1]


def test_the_status_header_shows_no_budget_counts_while_they_change_nothing(harness: Harness) -> None:
    calm = header(harness, BudgetSnapshot(limit_per_minute=120, used_last_minute=2, reserved_for_actions=24))
    assert "API" not in calm
    assert "calls this minute" not in calm


def test_the_status_header_says_when_a_provider_budget_holds_paastis_back(harness: Harness) -> None:
    full = header(harness, BudgetSnapshot(limit_per_minute=120, used_last_minute=96, reserved_for_actions=24))
    assert "clever-par API near its limit: activity checks wait" in full
    throttled = BudgetSnapshot(120, 3, 24, throttled_until=harness.clock.now() + timedelta(seconds=30))
    assert "clever-par API rate-limited: backing off" in header(harness, throttled)


class Ticking(FakeClock):
    """A clock that moves 3 s each time it is read, as the real one does between parse and answer."""

    def now(self):  # type: ignore[override]
        self.advance(seconds=3)
        return super().now()


def test_keep_2h_answers_2_h_even_when_the_clock_moved_since_the_command_was_read(tmp_path: Path) -> None:
    clock = Ticking()
    harness = Harness(tmp_path / "p.db", clock)
    harness.add("hello")
    harness.discover()
    chatops = Chatops(harness.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    reply = TerminalDestination(Terminal(io.StringIO()))
    chatops.command("keep hello 2h", Actor("U1", "Ada", is_admin=True), reply)
    (answer,) = reply.sent
    assert "(2 h)" in answer.text, answer.text


def test_the_report_and_the_log_say_a_sleep_as_a_person_would(tmp_path: Path, clock: FakeClock) -> None:
    """'Over the last day', '42 min' slept (not '0 h' beside a saving), an app put to sleep
    counted asleep, and 'slept by Ada' without '— asked by Ada'."""
    harness = Harness(tmp_path / "p.db", clock)
    harness.add("hello")
    harness.discover()
    chatops = Chatops(harness.engine, ChatopsOptions(PARIS, Permissions(), Prices()))
    ada = Actor("U1", "Ada", is_admin=True)
    reply = TerminalDestination(Terminal(io.StringIO()))
    chatops.command("sleep hello", ada, reply)
    deadline = time.monotonic() + 10
    while len(reply.sent) < 2 and time.monotonic() < deadline:  # the sleep runs on the engine's executor
        time.sleep(0.01)
    assert "going to sleep" in reply.sent[-1].text, reply.sent
    clock.advance(minutes=42)
    harness.discover()

    report = plain_text.render(chatops.report(), lambda b: 0)
    assert "Over the last day: 42 min of app time slept (1 app)" in report, report
    assert "0 h" not in report
    assert "fake: 0 awake · 1 asleep" in report
    assert "changing state" not in report
    log = plain_text.render(chatops._log("hello"), lambda b: 0)
    assert "hello slept by Ada" in log
    assert "asked by Ada" not in log


def test_an_app_being_put_to_sleep_reads_going_to_sleep_in_status_and_report(harness: Harness) -> None:
    view = harness.view("hello")
    stopping = replace(view, row=replace(view.row, state=AppState.STOPPING))
    message = answers.status([stopping], harness.clock.now(), PARIS)
    text = plain_text.render(message, lambda b: 0)
    assert "1 app · 0 running · 0 asleep · 1 going to sleep" in text
    assert "hello · 🌙 going to sleep" in text
    assert "stopping" not in text


def test_the_log_names_a_command_line_actor_as_such(harness: Harness) -> None:
    view = harness.view("hello")
    for user in ("cli", "ada"):
        harness.engine.keep(view, harness.clock.now() + timedelta(hours=1), Actor(f"cli:{user}", user, True, via="cli"))
    log = plain_text.render(answers.event_log(harness.engine.store.events(limit=5), harness.clock.now(), PARIS), str)
    assert "by the command line" in log
    assert "by ada (command line)" in log
    assert "by cli" not in log
