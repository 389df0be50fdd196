"""HTTP client of the Clever Cloud API: OAuth 1 signing, call budget, retries, errors, SSE.

One `CleverCloudClient` talks to one API host with one identity (four OAuth 1 credentials)::

    call(method, path) ─▶ budget.spend() ─▶ concurrency slot ─▶ requests + OAuth1 ─▶ JSON
          ▲                                                         │
          └── 429 (any method), 502/503/504 and connection errors ◀─┘
              (GET/DELETE only): wait 1 s, 2 s, 4 s (or Retry-After, up to 30 s),
              at most 4 attempts, then raise

Errors (`requests`/`urllib3` exceptions never leave this module)::

    HTTP 401, 403                          → AuthenticationFailed
    HTTP 404                               → AppNotFound (None for an expected error id, e.g. 4021)
    HTTP 429, once retries are spent       → RateLimited
    HTTP 5xx, timeouts, TLS and connection
    errors, bodies that are not JSON       → ProviderUnavailable
    └── an event stream cut or silent      → StreamBroken (clever_cloud_sse; the caller resumes)
    any other HTTP 4xx                     → OperationRejected

Secrets: the credentials are kept out of `repr`, messages and logs. requests-oauthlib logs
the signed `Authorization` header at DEBUG (with PLAINTEXT that header *is* both secrets),
so this module raises the `oauthlib` and `requests_oauthlib` loggers to INFO.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from oauthlib.oauth1 import Client as OAuthClient
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA512, SIGNATURE_PLAINTEXT
from requests.adapters import BaseAdapter, HTTPAdapter
from requests_oauthlib import OAuth1

from providers.base import (
    AppNotFound,
    AuthenticationFailed,
    Clock,
    OperationRejected,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from providers.budget import CallBudget
from providers.clever_cloud.sse import SseEvent, read_events

log = logging.getLogger(__name__)
for _noisy in ("oauthlib", "requests_oauthlib"):
    logging.getLogger(_noisy).setLevel(logging.INFO)

SIGNATURE_METHODS = (SIGNATURE_HMAC_SHA512, SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT)
IDEMPOTENT = frozenset({"GET", "DELETE"})
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 1.0  # doubles at each attempt: 1 s, 2 s, 4 s (terraform-provider-clevercloud: 1 s ×2)
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is not waited for: RateLimited goes to the caller


@dataclass(frozen=True)
class Credentials:
    """The four OAuth 1 credentials: the consumer (the OAuth app) and the user's token."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    token: str = field(repr=False)
    secret: str = field(repr=False)


class _Signer(OAuthClient):
    """oauthlib's client without the OPTIONAL `oauth_version` (RFC 5849 §3.1), which the
    RFC's own examples and clever-client.js leave out too."""

    def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
        return [p for p in super().get_oauth_params(request) if p[0] != "oauth_version"]


def oauth1(credentials: Credentials, signature_method: str, **fixed: str) -> OAuth1:
    """A requests auth signing every request with OAuth 1 in the Authorization header.

    `fixed` pins `nonce`, `timestamp` or `realm` (RFC 5849 test vectors); leave it empty
    otherwise.
    """
    if signature_method not in SIGNATURE_METHODS:
        raise ValueError(f"unsupported OAuth 1 signature method {signature_method!r}")
    return OAuth1(
        credentials.consumer_key,
        client_secret=credentials.consumer_secret,
        resource_owner_key=credentials.token,
        resource_owner_secret=credentials.secret,
        signature_method=signature_method,
        signature_type="AUTH_HEADER",
        client_class=_Signer,
        **fixed,
    )


