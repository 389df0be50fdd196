"""The fake of Scalingo's auth service (token exchange, JWTs) and of its per-token rate limit.

    POST /v1/tokens/exchange   Basic ":<api token>", body `{}` (application/json, as
                               scalingo.js sends it)   200 {"token": "<JWT>"}
                                                       401 {"error": …} for an unknown token
                                                       400 for a JSON content type without a
                                                       JSON body (assumed: a JSON API may)

JWTs are real three-part HS256 tokens with `exp` one hour after they were issued on the
fake's clock (PROVIDERS.md §1.2: go-scalingo panics without `exp`). Regional fakes check
them on every call: missing, forged, expired or revoked → 401 `{"error": …}`.

Rate limit: 60 accepted calls in any sliding minute per API token, counted across every
region (the scope is UNCONFIRMED; ACTIVITY.md §1.5 assumes one budget for both regions,
the cautious reading). Refused calls do not count. Past it: 429, `text/plain`
"Retry later", without `Retry-After` (none is documented) unless `retry_after_header`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import math
import secrets
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from providers.base import Clock
from providers.scalingo.fake_api.wsgi import Request, Response, error

BEARER_LIFETIME = timedelta(hours=1)  # "Bearer tokens are only valid for an hour"
RATE_WINDOW = timedelta(minutes=1)


def token_id(api_token: str) -> str:
    """A stable, non-secret name for an API token (logs, rate limits)."""
    return hashlib.sha256(api_token.encode()).hexdigest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeAuthService:
    """Known API tokens, the JWTs issued for them, and the rate limit they share."""

    def __init__(
        self, tokens: Iterable[str], clock: Clock, *, rate_limit: int = 60, retry_after_header: bool = False
    ) -> None:
        self.clock = clock
        self.rate_limit = rate_limit
        self.retry_after_header = retry_after_header
        self._tokens = {token_id(t): f"user-{n}" for n, t in enumerate(tokens, start=1)}
        self._key = secrets.token_bytes(32)
        self._serial = itertools.count(1)
        self._issued: set[str] = set()
        self._revoked: set[str] = set()
        self._accepted: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()
        self.exchanges = 0
        self.exchange_bodies: list[bytes] = []

    # -- the auth service --------------------------------------------------------------
    def exchange(self, request: Request) -> Response:
        if request.method != "POST" or request.path.rstrip("/") != "/v1/tokens/exchange":
            return error(404, "not found")
        self.exchange_bodies.append(request.body)
        if request.headers.get("content-type", "").startswith("application/json") and not _is_json(request.body):
            return error(400, "invalid JSON body")
        api_token = _basic_password(request.headers.get("authorization", ""))
        tid = token_id(api_token) if api_token else None
        if tid not in self._tokens:
            return error(401, "invalid token")
        return Response(200, {"token": self._issue(tid)})

    def _issue(self, tid: str) -> str:
        now = self.clock.now()
        with self._lock:
            jti = f"jwt-{next(self._serial)}"
            self._issued.add(jti)
            self.exchanges += 1
        claims = {
            "iss": "fake-scalingo",
            "sub": self._tokens[tid],
            "tid": tid,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int((now + BEARER_LIFETIME).timestamp()),
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        return f"{head}.{body}.{self._sign(f'{head}.{body}')}"

    def _sign(self, signed: str) -> str:
        return _b64(hmac.new(self._key, signed.encode(), hashlib.sha256).digest())

    def revoke_bearers(self) -> None:
        """Every JWT issued so far is refused from now on (as after a token rotation)."""
        with self._lock:
            self._revoked |= self._issued

    # -- what the regional fakes ask ---------------------------------------------------
    def authenticate(self, request: Request) -> tuple[str | None, Response | None]:
        """The API token id behind the request's bearer, or the 401 to answer."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None, error(401, "no authentication token provided")
        claims = self._claims(header[len("Bearer ") :].strip())
        if claims is None:
            return None, error(401, "invalid authentication token")
        if claims["exp"] <= self.clock.now().timestamp():
            return None, error(401, "authentication token expired")
        with self._lock:
            if claims["jti"] in self._revoked or claims["tid"] not in self._tokens:
                return None, error(401, "authentication token revoked")
        return claims["tid"], None

    def _claims(self, jwt: str) -> dict[str, Any] | None:
        parts = jwt.split(".")
        if len(parts) != 3 or not hmac.compare_digest(parts[2], self._sign(f"{parts[0]}.{parts[1]}")):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            return None
        return claims if isinstance(claims, dict) and {"exp", "jti", "tid"} <= claims.keys() else None

    def admit(self, tid: str) -> Response | None:
        """Count one call of token `tid`; the 429 to answer when it is over the limit."""
        now = self.clock.now()
        with self._lock:
            calls = self._accepted.setdefault(tid, deque())
            while calls and calls[0] <= now - RATE_WINDOW:
                calls.popleft()
            if len(calls) < self.rate_limit:
                calls.append(now)
                return None
            wait = (calls[0] + RATE_WINDOW - now).total_seconds()
        headers = (("Retry-After", str(max(1, math.ceil(wait)))),) if self.retry_after_header else ()
        return Response(429, "Retry later", headers)

    def spend_elsewhere(self, api_token: str, calls: int) -> int:
        """Someone else (a CI job, the CLI) calls `calls` times with `api_token` now.

        Returns how many of those calls were accepted; the others got their 429.
        """
        return sum(self.admit(token_id(api_token)) is None for _ in range(calls))


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _basic_password(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        _, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, binascii.Error):
        return None
    return password or None
