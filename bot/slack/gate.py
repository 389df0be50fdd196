"""What gets past the door, before Bolt routes a request to a listener (one middleware, `Gate`):

    signed      X-Slack-Signature and X-Slack-Request-Timestamp present and well-formed, the
                timestamp within 5 minutes, the HMAC right — else 401, whatever is malformed
                (a timestamp that is not a number is a 401 like any other, never an error)
    not seen    a signature seen in the last 5 minutes is a replay: answered 200, not acted on
    well-formed a signed payload that lacks what the listeners need: 400, one log line

Nothing in an unverified body is read or acted on (its response_url included). Socket Mode
requests come over Slack's own WebSocket, unsigned: only the payload check applies.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WINDOW = 300  # seconds: Slack's own replay window for the timestamp
_TIMESTAMP = re.compile(r"^\d{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")


class Gate(Middleware):
    """Bolt's `before_authorize`: signature, replays, then the payload's shape."""

    def __init__(self, signing_secret: str | None) -> None:
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._seen: dict[str, int] = {}  # signature → its timestamp, for WINDOW seconds
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        if req.mode != "socket_mode":
            refusal = self.refusal(req)
            if refusal is not None:
                return refusal
        problem = malformed(req.body)
        if problem:
            log.warning("slack.malformed_payload problem=%s", problem)
            return BoltResponse(status=400, body="")
        return next()

    def refusal(self, req: BoltRequest) -> BoltResponse | None:
        """None when the request is signed by Slack and new; else the answer it gets."""
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        if self.verifier is None or not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
            log.info("slack.unsigned_request reason=%s", "no signing secret" if self.verifier is None else "malformed")
            return _unauthorized()
        now = int(self.verifier.clock.now())
        sent_at = int(timestamp)
        expected = self.verifier.generate_signature(timestamp=timestamp, body=req.raw_body)
        if abs(now - sent_at) > WINDOW or expected is None or not hmac.compare_digest(expected, signature):
            log.info("slack.unsigned_request reason=%s", "stale" if abs(now - sent_at) > WINDOW else "bad signature")
            return _unauthorized()
        with self._lock:
            self._seen = {s: t for s, t in self._seen.items() if now - t <= WINDOW}
            replay = signature in self._seen
            self._seen[signature] = sent_at
        if replay:
            log.warning("slack.replay_ignored timestamp=%s", timestamp)
            return BoltResponse(status=200, body="")
        return None


def malformed(body: Any) -> str | None:
    """What a payload lacks, or None. Only the kinds Paastis handles are checked."""
    if not isinstance(body, dict):
        return "not an object"
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "block_actions without actions"
        if not isinstance(actions[0].get("action_id"), str) or not isinstance(actions[0].get("value", ""), str):
            return "an action without a string action_id and value"
        if not isinstance(body.get("user"), dict) or not isinstance(body["user"].get("id"), str):
            return "block_actions without user.id"
        if not isinstance(body.get("container", {}), dict):
            return "a container that is not an object"
    elif "command" in body:
        if not isinstance(body.get("user_id"), str) or not body["user_id"]:
            return "a command without user_id"
    elif body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event without a type"
        if event["type"] == "app_home_opened" and not isinstance(event.get("user"), str):
            return "app_home_opened without user"
    return None


def _header(req: BoltRequest, name: str) -> str:
    values = req.headers.get(name) or [""]
    value = values[0] if isinstance(values, (list, tuple)) else values
    return value if isinstance(value, str) else ""


def _unauthorized() -> BoltResponse:
    return BoltResponse(status=401, body={"error": "invalid request"})