class CleverCloudClient:
    """Signed, budgeted, retried calls to one Clever Cloud API host. Thread-safe."""

    def __init__(
        self,
        *,
        api_host: str,
        credentials: Credentials,
        signature_method: str,
        clock: Clock,
        budget: CallBudget,
        provider: str,
        transport: BaseAdapter | None = None,
        user_agent: str = "paastis",
        ca_bundle: str | None = None,
        timeout: float = 15.0,
        silence_timeout: float = 4.0,
        max_concurrency: int = 4,
    ) -> None:
        self.api_host = api_host.rstrip("/")
        self.budget = budget
        self._clock = clock
        self._provider = provider
        self._timeout = timeout
        self._silence_timeout = silence_timeout
        # Never False: the CA bundle given, else None, which lets requests use
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE or its default store.
        self._verify = ca_bundle or None
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._session = requests.Session()
        self._session.auth = oauth1(credentials, signature_method)
        self._session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self._session.mount(self.api_host + "/", transport or HTTPAdapter(pool_maxsize=max_concurrency, max_retries=0))

    def get(self, path: str, params: dict[str, Any] | None = None, *, app: str | None = None,
            expected_error_ids: frozenset[int] = frozenset()) -> Any:
        """GET JSON; None when the API answers 404 with one of `expected_error_ids`."""
        return self._json("GET", path, params, app=app, expected_error_ids=expected_error_ids)

    def post(self, path: str, *, app: str | None = None) -> Any:
        return self._json("POST", path, None, app=app)

    def delete(self, path: str, *, app: str | None = None) -> Any:
        return self._json("DELETE", path, None, app=app)

    @contextmanager
    def stream(self, path: str, params: dict[str, Any], *, app: str | None = None,
               last_event_id: str | None = None) -> Iterator[Iterator[SseEvent]]:
        """Open an event stream; iterate its events until END_OF_STREAM (included).

        The connection keeps a concurrency slot while open. A stream that ends without
        END_OF_STREAM, or sends nothing (not even a HEARTBEAT) for `silence_timeout`
        seconds, raises StreamBroken while iterating.
        """
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        with self._sent("GET", path, params, app=app, headers=headers, stream=True) as response:
            yield read_events(response, silence_timeout=self._silence_timeout, provider=self._provider, app=app)

    # -- internals ---------------------------------------------------------------------
    def _json(self, method: str, path: str, params: dict[str, Any] | None, *, app: str | None,
              expected_error_ids: frozenset[int] = frozenset()) -> Any:
        with self._sent(method, path, params, app=app, expected_error_ids=expected_error_ids) as response:
            if response is None:
                return None
            try:
                return response.json() if response.content else None
            except ValueError:
                raise ProviderUnavailable(f"Clever Cloud answered {method} {path} with something that is not JSON",
                                          provider=self._provider, app=app) from None

    @contextmanager
    def _sent(self, method: str, path: str, params: dict[str, Any] | None, *, app: str | None,
              headers: dict[str, str] | None = None, stream: bool = False,
              expected_error_ids: frozenset[int] = frozenset()) -> Iterator[Any]:
        """The successful response (None for an expected error), holding a concurrency slot
        until it is read and closed. Back-offs wait without a slot."""
        response = self._send(method, path, params, app=app, headers=headers, stream=stream,
                              expected_error_ids=expected_error_ids)
        try:
            yield response
        finally:
            if response is not None:
                response.close()
                self._slots.release()

    def _send(self, method: str, path: str, params: dict[str, Any] | None, *, app: str | None,
              headers: dict[str, str] | None, stream: bool, expected_error_ids: frozenset[int]) -> Any:
        timeout = (self._timeout, self._silence_timeout if stream else self._timeout)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.budget.spend(f"{method} {path}")
            self._slots.acquire()
            try:
                response = self._session.request(method, self.api_host + path, params=params, headers=headers,
                                                 timeout=timeout, verify=self._verify, stream=stream)
            except (requests.RequestException, OSError) as exc:  # OSError: an unreadable CA bundle
                self._slots.release()
                retryable = _transient(exc) and (method in IDEMPOTENT or isinstance(exc, requests.ConnectTimeout))
                if retryable and attempt < MAX_ATTEMPTS:
                    self._back_off(method, path, attempt, None, reason=type(exc).__name__)
                    continue
                raise self._transport_error(method, path, exc, app) from None
            status = response.status_code
            log.debug("clever.call method=%s path=%s status=%s attempt=%d", method, path, status, attempt)
            if status < 400:
                return response  # the caller releases the slot
            error = self._http_error(method, path, response, app, attempt)
            expected = status == 404 and _error_id(response) in expected_error_ids
            retry_after = _retry_after(response)
            response.close()
            self._slots.release()
            if status == 429:
                self.budget.throttle(retry_after or BACKOFF_SECONDS * 2 ** (attempt - 1))
            retryable = status == 429 or (status in (502, 503, 504) and method in IDEMPOTENT)
            if retryable and attempt < MAX_ATTEMPTS and (retry_after or 0) <= MAX_RETRY_AFTER:
                self._back_off(method, path, attempt, retry_after, reason=f"HTTP {status}")
                continue
            if expected:
                return None
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _back_off(self, method: str, path: str, attempt: int, retry_after: float | None, *, reason: str) -> None:
        delay = retry_after if retry_after is not None else BACKOFF_SECONDS * 2 ** (attempt - 1)
        log.info("clever.retry method=%s path=%s reason=%s attempt=%d wait=%.1fs", method, path, reason, attempt, delay)
        self._clock.sleep(delay)

    def _http_error(self, method: str, path: str, response: requests.Response, app: str | None,
                    attempts: int) -> ProviderError:
        status = response.status_code
        said = _message(response)
        kw = {"provider": self._provider, "app": app}
        if status in (401, 403):
            return AuthenticationFailed(
                f"Clever Cloud refused Paastis's credentials (HTTP {status}: {said}). Check the OAuth consumer "
                "key and secret and the user token and secret (PROVIDER_CLEVER_OAUTH_CONSUMER_KEY, "
                "PROVIDER_CLEVER_OAUTH_CONSUMER_SECRET, PROVIDER_CLEVER_TOKEN, PROVIDER_CLEVER_SECRET); "
                "Clever Cloud OAuth tokens expire after 3 months by default.", **kw)
        if status == 404:
            return AppNotFound(f"Clever Cloud has no {_what(path, app)} (HTTP 404: {said})", **kw)
        if status == 429:
            return RateLimited(f"Clever Cloud is rate limiting Paastis (HTTP 429: {said}) after {attempts} attempts",
                               retry_after=_retry_after(response) or 60.0, **kw)
        if status >= 500:
            return ProviderUnavailable(
                f"Clever Cloud is unavailable (HTTP {status} on {method} {path}: {said}) after {attempts} attempts",
                **kw)
        return OperationRejected(f"Clever Cloud refused {method} {path} (HTTP {status}: {said})", **kw)

    def _transport_error(self, method: str, path: str, exc: Exception, app: str | None) -> ProviderError:
        if isinstance(exc, requests.exceptions.SSLError):
            why = "the TLS certificate of the API could not be verified (check the CA bundle)"
        elif isinstance(exc, requests.Timeout):
            why = f"no answer within {self._timeout:g} s"
        elif isinstance(exc, requests.RequestException):
            why = "the connection failed"
        else:
            why = f"the CA bundle could not be used ({exc})"
        return ProviderUnavailable(f"Clever Cloud could not be reached for {method} {path}: {why} ({type(exc).__name__})",
                                   provider=self._provider, app=app)


def _transient(exc: Exception) -> bool:
    """Worth another try: a refused or cut connection, a timeout; not TLS nor a CA bundle."""
    return isinstance(exc, (requests.ConnectionError, requests.Timeout)) and not isinstance(
        exc, requests.exceptions.SSLError)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, requests.RequestException):
        return None


def _text(response: requests.Response) -> str:
    try:
        return response.text
    except requests.RequestException:  # a streamed error body cut short
        return ""


def _error_id(response: requests.Response) -> int | None:
    body = _body(response)
    return body.get("id") if isinstance(body, dict) else None


def _message(response: requests.Response) -> str:
    """The API's own words: `message`, else `error`, else the start of the body (as clever-client reads it)."""
    body = _body(response)
    if isinstance(body, dict):
        text = body.get("message") or body.get("error")
        if text:
            return str(text)[:200]
    return (_text(response) or response.reason or "no details").strip()[:200]


def _what(path: str, app: str | None) -> str:
    return f"app {app}" if app else f"resource {path}"
