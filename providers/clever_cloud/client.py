"""HTTP client of the Clever Cloud API: OAuth 1 signing, call budget, concurrency, SSE.

One `CleverCloudClient` talks to one API host with one identity (four OAuth 1 credentials)::

    call(method, path) ─▶ budget.spend() ─▶ concurrency slot ─▶ requests + OAuth1 ─▶ JSON
          ▲                                                         │
          └── 429 (any method), 502/503/504 and connection errors ◀─┘
              (GET/DELETE only): wait 1 s, 2 s, 4 s (or Retry-After, up to 30 s),
              at most 4 attempts, then raise

Retries and errors follow `providers.http` (`CLEVER_CLOUD_HTTP`); `requests`/`urllib3`
exceptions never leave this module. Besides that policy's errors::

    HTTP 404 on a sub-resource (`missing_ok`)   None, not AppNotFound: deployments, env and
                                                the favourite vhost 404 when there are none,
                                                and clever-client reads that as empty
    TLS, CA bundle, bodies that are not JSON    ProviderUnavailable
    an event stream cut or silent               StreamBroken (clever_cloud.sse; the caller resumes)

Secrets: the credentials are kept out of `repr`, messages and logs (signing: `signing`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter

from providers.base import Clock, ProviderUnavailable
from providers.budget import CallBudget
from providers.clever_cloud.signing import Credentials, oauth1
from providers.clever_cloud.sse import SseEvent, read_events
from providers.http import HttpPolicy, NoAnswer, Request, send_with_retries

log = logging.getLogger(__name__)

STREAM_CONNECT = 5.0  # seconds to connect an event stream (clever-client.js: 5 s)
HEARTBEAT_SILENCE = 4.0  # seconds without a byte that break a stream (heartbeats every 2 s; clever-client: 4 s)
CLEVER_CLOUD_HTTP = HttpPolicy(
    api="Clever Cloud",
    credentials_hint="Check the OAuth consumer key and secret and the user token and secret "
    "(PROVIDER_CLEVER_OAUTH_CONSUMER_KEY, PROVIDER_CLEVER_OAUTH_CONSUMER_SECRET, PROVIDER_CLEVER_TOKEN, "
    "PROVIDER_CLEVER_SECRET); Clever Cloud OAuth tokens expire after 3 months by default.",
    attempts=4,
    first_wait=1.0,  # 1 s, 2 s, 4 s (terraform-provider-clevercloud: 1 s ×2)
    longest_wait=30.0,  # a longer Retry-After is not waited for: RateLimited goes to the caller
    retry_unavailable=True,
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
        connect_timeout: float = STREAM_CONNECT,
        silence_timeout: float = HEARTBEAT_SILENCE,
        max_concurrency: int = 4,
    ) -> None:
        self.api_host = api_host.rstrip("/")
        self.budget = budget
        self._clock = clock
        self._provider = provider
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._silence_timeout = silence_timeout
        # Never False: the CA bundle given, else None, which lets requests use
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE or its default store.
        self._verify = ca_bundle or None
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._session = requests.Session()
        self._session.auth = oauth1(credentials, signature_method)
        self._session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self._session.mount(self.api_host + "/", transport or HTTPAdapter(pool_maxsize=max_concurrency, max_retries=0))

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        app: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """GET JSON; None when `missing_ok` and the API answers 404 (a sub-resource of none)."""
        return self._json("GET", path, params, app=app, missing_ok=missing_ok)

    def post(self, path: str, *, app: str | None = None) -> Any:
        return self._json("POST", path, None, app=app)

    def delete(self, path: str, *, app: str | None = None) -> Any:
        return self._json("DELETE", path, None, app=app)

    @contextmanager
    def stream(
        self, path: str, params: dict[str, Any], *, app: str | None = None, last_event_id: str | None = None
    ) -> Iterator[Iterator[SseEvent]]:
        """Open an event stream; iterate its events until END_OF_STREAM (included).

        As clever-client.js opens its streams: `connect_timeout` (5 s) to connect; then the
        first bytes may take the ordinary `timeout` (a slow start must not cost a retry and
        a call); from there on, nothing (not even a HEARTBEAT, sent every 2 s) for
        `silence_timeout` (4 s) raises StreamBroken while iterating, as does a stream that
        ends without END_OF_STREAM. The connection keeps a concurrency slot while open.
        """
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        with self._sent("GET", path, params, app=app, headers=headers, stream=True) as response:
            _allow_silence(response, self._silence_timeout)
            yield read_events(response, silence_timeout=self._silence_timeout, provider=self._provider, app=app)

    # -- internals ---------------------------------------------------------------------
    def _json(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        *,
        app: str | None,
        missing_ok: bool = False,
    ) -> Any:
        with self._sent(method, path, params, app=app, missing_ok=missing_ok) as response:
            if response is None:
                return None
            try:
                return response.json() if response.content else None
            except ValueError:
                raise ProviderUnavailable(
                    f"Clever Cloud answered {method} {path} with something that is not JSON",
                    provider=self._provider,
                    app=app,
                ) from None

    @contextmanager
    def _sent(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        *,
        app: str | None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        missing_ok: bool = False,
    ) -> Iterator[Any]:
        """The successful response (None for a 404 that is `missing_ok`), holding a concurrency
        slot until it is read and closed. Back-offs wait without a slot."""
        response = self._send(method, path, params, app=app, headers=headers, stream=stream, missing_ok=missing_ok)
        try:
            yield response
        finally:
            if response is not None:
                self._release(response)

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        *,
        app: str | None,
        headers: dict[str, str] | None,
        stream: bool,
        missing_ok: bool,
    ) -> Any:
        timeout = (self._connect_timeout if stream else self._timeout, self._timeout)

        def send() -> requests.Response:
            self._slots.acquire()
            try:
                response = self._session.request(
                    method,
                    self.api_host + path,
                    params=params,
                    headers=headers,
                    timeout=timeout,
                    verify=self._verify,
                    stream=stream,
                )
            except (requests.RequestException, OSError) as exc:  # OSError: an unreadable CA bundle
                self._slots.release()
                raise NoAnswer(
                    self._transport_error(method, path, exc, app),
                    reason=type(exc).__name__,
                    transient=_transient(exc),
                    unsent=isinstance(exc, requests.ConnectTimeout),
                ) from None
            log.debug("clever.call method=%s path=%s status=%s", method, path, response.status_code)
            return response

        def accept(response: requests.Response) -> bool:
            return response.status_code < 400 or (missing_ok and response.status_code == 404)

        response = send_with_retries(
            send,
            policy=CLEVER_CLOUD_HTTP,
            request=Request(method, path, self._provider, app),
            budget=self.budget,
            sleep=self._clock.sleep,
            detail=_message,
            accept=accept,
            discard=self._release,
        )
        if response.status_code >= 400:  # a 404 that is missing_ok
            self._release(response)
            return None
        return response  # the caller releases the slot

    def _release(self, response: requests.Response) -> None:
        response.close()
        self._slots.release()

    def _transport_error(self, method: str, path: str, exc: Exception, app: str | None) -> ProviderUnavailable:
        if isinstance(exc, requests.exceptions.SSLError):
            why = "the TLS certificate of the API could not be verified (check the CA bundle)"
        elif isinstance(exc, requests.Timeout):
            why = f"no answer within {self._timeout:g} s"
        elif isinstance(exc, requests.RequestException):
            why = "the connection failed"
        else:
            why = f"the CA bundle could not be used ({exc})"
        return ProviderUnavailable(
            f"Clever Cloud could not be reached for {method} {path}: {why} ({type(exc).__name__})",
            provider=self._provider,
            app=app,
        )


def _allow_silence(response: requests.Response, seconds: float) -> None:
    """From now on, at most `seconds` between two reads of `response`'s body (the first
    bytes were allowed the ordinary timeout)."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is None:  # http.client let go of a connection it will close: the body's socket
        body = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(body, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _transient(exc: Exception) -> bool:
    """Worth another try: a refused or cut connection, a timeout; not TLS nor a CA bundle."""
    return isinstance(exc, (requests.ConnectionError, requests.Timeout)) and not isinstance(
        exc, requests.exceptions.SSLError
    )


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


def _message(response: requests.Response) -> str:
    """The API's own words: `message`, else `error`, else the start of the body (as clever-client reads it)."""
    body = _body(response)
    if isinstance(body, dict):
        text = body.get("message") or body.get("error")
        if text:
            return str(text)[:200]
    return (_text(response) or response.reason or "no details").strip()[:200]
