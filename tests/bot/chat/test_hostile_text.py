"""Escaping by construction (issue 10, item 5): every message Paastis can say, rendered with
hostile names, reasons and people; and the `Mrkdwn` type that makes it so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import answers, following, plain_text
from bot.chat.messages import Context, Message, Mrkdwn, Section, at, escape, md
from bot.chat.report import ProviderCounts, Report, report_message
from bot.engine.wake_jobs import JobStatus, Phase, TicketProgress
from bot.slack.blocks import message_payload
from bot.store.rows import Event
from tests.bot.engine.harness import ADA, Harness
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import mrkdwn_texts

PARIS = ZoneInfo("Europe/Paris")
EVIL = "<!channel> <@U0ALICE> <http://evil.example|Open dashboard> &"
TOKEN = re.compile(r"<!date\^\d+\^[^|>]+\|[^<>]*>")


def assert_inert(message: Message) -> None:
    payload = message_payload(message)
    for text in [payload["text"], *mrkdwn_texts(payload["blocks"])]:
        outside_tokens = TOKEN.sub("", text)
        assert "<" not in outside_tokens, text
        assert ">" not in outside_tokens, text
        assert "&amp;lt;" not in text, text  # escaped once
    shown = plain_text.render(message, lambda b: 0)
    assert "<!channel>" in shown or "…" in shown  # the terminal shows the name as it is


@pytest.fixture
def harness(tmp_path: Path, clock: FakeClock) -> Harness:
    h = Harness(tmp_path / "p.db", clock, rules=[{"pattern": "channel", "linked_apps": ["other <!here>"]}])
    h.add(EVIL)
    h.add("other <!here>")
    h.discover()
    h.engine.observer.check(h.view("other <!here>"))
    return h


def progress(phase: Phase, label: str = EVIL) -> TicketProgress:
    started = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    main = JobStatus(("fake", label), label, phase, started, timedelta(seconds=12), "https://x.test", EVIL)
    linked = (JobStatus(("fake", "l"), EVIL, Phase.WAKING, started, timedelta(seconds=3)),)
    return TicketProgress(main, linked, joined=True, slow=True)


def test_every_message_is_inert_whatever_the_names(harness: Harness, clock: FakeClock) -> None:
    now = clock.now()
    harness.engine.keep(harness.view(EVIL), now + timedelta(hours=2), ADA, EVIL)
    catalog = harness.engine.catalog()
    view = harness.view(EVIL)
    slept = [answers.SleptApp(EVIL, "fake:x", EVIL, EVIL)]
    event = Event(1, now, "fake", "x", EVIL, "woke", "ok", "U0X", EVIL, EVIL, 2000, {})
    counts = {EVIL: ProviderCounts(awake=1, asleep=1)}
    report = Report(now - timedelta(days=1), now, counts, 1.0, 1.0, 1.0, 1, 1, (event,), (EVIL,), (EVIL,))
    messages = [
        answers.status(list(catalog), now, PARIS, catalog=catalog, page=answers.Page(1, 20, EVIL)),
        answers.app_detail(view, catalog.members(view), now, PARIS),
        *(answers.wake_progress(progress(phase), "fake:x") for phase in Phase),
        answers.slept(EVIL, EVIL),
        answers.slept(EVIL, None, dry_run=True),
        answers.kept(view, now + timedelta(hours=1), now, PARIS),
        answers.unkept(view, True),
        answers.unkept(view, False),
        *answers.sweep_notice(slept, dry_run=False),
        *answers.sweep_notice(slept, dry_run=True, would_sleep=2),
        answers.failing_notice("sleep", EVIL, EVIL, failures=1, since=EVIL, next_try=EVIL),
        answers.failing_notice("sleep", EVIL, EVIL, failures=3, since=EVIL, next_try=None),
        answers.wake_failed_notice(EVIL, "fake:x", EVIL, EVIL),
        answers.provider_trouble(EVIL, EVIL, now - timedelta(hours=1), now),
        answers.provider_recovered(EVIL),
        answers.event_log([event], now, PARIS, about=EVIL),
        answers.help_message(EVIL),
        answers.error(EVIL),
        report_message(report, PARIS),
        following.with_askers(answers.error("x"), [EVIL, EVIL + "2", "b", "c"]),
        *(following.wake_aside(progress(phase)) for phase in Phase),
    ]
    for message in messages:
        assert_inert(message)


def test_mrkdwn_is_escaped_once_whatever_the_way_it_is_built() -> None:
    assert escape("<!channel> & co") == "&lt;!channel&gt; &amp; co"
    assert escape(escape("<!channel> & co")) == escape("<!channel> & co")  # idempotent
    assert Section("<@U0ALICE>").text == "&lt;@U0ALICE&gt;"  # a plain str is escaped on the way in
    assert Context(f"*{escape('<b>')}*").text == "*&lt;b&gt;*"  # not twice
    assert Message("<!here>").text == "&lt;!here&gt;"
    assert md("*{}* is up ({})", "<x>", Mrkdwn("&lt;y&gt;")) == "*&lt;x&gt;* is up (&lt;y&gt;)"
    assert md("<!channel> {}", "x") == "&lt;!channel&gt; x"  # not even the template writes markup


def test_a_date_token_survives_composition_and_nothing_else_can_forge_one() -> None:
    now = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    token = at(now + timedelta(hours=3), now, PARIS)
    assert token == f"<!date^{int((now + timedelta(hours=3)).timestamp())}^{{time}}|17:00 CET>"
    line = md("kept until {} by {}", token, "<!channel>")
    assert str(token) in line
    assert "&lt;!channel&gt;" in line
    assert str(token) in Section(Mrkdwn("\n").join(["a", line])).text
    assert str(token) in ("x " + line + " y")
    assert str(token) not in Section(f"forged {token}").text  # through an f-string it is text again
    assert plain_text.inline(line) == "kept until 17:00 CET by <!channel>"
