"""The Clever Cloud provider: one account (OAuth 1 identity) in one zone.

Apps come from the personal space and from every organisation the user belongs to
(`/v2/summary`); apps of other zones are neither listed nor touched. Calls per operation::

    list_apps   GET /v2/summary (cached 10 min) + GET /v2/{owner}/applications per owner
                (coarse state from app.state; the Open link from the vhosts)
    get_app     GET app, GET instances, GET the followed deployment (or deployments?limit=1),
                + GET vhosts/favourite and GET env (worker commands) when not cached (10 min)
    sleep       GET instances (+ GET env when not cached), DELETE instances (undeploy)
    wake        POST instances (redeploy); its deploymentId is followed by get_app
    activity    access logs (1 call, 2 on a busy window) + GET deployments: see `activity`

Waking: Clever Cloud keeps an undeployed app's scaling settings and a redeploy restores
them, so `wake` ignores the formation it is given. A redeploy builds or re-pulls the app,
which takes minutes: the bot follows `get_app` every `poll_interval` (15 s) for up to
`operation_timeout` (15 min by default).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from providers.base import (
    Activity,
    ActivityUnavailable,
    AppNotFound,
    AppState,
    AuthenticationFailed,
    BudgetSnapshot,
    Clock,
    Formation,
    PaasApp,
    ProviderError,
    ProviderUnavailable,
)
from providers.clever_cloud.activity import activity, last_human_deploy
from providers.clever_cloud.client import CleverCloudClient
from providers.clever_cloud.state import (
    Status,
    app_status,
    coarse_status,
    open_url,
    running_instances,
    worker_commands,
)
from providers.clever_cloud.state import formation as formation_of

log = logging.getLogger(__name__)

# Seconds between two get_app while waking. A redeploy takes minutes (build or image pull,
# then boot): 15 s adds at most 15 s to a 2-5 minute wake, for 3 calls a poll (12 a minute).
POLL_INTERVAL = 15.0
# Default seconds a wake may take. The original paastis allowed 60 s, far too short for a
# redeploy that rebuilds the app; 15 minutes covers a slow build (JVM, large node_modules)
# plus the boot, and a wake that takes longer deserves a human look anyway.
OPERATION_TIMEOUT = 900.0
CACHE_TTL = timedelta(minutes=10)  # owners, favourite vhosts, worker commands


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


class CleverCloudProvider:
    """The `Provider` protocol over the Clever Cloud API, for one zone (or all of them)."""

    kind = "clever-cloud"
    poll_interval = POLL_INTERVAL

    def __init__(
        self,
        *,
        name: str,
        client: CleverCloudClient,
        clock: Clock,
        zone: str = "",
        wake_timeout: float = OPERATION_TIMEOUT,
    ) -> None:
        self.name = name
        self.zone = zone
        self.wake_timeout = wake_timeout
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._owners: tuple[tuple[Owner, ...], str, datetime] | None = None  # owners, Paastis's user id, when
        self._index: dict[str, Owner] = {}
        self._following: dict[str, str] = {}  # app id → the deployment its wake started
        self._cache: dict[tuple[str, str], tuple[Any, datetime]] = {}

    def list_apps(self) -> list[PaasApp]:
        owners, _ = self._identity()
        apps, index = [], {}
        for owner in owners:
            for raw in _listed(self._client.get(f"{owner.path}/applications"), f"the apps of {owner.name}"):
                if raw.get("id") and self._in_zone(raw):
                    index[raw["id"]] = owner
                    apps.append(self._view(raw, owner, coarse_status(raw)))
        with self._lock:
            self._index = index
        return apps

    def get_app(self, app_id: str) -> PaasApp:
        owner = self._owner_of(app_id)
        base = owner.app_path(app_id)
        raw = self._client.get(base, app=app_id)
        if not isinstance(raw, Mapping) or raw.get("id") != app_id:
            raise ProviderUnavailable(
                f"Clever Cloud sent app {app_id} in a shape Paastis cannot read", provider=self.name, app=app_id
            )
        if not self._in_zone(raw):
            raise AppNotFound(f"{app_id} is not in zone {self.zone}", provider=self.name, app=app_id)
        instances = _listed(self._client.get(f"{base}/instances", app=app_id), "instances")
        deployment = self._deployment(base, app_id)
        status = app_status(raw, deployment, instances)
        if status.state is not AppState.WAKING:
            with self._lock:
                self._following.pop(app_id, None)
        workers = self._workers(base, app_id) if any(i.get("state") == "UP" for i in instances) else 0
        return self._view(
            raw,
            owner,
            status,
            formation_of(instances, workers),
            self._deployed_at(deployment),
            favourite=self._favourite(base, app_id),
            deployment=deployment,
        )

    def sleep(self, app: PaasApp) -> Formation:
        base = self._owner_of(app.id).app_path(app.id)
        instances = _listed(self._client.get(f"{base}/instances", app=app.id), "instances")
        if not running_instances(instances):
            log.info("clever.sleep.skipped provider=%s app=%s why=no-instance", self.name, app.id)
            return formation_of([], 0)
        ran = formation_of(instances, self._workers(base, app.id))
        self._client.delete(f"{base}/instances", app=app.id)
        with self._lock:
            self._following.pop(app.id, None)
        log.info("clever.sleep provider=%s app=%s ran=%s", self.name, app.id, ran.describe())
        return ran

    def wake(self, app: PaasApp, formation: Formation | None) -> None:
        """Redeploy, unless `app` (as get_app last saw it) runs or is already being deployed:
        a redeploy restarts a running app. `formation` is not needed: Clever Cloud restores
        the scaling the app had."""
        if app.state in (AppState.RUNNING, AppState.WAKING):
            log.info("clever.wake.skipped provider=%s app=%s state=%s", self.name, app.id, app.state)
            return
        base = self._owner_of(app.id).app_path(app.id)
        answer = self._client.post(f"{base}/instances", app=app.id) or {}
        deployment = answer.get("deploymentId") if isinstance(answer, Mapping) else None
        if deployment:
            with self._lock:
                self._following[app.id] = str(deployment)
        log.info("clever.wake provider=%s app=%s deployment=%s", self.name, app.id, deployment)

    def activity(self, app: PaasApp, since: datetime) -> Activity:
        try:
            owner = self._owner_of(app.id)
            _, user = self._identity()
            return activity(
                self._client,
                owner=owner.id,
                app=app.id,
                paastis_user=user,
                deployments_path=f"{owner.app_path(app.id)}/deployments",
                since=since,
                until=self._clock.now(),
            )
        except ActivityUnavailable as exc:
            exc.provider = self.name
            raise
        except (AuthenticationFailed, AppNotFound):
            raise
        except ProviderError as exc:
            raise ActivityUnavailable(
                f"the activity of {app.name} cannot be read now: {exc}", provider=self.name, app=app.id
            ) from exc

    def budget(self) -> BudgetSnapshot | None:
        return self._client.budget.snapshot()

    # -- internals -----------------------------------------------------------------------
    def _identity(self) -> tuple[tuple[Owner, ...], str]:
        """The owners Paastis manages (personal space first) and its user id, from /v2/summary."""
        now = self._clock.now()
        with self._lock:
            if self._owners and now - self._owners[2] < CACHE_TTL:
                return self._owners[0], self._owners[1]
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
                "Clever Cloud sent a /v2/summary Paastis cannot read", provider=self.name
            ) from None
        with self._lock:
            self._owners = (owners, user["id"], now)
        return owners, user["id"]

    def _owner_of(self, app_id: str) -> Owner:
        with self._lock:
            owner = self._index.get(app_id)
        if owner is None:
            self.list_apps()
            with self._lock:
                owner = self._index.get(app_id)
        if owner is None:
            where = f"zone {self.zone}" if self.zone else "any zone"
            raise AppNotFound(
                f"Clever Cloud has no app {app_id} in {where} for this account", provider=self.name, app=app_id
            )
        return owner

    def _deployment(self, base: str, app_id: str) -> Mapping[str, Any] | None:
        with self._lock:
            followed = self._following.get(app_id)
        if followed:
            try:
                followed_deployment = self._client.get(f"{base}/deployments/{followed}", app=app_id)
                if isinstance(followed_deployment, Mapping):
                    return followed_deployment
            except AppNotFound:
                log.info("clever.follow.lost provider=%s app=%s deployment=%s", self.name, app_id, followed)
                with self._lock:
                    self._following.pop(app_id, None)
        latest = _listed(self._client.get(f"{base}/deployments", {"limit": 1}, app=app_id), "deployments")
        return latest[0] if latest else None

    def _deployed_at(self, deployment: Mapping[str, Any] | None) -> datetime | None:
        """When a person last deployed, if the deployment get_app read is theirs."""
        _, user = self._identity()
        try:
            return last_human_deploy([deployment], user) if deployment else None
        except ActivityUnavailable:
            return None  # informative here; activity() reports unreadable deployments

    def _favourite(self, base: str, app_id: str) -> str | None:
        def fetch() -> str | None:
            answer = self._client.get(f"{base}/vhosts/favourite", app=app_id, expected_error_ids=frozenset({4021}))
            return answer.get("fqdn") if isinstance(answer, Mapping) else None

        return self._cached("favourite", app_id, fetch)

    def _workers(self, base: str, app_id: str) -> int:
        return self._cached(
            "workers",
            app_id,
            lambda: worker_commands(_listed(self._client.get(f"{base}/env", app=app_id), "environment")),
        )

    def _cached(self, kind: str, app_id: str, fetch: Any) -> Any:
        now = self._clock.now()
        with self._lock:
            hit = self._cache.get((kind, app_id))
        if hit and now - hit[1] < CACHE_TTL:
            return hit[0]
        value = fetch()
        with self._lock:
            self._cache[(kind, app_id)] = (value, now)
        return value

    def _cached_only(self, kind: str, app_id: str) -> Any:
        with self._lock:
            hit = self._cache.get((kind, app_id))
        return hit[0] if hit else None

    def _in_zone(self, raw: Mapping[str, Any]) -> bool:
        return not self.zone or raw.get("zone") == self.zone

    def _view(
        self,
        raw: Mapping[str, Any],
        owner: Owner,
        status: Status,
        shape: Formation | None = None,
        deployed: datetime | None = None,
        *,
        favourite: str | None = None,
        deployment: Mapping[str, Any] | None = None,
    ) -> PaasApp:
        details = [("owner", owner.id), ("zone", str(raw.get("zone", ""))), ("clever_status", status.clever)]
        if deployment:
            details.append(("deployment", str(deployment.get("uuid") or deployment.get("id"))))
        return PaasApp(
            provider=self.name,
            id=raw["id"],
            name=raw.get("name") or raw["id"],
            state=status.state,
            url=open_url(raw.get("vhosts") or (), favourite or self._cached_only("favourite", raw["id"])),
            formation=shape,
            last_deployed_at=deployed,
            problem=status.problem,
            details=tuple(details),
        )


def _listed(value: Any, what: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ProviderUnavailable(f"Clever Cloud sent {what} Paastis cannot read (expected a JSON array)")
    return value
