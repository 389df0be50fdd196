"""Slack's rate limits, kept before they are hit: token buckets on real (monotonic) time.

chat.postMessage allows about one message a second per channel with short bursts;
chat.update is Tier 3, 50+ a minute for the workspace. Paastis keeps under both, and reads
Retry-After when Slack answers 429 all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError


@dataclass(frozen=True)
class Pace:
    per_second: float
    burst: int


POSTS = Pace(1.0, 2)  # per channel: Slack tolerates "short bursts"; 2 stays well inside
UPDATES = Pace(40 / 60, 5)  # for the workspace: Tier 3 is 50+ a minute


class Bucket:
    """Tokens refilled at `pace.per_second`, at most `pace.burst`; `wait()` says how long until one."""

    def __init__(self, pace: Pace, now: float) -> None:
        self.pace, self.tokens, self.at = pace, float(pace.burst), now

    def wait(self, now: float) -> float:
        self.tokens = min(self.pace.burst, self.tokens + (now - self.at) * self.pace.per_second)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.pace.per_second

    def take(self) -> None:
        self.tokens -= 1

    def drain(self) -> None:
        self.tokens = min(self.tokens, 0.0)


def retry_after(exc: SlackApiError) -> float:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
