"""Webhooks: every event POSTed, signed, retried, never blocking."""

from __future__ import annotations

import json
import time

from bot.engine.webhooks import Webhook, WebhookSender, verify
from providers.loopback import LoopbackServer
from tests.bot.harness import ADA, Harness


class Receiver:
    """A receiver as a team would write one: it verifies the signature before trusting a body."""

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.accepted: list[dict] = []
        self.rejected = 0
        self.attempts = 0

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.attempts += 1
        if self.attempts <= self.fail_first:
            start_response("503 Service Unavailable", [])
            return [b""]
        ok = verify(self.secret, environ.get("HTTP_X_PAASTIS_TIMESTAMP", ""), body,
                    environ.get("HTTP_X_PAASTIS_SIGNATURE", ""), time.time())  # fmt: skip
        if ok:
            self.accepted.append(json.loads(body))
            start_response("204 No Content", [])
        else:
            self.rejected += 1
            start_response("401 Unauthorized", [])
        return [b""]


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_events_reach_the_receiver_signed(tmp_path, clock) -> None:
    receiver = Receiver("s3cret")
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(f"{server.url}/hook", "s3cret")])
        sender.start()
        h = Harness(tmp_path / "p.db", clock, on_event=sender)
        h.add("review-9")
        h.discover()
        h.engine.sleep(h.view("review-9"), ADA)

        assert wait_for(lambda: len(receiver.accepted) == 2)
        sender.stop()
    assert [e["action"] for e in receiver.accepted] == ["discovered", "slept"]
    slept = receiver.accepted[1]
    assert (slept["app_name"], slept["actor"], slept["actor_name"]) == ("review-9", "U0ADA", "Ada")
    assert receiver.rejected == 0


def test_a_forged_signature_is_refused_by_the_receiver(tmp_path) -> None:
    receiver = Receiver("the-real-secret")
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "a-guessed-secret")], backoff=())
        sender.start()
        sender({"action": "slept"})
        assert wait_for(lambda: receiver.rejected == 1)
        sender.stop()
    assert receiver.accepted == []


def test_a_failing_receiver_is_retried_with_backoff(tmp_path) -> None:
    receiver = Receiver("s", fail_first=2)
    with LoopbackServer(receiver) as server:
        sender = WebhookSender([Webhook(server.url, "s")], backoff=(0.05, 0.05, 0.05))
        sender.start()
        sender({"action": "woke"})
        assert wait_for(lambda: len(receiver.accepted) == 1)
        sender.stop()
    assert receiver.attempts == 3


def test_a_dead_receiver_never_blocks_the_engine(tmp_path, clock) -> None:
    sender = WebhookSender([Webhook("http://127.0.0.1:9/nothing-listens", "s")], backoff=(60,))
    sender.start()
    h = Harness(tmp_path / "p.db", clock, on_event=sender)
    h.add("a")
    started = time.monotonic()
    h.discover()
    assert time.monotonic() - started < 1.0
    sender.stop(timeout=1)


def test_actions_filter_what_a_webhook_receives() -> None:
    hook = Webhook("https://example.com", "s", frozenset({"slept", "woke"}))
    assert hook.wants("slept") and not hook.wants("discovered")
