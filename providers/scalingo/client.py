"""HTTP to one Scalingo regional API: bearer auth and the call budget, under `providers.http`'s policy.

Every regional call goes through `ScalingoClient.call`, which follows `SCALINGO_HTTP`: each
try takes one call from the budget; a 401 makes the bearer be exchanged again, once; a 429
is tried again after 5, 10, 20 then 40 s (or Retry-After), 5 tries at most; nothing else
is retried (a 5xx, a lost connection: the bot's own rounds come back soon enough, and the
budget is 60 calls a minute). Errors (no httpx exception leaves this module) are
`providers.http`'s, and::

    404 container_type                  OperationRejected (no such process type)
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

from providers.base import Clock, OperationRejected, ProviderDeps, ProviderUnavailable
from providers.budget import CallBudget
from providers.http import HttpPolicy, NoAnswer, Request, send_with_retries
from providers.scalingo.auth import ScalingoTokens

log = logging.getLogger(__name__)

# Scalingo answers within a second or two; 10 s to read is generous, 5 s to connect.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# 429 without Retry-After (Scalingo documents none): wait 5, 10, 20 then 40 s. The limit is
# per minute, so the last retry comes 75 s after the first refusal: past a full minute of
# someone else spending the same token, without holding a wake for minutes.
SCALINGO_HTTP = HttpPolicy(
    api="Scalingo",
    credentials_hint="Check api_token (PROVIDER_SCALINGO_API_TOKEN) and that its owner may manage this app.",
    attempts=5,
    first_wait=5.0,
    longest_wait=60.0,
)


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
        clock: Clock,
        api_url: str,
        provider: str,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._clock = clock
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
        request = Request(method, path, self.provider, app)
        bearer = ""

        def send() -> httpx.Response:
            nonlocal bearer
            bearer = self._tokens.bearer()
            return self._send(request, bearer, body, params)

        def renew() -> bool:
            log.info("scalingo.bearer_refused provider=%s path=%s", self.provider, path)
            self._tokens.refused(bearer)
            return True

        def accept(response: httpx.Response) -> bool:
            return response.is_success or response.status_code in allow or missing_process_type(response)

        response = send_with_retries(
            send,
            policy=SCALINGO_HTTP,
            request=request,
            budget=self.budget,
            sleep=self._clock.sleep,
            detail=error_text,
            accept=accept,
            renew=renew,
        )
        if missing_process_type(response) and 404 not in allow:
            raise OperationRejected(
                f"{app or path} has no such process type ({error_text(response)})", provider=self.provider, app=app
            )
        return response

    def _send(self, request: Request, bearer: str, body: Any, params: Mapping[str, Any] | None) -> httpx.Response:
        method, path = request.method, request.path
        headers = {"Authorization": f"Bearer {bearer}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, f"{self.api_url}/v1{path}", json=body, params=params, headers=headers)
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.TimeoutException):
                what = f"Scalingo ({self.provider}) did not answer {method} {path} in time"
            else:
                what = f"cannot reach the Scalingo API at {self.api_url} ({type(exc).__name__})"
            error = ProviderUnavailable(f"{what}; try again later", provider=self.provider, app=request.app)
            transient = isinstance(exc, (httpx.TimeoutException, httpx.NetworkError))
            raise NoAnswer(
                error, reason=type(exc).__name__, transient=transient, unsent=isinstance(exc, httpx.ConnectTimeout)
            ) from exc
        log.debug(
            "scalingo.call provider=%s method=%s path=%s status=%s elapsed_ms=%d",
            self.provider,
            method,
            path,
            response.status_code,
            elapsed_ms(response),
        )
        return response

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


def elapsed_ms(response: httpx.Response) -> float:
    """How long the call took, as httpx measured it (-1 when a transport did not say)."""
    try:
        return response.elapsed.total_seconds() * 1000
    except RuntimeError:
        return -1.0


def missing_process_type(response: httpx.Response) -> bool:
    """A 404 about a process type (`resource: container_type`), not about the app."""
    return response.status_code == 404 and error_field(response, "resource") == "container_type"


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
