"""How every provider client treats HTTP: when to try again, how long to wait, what a status means.

Transport-neutral: a client (httpx for Scalingo, requests for Clever Cloud) hands
`send_with_retries` a function that sends its request once. Each try takes one call from
the provider's budget (retries are calls too)::

    ┌─▶ budget.spend() ─▶ send() ─┬─ an answer `accept` takes: returned
    │                             ├─ 401, first time, `renew()` says yes: try again (not counted)
    │                             ├─ 429 (any method): throttle the budget, wait, try again
    │                             ├─ 502/503/504 or no answer at all, GET/DELETE only (and only
    │                             │  when `retry_unavailable`): wait, try again
    └─────────────────────────────┴─ anything else, or tries spent: one of the errors below

Waits: Retry-After when the answer has one (at least 1 s), else `first_wait` doubling at
each try, at most `longest_wait`. A Retry-After longer than `longest_wait` is not waited
for: the caller gets the error at once. On 429 the call budget is throttled for the wait,
so every caller of that API holds back, not only this one.

Errors (`error_for_status`)::

    401, 403          AuthenticationFailed (with what to check)
    404               AppNotFound
    429               RateLimited (retry_after: Retry-After, else a minute)
    5xx, no answer    ProviderUnavailable
    any other 4xx     OperationRejected
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

from providers.base import (
    AppNotFound,
    AuthenticationFailed,
    OperationRejected,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from providers.budget import CallBudget

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "DELETE"})
UNAVAILABLE = frozenset({502, 503, 504})
RATE_LIMIT_WINDOW = 60.0  # seconds: a 429 without Retry-After is worth trying again in a minute


class Answer(Protocol):
    """What the policy reads of an HTTP response (httpx and requests responses both fit)."""

    status_code: int
    headers: Mapping[str, str]

    def close(self) -> None: ...


A = TypeVar("A", bound=Answer)


class NoAnswer(Exception):
    """Raised by a client's `send` that got no HTTP answer (timeout, refused, TLS…).

    Never leaves `send_with_retries`: `error` is what the caller gets if the request is not
    tried again (raised from this exception's own cause). `reason` names what happened, for
    logs. `transient`: another try may get an answer (not so for a bad certificate).
    `unsent`: the request surely never reached the API (a connect timeout), so even a POST
    may be sent again.
    """

    def __init__(self, error: ProviderUnavailable, *, reason: str, transient: bool, unsent: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.reason = reason
        self.transient = transient
        self.unsent = unsent


@dataclass(frozen=True)
class HttpPolicy:
    """One API's HTTP policy: its name in messages, how often and how long to retry."""

    api: str  # "Scalingo", "Clever Cloud"
    credentials_hint: str  # what to check when the API refuses the credentials
    attempts: int  # tries in all, the first one included
    first_wait: float  # seconds before the second try; doubles at each try
    longest_wait: float  # no back-off is longer; a longer Retry-After is not waited for
    retry_unavailable: bool = False  # also retry 502/503/504 and lost connections (GET, DELETE)

    def back_off(self, tries: int) -> float:
        """Seconds to wait after `tries` failed tries, when the API did not say."""
        return min(self.first_wait * 2 ** (tries - 1), self.longest_wait)

    def wait(self, tries: int, retry_after: float | None) -> float:
        return retry_after if retry_after is not None else self.back_off(tries)


class Request(NamedTuple):
    """Who asks what, for messages and logs."""

    method: str
    path: str
    provider: str
    app: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def send_with_retries(
    send: Callable[[], A],
    *,
    policy: HttpPolicy,
    request: Request,
    budget: CallBudget,
    sleep: Callable[[float], None],
    detail: Callable[[A], str],
    accept: Callable[[A], bool] = lambda answer: answer.status_code < 400,
    renew: Callable[[], bool] | None = None,
    discard: Callable[[A], None] = lambda answer: answer.close(),
) -> A:
    """Send until an answer is accepted; raise the `ProviderError` of the last one otherwise.

    `detail` reads the API's own words from an error answer; `renew` is called on the first
    401 and says whether fresh credentials are worth one more try; `discard` lets go of an
    answer that is not returned (`close()` by default).
    """
    renewed = False
    tries = 0
    while True:
        budget.spend(str(request))
        tries += 1
        try:
            answer = send()
        except NoAnswer as lost:
            safe = request.method in IDEMPOTENT or lost.unsent
            if not (policy.retry_unavailable and lost.transient and safe and tries < policy.attempts):
                raise lost.error from lost.__cause__
            _wait(policy, request, tries, policy.back_off(tries), reason=lost.reason, sleep=sleep)
            continue
        status = answer.status_code
        if accept(answer):
            return answer
        if status == 401 and renew is not None and not renewed:
            renewed = True
            if renew():
                discard(answer)
                tries -= 1  # fresh credentials: not a failed try
                continue
        retry_after = retry_after_seconds(answer.headers)
        wait = policy.wait(tries, retry_after)
        if status == 429:
            budget.throttle(wait)
        retryable = status == 429 or (
            status in UNAVAILABLE and policy.retry_unavailable and request.method in IDEMPOTENT
        )
        if retryable and tries < policy.attempts and wait <= policy.longest_wait:
            discard(answer)
            _wait(policy, request, tries, wait, reason=f"HTTP {status}", sleep=sleep)
            continue
        error = error_for_status(policy, request, status, detail(answer), tries=tries, retry_after=retry_after)
        discard(answer)
        raise error


def _wait(
    policy: HttpPolicy, request: Request, tries: int, seconds: float, *, reason: str, sleep: Callable[[float], None]
) -> None:
    level = logging.WARNING if reason == "HTTP 429" else logging.INFO
    log.log(
        level,
        "http.retry api=%s provider=%s method=%s path=%s reason=%s try=%d wait_s=%.1f",
        policy.api,
        request.provider,
        request.method,
        request.path,
        reason,
        tries,
        seconds,
    )
    sleep(seconds)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (at least 1), or None when absent or not a number."""
    try:
        return max(float(headers.get("Retry-After", "")), 1.0)
    except ValueError:
        return None


def error_for_status(
    policy: HttpPolicy,
    request: Request,
    status: int,
    detail: str,
    *,
    tries: int = 1,
    retry_after: float | None = None,
) -> ProviderError:
    """The `ProviderError` an error status means, in words fit for a user."""
    api, provider, app = policy.api, request.provider, request.app
    where = {"provider": provider, "app": app}
    call = str(request)
    after = f" after {tries} attempts" if tries > 1 else ""
    if status in (401, 403):
        return AuthenticationFailed(
            f"{api} refused {provider}'s credentials for {call} (HTTP {status}: {detail}). {policy.credentials_hint}",
            **where,
        )
    if status == 404:
        what = f"app {app!r}" if app else f"resource {request.path}"
        return AppNotFound(f"{api} ({provider}) has no {what} (HTTP 404: {detail})", **where)
    if status == 429:
        wait = retry_after or RATE_LIMIT_WINDOW
        return RateLimited(
            f"{api} is rate limiting {provider} (HTTP 429: {detail}){after}; try again in {wait:g} s",
            retry_after=wait,
            **where,
        )
    if status >= 500:
        return ProviderUnavailable(
            f"{api} ({provider}) is unavailable (HTTP {status} on {call}: {detail}){after}; try again later",
            **where,
        )
    return OperationRejected(f"{api} refused {call} (HTTP {status}: {detail})", **where)
