"""Webhooks: every event POSTed, signed, retried through the scheduler, never blocking."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.config.loading import Settings
from bot.engine.webhooks import EXECUTOR, Webhook, WebhookSender, verify
from bot.wiring import Paastis, build
from providers import parse_spec
from providers.loopback import LoopbackServer
from tests.bot.engine.harness import ADA, Harness


class Receiver:
    """A receiver as a team would write one: it verifies the signature before trusting a body."""

    def __init__(self, secret: str, fail_first: int = 0, pause: float = 0.0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.pause = pause
        self.accepted: list[dict] = []
        self.rejected = 0
        self.attempts = 0

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.attempts += 1
        time.sleep(self.pause)
        if self.attempts <= self.fail_first:
            start_response("503 Service Unavailable", [])
            return [b""]
        ok = verify(
            self.secret,
            environ.get("HTTP_X_PAASTIS_TIMESTAMP", ""),
            body,
            environ.get("HTTP_X_PAASTIS_SIGNATURE", ""),
            time.time(),
        )
        if ok:
            self.accepted.append(json.loads(body))
            start_response("204 No Content", [])
        else:
            self.rejected += 1
            start_response("401 Unauthorized", [])
        return [b""]


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    """A scheduler running as `serve` runs it."""
    running = BackgroundScheduler(timezone=UTC)
    running.start()
    yield running
    running.shutdown(wait=True)


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def webhook_jobs(scheduler: BackgroundScheduler) -> list:
    return [job for job in scheduler.get_jobs() if job.executor == EXECUTOR]


def test_events_reach_the_receiver_signed(tmp_path, clock, scheduler) -> None:
    receiver = Receiver("s3cret")
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(f"{server.url}/hook", "s3cret")], scheduler)
        h = Harness(tmp_path / "p.db", clock, on_event=sender)
        h.add("review-9")
        h.discover()
        h.engine.sleep(h.view("review-9"), ADA)

        assert sender.drain()
        sender.close()
    assert [e["action"] for e in receiver.accepted] == ["discovered", "slept"]
    slept = receiver.accepted[1]
    assert (slept["app_name"], slept["actor"], slept["actor_name"]) == ("review-9", "U0ADA", "Ada")
    assert receiver.rejected == 0


def test_a_receiver_gets_the_events_in_their_order(scheduler) -> None:
    receiver = Receiver("s")
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "s")], scheduler)
        for n in range(20):
            sender({"action": "discovered", "id": n})
        assert sender.drain()
        sender.close()
    assert [e["id"] for e in receiver.accepted] == list(range(20))


def test_a_forged_signature_is_refused_by_the_receiver(scheduler) -> None:
    receiver = Receiver("the-real-secret")
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "a-guessed-secret")], scheduler, backoff=())
        sender({"action": "slept"})
        assert sender.drain()
        sender.close()
    assert receiver.rejected == 1
    assert receiver.accepted == []
    assert sender.dropped == 1


def test_a_failing_receiver_is_retried_with_backoff(scheduler) -> None:
    receiver = Receiver("s", fail_first=2)
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "s")], scheduler, backoff=(0.05, 0.05, 0.05))
        sender({"action": "woke"})
        assert sender.drain()
        sender.close()
    assert receiver.attempts == 3
    assert len(receiver.accepted) == 1
    assert (sender.delivered, sender.dropped) == (1, 0)


def test_each_retry_is_a_scheduler_job_due_after_its_back_off_then_the_delivery_is_dropped(scheduler, caplog) -> None:
    receiver = Receiver("s", fail_first=99)
    now = time.time()
    sent_at = datetime.fromtimestamp(now, UTC)

    def due(job_id: str) -> None:  # what the passing of the back-off does
        scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))

    with LoopbackServer(receiver) as server, caplog.at_level(logging.INFO, logger="bot.engine.webhooks"):
        sender = WebhookSender([Webhook(server.url, "s")], scheduler, backoff=(60.0, 600.0), clock=lambda: now)
        sender({"action": "woke"})
        assert wait_for(lambda: receiver.attempts == 1 and webhook_jobs(scheduler))
        (retry,) = webhook_jobs(scheduler)
        assert retry.next_run_time == sent_at + timedelta(seconds=60)

        due(retry.id)
        assert wait_for(lambda: receiver.attempts == 2 and webhook_jobs(scheduler))
        (last,) = webhook_jobs(scheduler)
        assert last.next_run_time == sent_at + timedelta(seconds=600)

        due(last.id)
        assert sender.drain()
        sender.close()
    assert receiver.attempts == 3
    assert webhook_jobs(scheduler) == []
    assert (sender.delivered, sender.dropped) == (0, 1)
    assert "webhook.retry url=" in caplog.text
    assert "attempts=3 why=status 503" in caplog.text


def test_a_dead_receiver_never_blocks_the_engine(tmp_path, clock, scheduler) -> None:
    sender = WebhookSender([Webhook("http://127.0.0.1:9/nothing-listens", "s")], scheduler, backoff=(60,))
    h = Harness(tmp_path / "p.db", clock, on_event=sender)
    h.add("a")
    started = time.monotonic()
    h.discover()
    assert time.monotonic() - started < 1.0
    sender.close(timeout=1)


def test_deliveries_waiting_are_bounded() -> None:
    idle = BackgroundScheduler(timezone=UTC)  # never started: deliveries wait
    sender = WebhookSender([Webhook("http://127.0.0.1:9/x", "s")], idle, max_pending=2)
    for _ in range(3):
        sender({"action": "discovered"})
    assert len(webhook_jobs(idle)) == 2
    assert sender.dropped == 1
    sender.close(timeout=0)


def test_without_a_scheduler_each_event_is_sent_at_once_and_never_retried(caplog) -> None:
    receiver = Receiver("s", fail_first=1)
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "s")], None)
        with caplog.at_level(logging.WARNING, logger="bot.engine.webhooks"):
            sender({"action": "slept"})
        assert (receiver.attempts, sender.dropped) == (1, 1)  # already over when the call returns
        sender({"action": "woke"})
        assert [e["action"] for e in receiver.accepted] == ["woke"]
        sender.close()
    assert receiver.attempts == 2
    assert "not retried" in caplog.text


def test_without_a_scheduler_a_slow_receiver_costs_the_short_timeout_only() -> None:
    receiver = Receiver("s", pause=2.0)
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "s")], None, inline_timeout=0.2)
        started = time.monotonic()
        sender({"action": "slept"})
        assert time.monotonic() - started < 1.5
        sender.close()
    assert sender.dropped == 1


def test_actions_filter_what_a_webhook_receives() -> None:
    hook = Webhook("https://example.com", "s", frozenset({"slept", "woke"}))
    assert hook.wants("slept")
    assert not hook.wants("discovered")


@contextmanager
def paastis_with_a_webhook(tmp_path: Path, *, one_shot: bool) -> Iterator[tuple[Paastis, Receiver]]:
    """Paastis as `build` makes it, with one webhook to a receiver."""
    receiver = Receiver("s")
    spec, problems = parse_spec("fake", {"apps": [{"name": "hello"}]}, where="test")
    assert spec is not None, problems
    with LoopbackServer(receiver) as server:
        settings = Settings(providers=(spec,), db_path=tmp_path / "p.db", webhooks=(Webhook(server.url, "s"),))
        paastis = build(settings, one_shot=one_shot)
        try:
            yield paastis, receiver
        finally:
            paastis.close()


def test_serve_sends_through_its_scheduler_once_it_runs(tmp_path) -> None:
    with paastis_with_a_webhook(tmp_path, one_shot=False) as (paastis, receiver):
        paastis.engine.discover()
        time.sleep(0.2)
        assert receiver.attempts == 0  # waiting for the scheduler
        paastis.start()
        assert wait_for(lambda: [e["action"] for e in receiver.accepted] == ["discovered"])


def test_a_cli_command_sends_at_once(tmp_path) -> None:
    with paastis_with_a_webhook(tmp_path, one_shot=True) as (paastis, receiver):
        paastis.engine.discover()
        assert [e["action"] for e in receiver.accepted] == ["discovered"]
