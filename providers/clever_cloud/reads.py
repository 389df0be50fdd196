"""What the Clever Cloud provider reads besides an app and its instances.

    the deployment a state is judged by   deployments?limit=1; while a wake is followed,
                                          deployments?limit=5 matched by uuid (as clever-tools
                                          does: fetching a fresh deployment by id "too soon
                                          may result in an error"), never limit=1, which may
                                          still be the previous UNDEPLOY; None: not yet listed
    worker commands (GET env)             cached 10 minutes
    favourite vhost                       cached 10 minutes

A 404 on any of them is "none" (clever-client reads a 404 on deployments, env and the
favourite vhost as empty), never "no such app". All three are optional: a failure degrades
what Paastis knows — said in words in `notes`, which the provider puts in the app's
`problem` — and never stops a sleep or a wake.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from providers.base import Clock, ProviderError, ProviderUnavailable
from providers.clever_cloud.client import CleverCloudClient
from providers.clever_cloud.owners import CACHE_TTL
from providers.clever_cloud.state import worker_commands

log = logging.getLogger(__name__)
T = TypeVar("T")
FOLLOWED_AMONG = 5  # the newest deployments searched for the one a wake started


class Reads:
    """The optional reads of one provider, and what it caches of them. Thread-safe."""

    def __init__(self, client: CleverCloudClient, clock: Clock, provider: str) -> None:
        self._client = client
        self._clock = clock
        self._provider = provider
        self._cache: dict[tuple[str, str], tuple[Any, datetime]] = {}
        self._lock = threading.Lock()

    def deployment(self, base: str, app_id: str, followed: str | None, notes: list[str]) -> Mapping[str, Any] | None:
        """The deployment a wake started (`followed`: its uuid), else the newest one."""

        def read() -> Mapping[str, Any] | None:
            limit = FOLLOWED_AMONG if followed else 1
            answer = self._client.get(f"{base}/deployments", {"limit": limit}, app=app_id, missing_ok=True)
            listed = listed_json(answer, "deployments")
            if not followed:
                return listed[0] if listed else None
            return next((d for d in listed if followed in (str(d.get("uuid")), str(d.get("id")))), None)

        return self.optional("the deployments", app_id, notes, read, None)

    def workers(self, base: str, app_id: str, notes: list[str]) -> int:
        def read() -> int:
            answer = self._client.get(f"{base}/env", app=app_id, missing_ok=True)
            return worker_commands(listed_json(answer, "the environment"))

        return self.optional("the worker count", app_id, notes, lambda: self._cached("workers", app_id, read), 0)

    def favourite(self, base: str, app_id: str, notes: list[str]) -> str | None:
        def read() -> str | None:
            answer = self._client.get(f"{base}/vhosts/favourite", app=app_id, missing_ok=True)
            return answer.get("fqdn") if isinstance(answer, Mapping) else None

        return self.optional(
            "the favourite domain", app_id, notes, lambda: self._cached("favourite", app_id, read), None
        )

    def cached_favourite(self, app_id: str) -> str | None:
        return self._cached_only("favourite", app_id, None)

    def cached_workers(self, app_id: str) -> int:
        return self._cached_only("workers", app_id, 0)

    def _cached_only(self, kind: str, app_id: str, fallback: T) -> T:
        with self._lock:
            hit = self._cache.get((kind, app_id))
        return hit[0] if hit else fallback

    def optional(self, what: str, app_id: str, notes: list[str], read: Callable[[], T], fallback: T) -> T:
        """`read()`, or `fallback` with a note when it fails: an optional read never fails a call."""
        try:
            return read()
        except ProviderError as exc:
            log.warning(
                "clever.optional_read_failed provider=%s app=%s what=%s error=%s", self._provider, app_id, what, exc
            )
            notes.append(f"{what} could not be read ({exc})")
            return fallback

    def _cached(self, kind: str, app_id: str, fetch: Callable[[], T]) -> T:
        now = self._clock.now()
        with self._lock:
            hit = self._cache.get((kind, app_id))
        if hit and now - hit[1] < CACHE_TTL:
            return hit[0]
        value = fetch()  # a failure is not cached: the next call tries again
        with self._lock:
            self._cache[(kind, app_id)] = (value, now)
        return value


def listed_json(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A JSON array of objects (None: empty); ProviderUnavailable for anything else."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ProviderUnavailable(f"Clever Cloud sent {what} Paastis cannot read (expected a JSON array)")
    return value
