"""The HTTP policy both provider clients follow, on scripted answers and a fake clock.

The clients' own suites (test_scalingo, test_clever_cloud) pin it over their fake APIs;
these cases are the ones no fake API reaches: a Retry-After too long to wait for, a lost
connection on a POST, the mapping of every status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from providers.base import AuthenticationFailed, ProviderError, ProviderUnavailable, RateLimited
from providers.budget import CallBudget
from providers.http import HttpPolicy, NoAnswer, Request, error_for_status, send_with_retries
from tests.fakes.clock import FakeClock

POLICY = HttpPolicy(
    api="Example",
    credentials_hint="Check EXAMPLE_TOKEN.",
    attempts=4,
    first_wait=1.0,
    longest_wait=30.0,
    retry_unavailable=True,
)
GET = Request("GET", "/apps", "example-1")


@dataclass
class Scripted:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class Script:
    """`send` answers (or fails) as scripted, and remembers when each try was made."""

    clock: FakeClock
    steps: Iterator[Scripted | Exception]
    at: list[float] = field(default_factory=list)

    def send(self) -> Scripted:
        self.at.append(self.clock.now().timestamp())
        step = next(self.steps)
        if isinstance(step, Exception):
            raise step
        return step

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.at, self.at[1:], strict=False)]


def run(
    *steps: Scripted | Exception,
    request: Request = GET,
    policy: HttpPolicy = POLICY,
    renew: Callable[[], bool] | None = None,
) -> tuple[Script, CallBudget, Scripted | ProviderError]:
    clock = FakeClock()
    script = Script(clock, iter(steps))
    budget = CallBudget(clock, limit=60, reserve=10)
    try:
        result: Scripted | ProviderError = send_with_retries(
            script.send,
            policy=policy,
            request=request,
            budget=budget,
            sleep=clock.sleep,
            detail=lambda answer: "said so",
            renew=renew,
        )
    except ProviderError as exc:
        result = exc
    return script, budget, result


def lost(*, transient: bool = True, unsent: bool = False) -> NoAnswer:
    return NoAnswer(ProviderUnavailable("no answer"), reason="ConnectError", transient=transient, unsent=unsent)


def test_a_429_backs_off_doubling_and_throttles_the_budget() -> None:
    script, budget, result = run(Scripted(429), Scripted(429), Scripted(200))

    assert isinstance(result, Scripted)
    assert result.status_code == 200
    assert script.gaps() == [1.0, 2.0]
    assert budget.total_throttles == 2
    assert budget.total_calls == 3


def test_retry_after_is_honoured_on_a_503() -> None:
    script, _, result = run(Scripted(503, {"Retry-After": "7"}), Scripted(200))

    assert isinstance(result, Scripted)
    assert script.gaps() == [7.0]


def test_a_retry_after_longer_than_the_policy_waits_for_goes_to_the_caller_at_once() -> None:
    script, budget, result = run(Scripted(429, {"Retry-After": "120"}), Scripted(200))

    assert isinstance(result, RateLimited)
    assert result.retry_after == 120
    assert len(script.at) == 1
    assert budget.snapshot().throttled_until is not None


def test_tries_are_bounded_and_the_last_answer_says_why() -> None:
    script, _, result = run(*[Scripted(503, {})] * 5)

    assert isinstance(result, ProviderUnavailable)
    assert "HTTP 503" in str(result)
    assert "after 4 attempts" in str(result)
    assert len(script.at) == 4
    assert script.gaps() == [1.0, 2.0, 4.0]


def test_a_post_is_not_sent_again_after_a_503_or_a_lost_connection() -> None:
    post = Request("POST", "/apps/api/redeploy", "example-1", "api")

    script, _, result = run(Scripted(503), Scripted(200), request=post)
    assert isinstance(result, ProviderUnavailable)
    assert len(script.at) == 1

    script, _, result = run(lost(), Scripted(200), request=post)
    assert isinstance(result, ProviderUnavailable)
    assert len(script.at) == 1

    script, _, result = run(lost(unsent=True), Scripted(200), request=post)  # it never left: safe to send
    assert isinstance(result, Scripted)
    assert len(script.at) == 2


def test_a_lost_connection_is_retried_only_when_transient_and_the_policy_says_so() -> None:
    script, _, result = run(lost(), Scripted(200))
    assert isinstance(result, Scripted)
    assert script.gaps() == [1.0]

    script, _, result = run(lost(transient=False), Scripted(200))
    assert isinstance(result, ProviderUnavailable)
    assert len(script.at) == 1

    strict = HttpPolicy(api="Example", credentials_hint="", attempts=5, first_wait=5.0, longest_wait=60.0)
    script, _, result = run(lost(), Scripted(503), Scripted(200), policy=strict)
    assert isinstance(result, ProviderUnavailable)
    assert len(script.at) == 1
    script, _, result = run(Scripted(503), Scripted(200), policy=strict)
    assert isinstance(result, ProviderUnavailable)
    assert len(script.at) == 1


def test_a_401_renews_the_credentials_once_without_counting_a_try() -> None:
    renewals: list[int] = []

    def renew() -> bool:
        renewals.append(1)
        return True

    script, _, result = run(Scripted(401), Scripted(200), renew=renew)
    assert isinstance(result, Scripted)
    assert len(renewals) == 1
    assert script.gaps() == [0.0]

    script, _, result = run(Scripted(401), Scripted(401), Scripted(200), renew=renew)
    assert isinstance(result, AuthenticationFailed)
    assert len(script.at) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, "AuthenticationFailed"),
        (403, "AuthenticationFailed"),
        (404, "AppNotFound"),
        (429, "RateLimited"),
        (500, "ProviderUnavailable"),
        (503, "ProviderUnavailable"),
        (400, "OperationRejected"),
        (409, "OperationRejected"),
        (422, "OperationRejected"),
    ],
)
def test_every_error_status_is_one_provider_error(status: int, error: str) -> None:
    mapped = error_for_status(POLICY, Request("GET", "/apps/api", "example-1", "api"), status, "said so")

    assert type(mapped).__name__ == error
    assert mapped.provider == "example-1"
    assert mapped.app == "api"
    assert "Example" in str(mapped)
    assert "said so" in str(mapped)
    if isinstance(mapped, AuthenticationFailed):
        assert "Check EXAMPLE_TOKEN." in str(mapped)
