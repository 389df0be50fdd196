"""Who may ask, and how often: per-client rate limits, the shared secret, the client's address.

A client is its address as the connection shows it; behind a router that is trusted
(`trust_forwarded: true`, a PaaS's), the last address that router appended to
X-Forwarded-For. A bucket holds `per_minute` requests and refills continuously; buckets of
clients gone quiet are dropped, so a scan of many addresses cannot fill memory.
"""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict

from providers.base import Clock

MAX_CLIENTS = 10_000


class RateLimiter:
    def __init__(self, per_minute: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, at)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = self.clock.now().timestamp()
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self) -> int:
        """Seconds until one more request is allowed."""
        return max(1, round(60 / self.per_minute))


def secret_ok(expected: str | None, given: str | None) -> bool:
    """No secret configured: anyone who reaches the address may ask. Compared in constant time."""
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def client_of(scope: dict, headers: dict[str, str], *, trust_forwarded: bool) -> str:
    peer = (scope.get("client") or ("unknown", 0))[0]
    if trust_forwarded:
        chain = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if chain:
            return chain[-1]
    return str(peer)
