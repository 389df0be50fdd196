"""HTTP to one Scalingo regional API: bearer auth, the call budget, 429 back-off, errors mapped.

Every regional call goes through `ScalingoClient.call`; each try takes one call from the
budget (retries are calls too)::

    ┌─▶ budget.spend() ─▶ bearer ─▶ request ─┬─ 2xx, or a status the caller allows: returned
    │                                        ├─ 401, first time: forget that JWT, try again
    └────────────────────────────────────────┼─ 429: budget.throttle(back-off), try again (4 times at most)
                                             └─ anything else: one of the errors below

Errors (no httpx exception leaves this module)::

    401 after a fresh exchange, 403     AuthenticationFailed
    404 (resource "app" or none)        AppNotFound
    404 container_type, 400/402/409/422 OperationRejected
    429 after MAX_THROTTLED_RETRIES     RateLimited
    5xx, timeouts, connection errors    ProviderUnavailable
    a body that is not what was asked   ProviderUnavailable (`payload`)

Each call is logged at DEBUG (`scalingo.call`: method, path, status, elapsed), never headers.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from providers.base import (
    AppNotFound,
    AuthenticationFailed,
    OperationRejected,
    ProviderDeps,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from providers.budget import CallBudget
from providers.scalingo.auth import ScalingoTokens

log = logging.getLogger(__name__)

# Scalingo answers within a second or two; 10 s to read is generous, 5 s to connect.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# 429 without Retry-After (Scalingo documents none): wait 5, 10, 20 then 40 s. The limit is
# per minute, so the last retry comes 75 s after the first refusal: past a full minute of
# someone else spending the same token, without holding a wake for minutes.
BACKOFF_FIRST = 5.0
BACKOFF_MOST = 60.0
MAX_THROTTLED_RETRIES = 4


def make_http(deps: ProviderDeps) -> httpx.Client:
    """The httpx client of one provider: TLS verified, a timeout on every call.

    `deps.transport` (tests, demo) replaces the network. Otherwise httpx's defaults verify
    TLS (and honour SSL_CERT_FILE); `deps.ca_bundle` names a CA file to trust instead.
    """
    verify: ssl.SSLContext | bool = True
    if deps.ca_bundle:
        verify = ssl.create_default_context(cafile=deps.ca_bundle)
    return httpx.Client(
        transport=deps.transport,
        verify=verify,
        timeout=TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": deps.user_agent, "Accept": "application/json"},
    )


def app_path(app_id: str, tail: str = "") -> str:
    return f"/apps/{quote(app_id, safe='')}{tail}"


class ScalingoClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        tokens: ScalingoTokens,
        budget: CallBudget,
        api_url: str,
        provider: str,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self.budget = budget
        self.api_url = api_url
        self.provider = provider

    def __repr__(self) -> str:
        return f"ScalingoClient(provider={self.provider!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        app: str | None = None,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one regional API request; the response is 2xx or a status in `allow`."""
        reauthenticated = False
        throttled = 0
        while True:
            self.budget.spend(f"{method} {path}")
            bearer = self._tokens.bearer()
            response = self._send(method, path, bearer, body, params, app)
            status = response.status_code
            if status == 401 and not reauthenticated:
                log.info("scalingo.bearer_refused provider=%s path=%s", self.provider, path)
                self._tokens.refused(bearer)
                reauthenticated = True
                continue
            if status == 429:
                delay = retry_delay(response, throttled)
                self.budget.throttle(delay)
                log.warning(
                    "scalingo.rate_limited provider=%s path=%s retry=%d delay_s=%.0f",
                    self.provider,
                    path,
                    throttled + 1,
                    delay,
                )
                if throttled == MAX_THROTTLED_RETRIES:
                    raise RateLimited(
                        f"Scalingo is rate limiting {self.provider} (60 calls a minute); "
                        f"gave up after {throttled + 1} tries, try again in a minute",
                        provider=self.provider,
                        app=app,
                        retry_after=delay,
                    )
                throttled += 1
                continue
            if response.is_success or status in allow:
                return response
            raise self._error(method, path, response, app)

    def _send(
        self, method: str, path: str, bearer: str, body: Any, params: Mapping[str, Any] | None, app: str | None
    ) -> httpx.Response:
        url = f"{self.api_url}/v1{path}"
        headers = {"Authorization": f"Bearer {bearer}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, url, json=body, params=params, headers=headers)
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.TimeoutException):
                what = f"Scalingo ({self.provider}) did not answer {method} {path} in time"
            else:
                what = f"cannot reach the Scalingo API at {self.api_url} ({type(exc).__name__})"
            raise ProviderUnavailable(f"{what}; try again later", provider=self.provider, app=app) from exc
        log.debug(
            "scalingo.call provider=%s method=%s path=%s status=%s elapsed_ms=%d",
            self.provider,
            method,
            path,
            response.status_code,
            elapsed_ms(response),
        )
        return response

    def _error(self, method: str, path: str, response: httpx.Response, app: str | None) -> ProviderError:
        status = response.status_code
        detail = error_text(response)
        where = {"provider": self.provider, "app": app}
        if status in (401, 403):
            return AuthenticationFailed(
                f"Scalingo refused {self.provider}'s credentials for {method} {path} ({status}: {detail}). "
                "Check api_token (PROVIDER_SCALINGO_API_TOKEN) and that its owner may manage this app.",
                **where,
            )
        if status == 404 and error_field(response, "resource") == "container_type":
            return OperationRejected(f"{app or path} has no such process type ({detail})", **where)
        if status == 404:
            return AppNotFound(f"Scalingo ({self.provider}) has no app {app or path!r} ({detail})", **where)
        if status >= 500:
            return ProviderUnavailable(
                f"the Scalingo API ({self.provider}) failed with {status} ({detail}); try again later", **where
            )
        return OperationRejected(f"Scalingo refused {method} {path} ({status}): {detail}", **where)

    def payload(self, response: httpx.Response, key: str, kind: type = dict, *, app: str | None = None) -> Any:
        """`response.json()[key]` if it is a `kind`; ProviderUnavailable when it is not."""
        try:
            value = response.json()
            value = value[key] if key else value
        except (ValueError, KeyError, TypeError):
            value = None
        if not isinstance(value, kind):
            raise ProviderUnavailable(
                f"the Scalingo API ({self.provider}) answered {response.request.url.path} with an "
                f"unexpected body (no {key or kind.__name__}); try again later",
                provider=self.provider,
                app=app,
            )
        return value


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait after a 429: Retry-After when it is a number, else exponential."""
    header = response.headers.get("Retry-After", "")
    try:
        return min(max(float(header), 1.0), BACKOFF_MOST)
    except ValueError:
        return min(BACKOFF_FIRST * 2**attempt, BACKOFF_MOST)


def elapsed_ms(response: httpx.Response) -> float:
    """How long the call took, as httpx measured it (-1 when a transport did not say)."""
    try:
        return response.elapsed.total_seconds() * 1000
    except RuntimeError:
        return -1.0


def error_field(response: httpx.Response, name: str) -> Any:
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get(name) if isinstance(data, dict) else None


def error_text(response: httpx.Response) -> str:
    """The API's error in words: `error`, the `errors` of a 422, or the start of the body."""
    message = error_field(response, "error")
    if isinstance(message, str) and message:
        return message
    errors = error_field(response, "errors")
    if isinstance(errors, dict) and errors:
        return "; ".join(
            f"{field} {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}" for field, msgs in errors.items()
        )
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no detail"
