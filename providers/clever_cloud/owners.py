"""Who owns Clever Cloud apps: the personal space and every organisation of the user.

`/v2/summary` (cached 10 minutes) names them and Paastis's own user id; listing the apps
of every owner (`list_apps`) tells which owner holds which app (`index`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.base import AppNotFound, Clock, ProviderUnavailable
from providers.clever_cloud.client import CleverCloudClient

CACHE_TTL = timedelta(minutes=10)  # owners here; favourite vhosts and worker counts (`reads`)


@dataclass(frozen=True)
class Owner:
    """The personal space (`/v2/self`) or an organisation (`/v2/organisations/{id}`)."""

    id: str
    name: str
    personal: bool = False

    @property
    def path(self) -> str:
        return "/v2/self" if self.personal else f"/v2/organisations/{self.id}"

    def app_path(self, app_id: str) -> str:
        return f"{self.path}/applications/{app_id}"


class Owners:
    """The owners of one provider's apps, Paastis's user id, and which owner holds each app."""

    def __init__(self, client: CleverCloudClient, clock: Clock, provider: str) -> None:
        self._client = client
        self._clock = clock
        self._provider = provider
        self._lock = threading.Lock()
        self._known: tuple[tuple[Owner, ...], str, datetime] | None = None
        self._index: dict[str, Owner] = {}

    def identity(self) -> tuple[tuple[Owner, ...], str]:
        """The owners Paastis manages (personal space first) and its user id."""
        now = self._clock.now()
        with self._lock:
            if self._known and now - self._known[2] < CACHE_TTL:
                return self._known[0], self._known[1]
        summary = self._client.get("/v2/summary")
        try:
            user = summary["user"]
            owners = (
                Owner(user["id"], user.get("name") or "personal space", personal=True),
                *(
                    Owner(o["id"], o.get("name") or o["id"])
                    for o in summary.get("organisations") or ()
                    if o["id"] != user["id"]  # the personal space may be listed among organisations
                ),
            )
        except (KeyError, TypeError):
            raise ProviderUnavailable(
                "Clever Cloud sent a /v2/summary Paastis cannot read", provider=self._provider
            ) from None
        with self._lock:
            self._known = (owners, user["id"], now)
        return owners, user["id"]

    def indexed(self, index: dict[str, Owner]) -> None:
        with self._lock:
            self._index = index

    def of(self, app_id: str) -> Owner | None:
        with self._lock:
            return self._index.get(app_id)

    def not_found(self, app_id: str, zone: str) -> AppNotFound:
        where = f"zone {zone}" if zone else "any zone"
        return AppNotFound(
            f"Clever Cloud has no app {app_id} in {where} for this account", provider=self._provider, app=app_id
        )
