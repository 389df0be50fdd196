"""Scalingo bearer tokens: the API token exchanged for a one-hour JWT, renewed before it expires.

Regional APIs refuse API tokens (`tk-us-…`); they take a bearer JWT that the auth service
gives for one::

    ScalingoTokens.bearer()            a JWT valid for at least RENEW_BEFORE more
      └── exchange: POST <auth_url>/v1/tokens/exchange, Basic ":<api token>", body `{}`
            200 {"token": "<JWT>"}    read `exp` without verifying (as go-scalingo does)
            401 / 403                 AuthenticationFailed: says what to fix
            429                       RateLimited
            5xx, timeout, junk        ProviderUnavailable
    ScalingoTokens.refused(jwt)        a regional API answered 401: forget that JWT, the
                                       next `bearer()` exchanges again

One `ScalingoTokens` per provider; it is shared by the threads using that provider, so the
exchange runs under a lock (one exchange at a time, the others wait and reuse its JWT).
Neither the API token nor the JWT ever reaches a log, an exception message or a repr.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from providers.base import AuthenticationFailed, Clock, ProviderUnavailable, RateLimited

log = logging.getLogger(__name__)

# Exchange again when less than this is left (go-scalingo uses the same 5 minutes): a call
# that starts with a JWT never outlives it, even after waiting for the call budget.
RENEW_BEFORE = timedelta(minutes=5)
# Documented bearer lifetime, assumed when a JWT has no readable `exp`.
DOCUMENTED_LIFETIME = timedelta(hours=1)
# A JWT that looks shorter-lived than RENEW_BEFORE (clock skew with Scalingo) is still used
# this long, so a skewed clock costs one exchange a minute, not one per call.
SHORTEST_REUSE = timedelta(minutes=1)


@dataclass(frozen=True)
class Bearer:
    token: str = field(repr=False)
    renew_at: datetime


class ScalingoTokens:
    def __init__(self, http: httpx.Client, *, api_token: str, auth_url: str, clock: Clock, provider: str) -> None:
        self._http = http
        self._api_token = api_token
        self._exchange_url = f"{auth_url}/v1/tokens/exchange"
        self._clock = clock
        self._provider = provider
        self._current: Bearer | None = None
        self._lock = threading.Lock()
        self.exchanges = 0

    def __repr__(self) -> str:
        return f"ScalingoTokens(provider={self._provider!r}, exchanges={self.exchanges})"

    def bearer(self) -> str:
        with self._lock:
            now = self._clock.now()
            if self._current is None or now >= self._current.renew_at:
                self._current = self._exchange(now)
            return self._current.token

    def refused(self, token: str) -> None:
        """A regional API refused `token`: the next `bearer()` exchanges again.

        Only that token is forgotten, so threads that saw the same 401 exchange once.
        """
        with self._lock:
            if self._current is not None and self._current.token == token:
                self._current = None

    def _exchange(self, now: datetime) -> Bearer:
        try:
            # `{}` as JSON, as scalingo.js sends it: a JSON content type with no body at all
            # is what no official client sends
            response = self._http.post(self._exchange_url, auth=("", self._api_token), json={})
        except httpx.HTTPError as exc:
            # `from None`: the failed request (and its Basic header) stays out of tracebacks.
            raise ProviderUnavailable(
                f"cannot reach Scalingo's auth service at {self._exchange_url} ({type(exc).__name__})",
                provider=self._provider,
            ) from None
        log.debug("scalingo.token_exchange provider=%s status=%s", self._provider, response.status_code)
        if response.status_code in (401, 403):
            raise AuthenticationFailed(
                f"Scalingo refused the API token of {self._provider} ({response.status_code} from "
                f"{self._exchange_url}). Check api_token (PROVIDER_SCALINGO_API_TOKEN): it must be a "
                "current API token (tk-us-…) from the Scalingo dashboard, Profile > API tokens.",
                provider=self._provider,
            )
        if response.status_code == 429:
            raise RateLimited(
                f"Scalingo's auth service is rate limiting {self._provider}; try again in a minute",
                provider=self._provider,
            )
        if not response.is_success:
            raise ProviderUnavailable(
                f"Scalingo's auth service failed with {response.status_code}; try again later",
                provider=self._provider,
            )
        token = _token_of(response)
        if token is None:
            raise ProviderUnavailable(
                "Scalingo's auth service answered without a bearer token; try again later",
                provider=self._provider,
            )
        self.exchanges += 1
        return Bearer(token, self._renew_at(token, now))

    def _renew_at(self, token: str, now: datetime) -> datetime:
        expires = jwt_expiry(token)
        if expires is None:
            log.warning("scalingo.token_without_exp provider=%s assumed_lifetime=1h", self._provider)
            expires = now + DOCUMENTED_LIFETIME
        renew_at = expires - RENEW_BEFORE
        if renew_at < now + SHORTEST_REUSE:
            log.warning(
                "scalingo.token_short_lived provider=%s expires_at=%s now=%s (clock skew?)",
                self._provider,
                expires.isoformat(),
                now.isoformat(),
            )
            renew_at = now + SHORTEST_REUSE
        log.info("scalingo.token_exchanged provider=%s expires_at=%s", self._provider, expires.isoformat())
        return renew_at


def _token_of(response: httpx.Response) -> str | None:
    try:
        token = response.json().get("token")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token else None


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying the signature; None if unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError, OverflowError):
        return None
