"""The outbound path on its own, against the fake Slack: order per channel, merged edits,
Retry-After, Slack's failures retried, refusals handed back, the outbox resumed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.outbound import Outbound
from bot.store.outbox import Outbox
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def outbound_for(slack: FakeSlack, outbox: Outbox | None = None, *, resume: bool = True) -> Outbound:
    out = Outbound(WebClient(token=slack.bot_token, base_url=slack.api_url), outbox, FakeClock())
    if resume:
        out.resume()
    return out


def text(n: object) -> dict:
    return {"text": str(n), "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": str(n)}}]}


def test_edits_of_one_message_waiting_for_slack_are_merged_into_the_latest(fake: FakeSlack) -> None:
    out = outbound_for(fake)
    try:
        sent = out.post("C0ONE", text("⏳ 0 s"))
        assert out.flush()
        fake.rate_limit("chat.update", retry_after=1)  # the first edit is refused for a second
        for n in range(1, 11):
            out.update(sent, text(f"⏳ {n} s"))
        assert out.flush(timeout=10)
        edits = [c.body["text"] for c in fake.calls_to("chat.update")]
        assert edits[-1] == "⏳ 10 s"
        assert len(edits) <= 3  # the refused one, then the latest (not ten)
        assert fake.message("C0ONE", sent.ts).current["text"] == "⏳ 10 s"
    finally:
        out.close()


def test_an_edit_queued_behind_its_post_goes_out_with_the_post(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", retry_after=1)
    out = outbound_for(fake)
    try:
        sent = out.post("C0ONE", text("first"))
        out.update(sent, text("latest"))
        assert out.flush(timeout=10)
        assert [m.text for m in fake.messages] == ["latest"]
        assert fake.calls_to("chat.update") == []
    finally:
        out.close()


def test_slacks_own_failures_are_retried_in_order_and_refusals_handed_back(fake: FakeSlack, caplog) -> None:
    fake.fail("chat.postMessage", "internal_error", times=2)
    refused: list[str] = []
    out = outbound_for(fake)
    fake.private_channels.add("G0LEFT")
    try:
        with caplog.at_level(logging.INFO, logger="bot.slack"):
            for n in range(3):
                out.post("C0ONE", text(f"notice {n}"))
            out.post("G0LEFT", text("psst"), on_refused=refused.append)
            assert out.flush(timeout=15)
        assert [m.text for m in fake.messages] == ["notice 0", "notice 1", "notice 2"]
        assert refused == ["not_in_channel"]
        first = next(r for r in caplog.records if "slack.post_delayed" in r.getMessage())
        assert first.levelno == logging.WARNING
    finally:
        out.close()


def test_notices_left_in_the_outbox_go_first_after_a_restart(fake: FakeSlack, tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    fake.outage("chat.postMessage", "fatal_error")
    stopped = Outbox(path)
    first = outbound_for(fake, stopped)
    first.post("C0ONE", text("before"), persist=True)
    first.post("C0ONE", text("also before"), persist=True)
    first.close(timeout=0.5)
    stopped.close()  # as serve stops: its notices are left to the next start
    assert fake.messages == []
    fake.outage("chat.postMessage", None)
    outbox = Outbox(path)
    assert [p.payload["text"] for p in outbox.pending()] == ["before", "also before"]
    second = outbound_for(fake, outbox, resume=False)  # as serve builds it: resumed once Slack is connected
    try:
        second.post("C0ONE", text("after"), persist=True)  # the engine may post before that
        assert second.resume() == 2
        assert second.flush(timeout=10)
        assert [m.text for m in fake.messages] == ["before", "also before", "after"]
        assert outbox.pending() == []
    finally:
        second.close()
        outbox.close()


def test_notices_of_an_instance_killed_meanwhile_are_posted_once_by_the_one_that_runs(
    fake: FakeSlack, tmp_path: Path
) -> None:
    path = tmp_path / "p.db"
    running_outbox = Outbox(path)
    running = outbound_for(fake, running_outbox)  # started first, nothing to take then
    fake.outage("chat.postMessage", "fatal_error")
    killed_outbox = Outbox(path)
    killed = outbound_for(fake, killed_outbox)
    killed.post("C0ONE", text("swept 3 apps"), persist=True)
    assert running.resume() == 0  # the other instance lives: its notice is its own
    killed.close(timeout=0.5)
    killed_outbox.close()  # gone before Slack took it
    fake.outage("chat.postMessage", None)
    try:
        assert running.resume() == 1  # the leader's next takeover
        assert running.resume() == 0
        assert running.flush(timeout=10)
        assert [m.text for m in fake.messages] == ["swept 3 apps"]
    finally:
        running.close()
        running_outbox.close()


def test_a_notice_the_database_cannot_keep_is_still_posted(fake: FakeSlack, tmp_path: Path, caplog) -> None:
    path = tmp_path / "p.db"
    path.mkdir()  # a database that cannot be written, as a full disk makes it
    outbox = Outbox(path)
    out = outbound_for(fake, outbox)
    try:
        with caplog.at_level(logging.WARNING):
            out.post("C0ONE", text("still told"), persist=True)
            assert out.flush()
        assert [m.text for m in fake.messages] == ["still told"]
        assert "outbox.unwritable channel=C0ONE" in caplog.text
    finally:
        out.close()
        outbox.close()
