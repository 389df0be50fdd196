"""The Clever Cloud provider: one account (OAuth 1 identity) in one zone.

Apps come from the personal space and from every organisation the user belongs to
(`/v2/summary`, `owners`); apps of other zones are neither listed nor touched. Calls::

    list_apps   GET /v2/summary (cached 10 min) + GET /v2/{owner}/applications per owner
                (coarse state from app.state; the Open link from the vhosts)
    get_app     GET app, GET instances, GET deployments (the newest, or the one a wake
                started among the last 5), + GET vhosts/favourite and GET env (worker
                commands) when an instance is UP and they are not cached (10 min)
      … a wake is followed    GET /v2/{owner}/applications, one a tick for every app of
                that owner being woken (`providers.pacing`), and now and then the app's
                deployments (a failed deploy); its instances once the app SHOULD_BE_UP
      … many at once          the app from one owner list for all, not GET app each
    sleep       GET instances (+ GET env when not cached), DELETE instances (undeploy)
    wake        POST instances (redeploy); its deploymentId is followed by get_app
    activity    access logs (1 call, 2 on a busy window) + GET deployments: see `activity`

Deployments, env and the favourite vhost are optional reads (`reads`): a 404 is "none", a
failure is said in the app's `problem`, neither ever fails a read, a sleep or a wake.

Waking: Clever Cloud keeps an undeployed app's scaling settings and a redeploy restores
them, so `wake` ignores the formation it is given. A redeploy builds or re-pulls the app,
which takes minutes: the bot follows `get_app` every `poll_interval` (a tick of about 1 s
while the budget has room) for up to `operation_timeout` (15 min by default).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
from providers.clever_cloud.owners import Owner, Owners
from providers.clever_cloud.reads import Reads, listed_json
from providers.clever_cloud.state import Status, app_status, coarse_status, open_url, running_instances
from providers.clever_cloud.state import formation as formation_of
from providers.pacing import FollowPace

log = logging.getLogger(__name__)

# Default seconds a wake may take. The original paastis allowed 60 s, far too short for a
# redeploy that rebuilds the app; 15 minutes covers a slow build (JVM, large node_modules)
# plus the boot, and a wake that takes longer deserves a human look anyway.
OPERATION_TIMEOUT = 900.0
FULL_READ = 3  # calls: the app, its instances, its deployments
# While a wake is followed, the app's deployments are read at least this often (a failed
# deploy leaves the app WANTS_TO_BE_UP): more rarely when many wakes share the budget.
DEPLOYMENT_CHECK = timedelta(seconds=10)


class CleverCloudProvider:
    """The `Provider` protocol over the Clever Cloud API, for one zone (or all of them)."""

    kind = "clever-cloud"

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
        self._owners = Owners(client, clock, name)
        self._reads = Reads(client, clock, name)
        self._pace = FollowPace(clock, client.budget)
        self._checked: dict[str, datetime] = {}  # app id → when a followed wake's deployment was read

    @property
    def poll_interval(self) -> float:
        """Seconds to the next tick: one app list per owner of the apps being woken."""
        owners = {self._owners.of(a) for a in self._pace.followers()}
        return self._pace.interval(len(owners) or FULL_READ)

    def list_apps(self) -> list[PaasApp]:
        owners, _ = self._owners.identity()
        apps, index = [], {}
        for owner in owners:
            for raw in listed_json(self._client.get(f"{owner.path}/applications"), f"the apps of {owner.name}"):
                if raw.get("id") and self._in_zone(raw):
                    index[raw["id"]] = owner
                    apps.append(self._view(raw, owner, coarse_status(raw)))
        self._owners.indexed(index)
        return apps

    def get_app(self, app_id: str) -> PaasApp:
        owner = self._owner_of(app_id)
        followed = self._pace.followed(app_id)
        with self._pace.burst() as burst:  # many reads at once (wakes): one owner list for all
            if followed or burst:
                listed = self._pace.shared(owner.path, lambda: self._app_list(owner)).get(app_id)
            else:
                listed = (self._pace.fresh(owner.path) or {}).get(app_id)
            if followed and listed is not None and listed.get("state") != "SHOULD_BE_UP":
                glance = self._glance(owner, app_id, followed, listed)
                if glance is not None:
                    return glance
            return self._read(owner, app_id, followed, listed)

    def _read(self, owner: Owner, app_id: str, followed: str | None, listed: Mapping[str, Any] | None) -> PaasApp:
        """The full state. A followed wake that SHOULD_BE_UP now costs its instances only:
        its deployment went through, its worker count and favourite domain can wait."""
        base = owner.app_path(app_id)
        raw = listed if listed is not None else self._client.get(base, app=app_id)
        if not isinstance(raw, Mapping) or raw.get("id") != app_id:
            raise ProviderUnavailable(
                f"Clever Cloud sent app {app_id} in a shape Paastis cannot read", provider=self.name, app=app_id
            )
        if not self._in_zone(raw):
            raise AppNotFound(f"{app_id} is not in zone {self.zone}", provider=self.name, app=app_id)
        instances = listed_json(self._client.get(f"{base}/instances", app=app_id), "instances")
        notes: list[str] = []
        finishing = bool(followed) and raw.get("state") == "SHOULD_BE_UP"
        deployment = None if finishing else self._reads.deployment(base, app_id, followed, notes)
        status = app_status(raw, deployment, instances, following=bool(followed))
        if status.state is not AppState.WAKING:
            self._pace.forget(app_id)
        up = any(i.get("state") == "UP" for i in instances)  # workers and the Open link matter once up
        if finishing:
            workers, favourite = self._reads.cached_workers(app_id), None
        else:
            workers = self._reads.workers(base, app_id, notes) if up else 0
            favourite = self._reads.favourite(base, app_id, notes) if up else None
        shape = formation_of(instances, workers)
        return self._view(raw, owner, status, shape, self._deployed_at(deployment), favourite, deployment, notes)

    def sleep(self, app: PaasApp) -> Formation:
        base = self._owner_of(app.id).app_path(app.id)
        instances = listed_json(self._client.get(f"{base}/instances", app=app.id), "instances")
        if not running_instances(instances):
            log.info("clever.sleep.skipped provider=%s app=%s why=no-instance", self.name, app.id)
            return formation_of([], 0)
        ran = formation_of(instances, self._reads.workers(base, app.id, []))  # a failure: workers unknown
        self._client.delete(f"{base}/instances", app=app.id)
        self._pace.forget(app.id)
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
            self._pace.follow(app.id, str(deployment))
            self._checked[app.id] = self._clock.now()
        log.info("clever.wake provider=%s app=%s deployment=%s", self.name, app.id, deployment)

    def activity(self, app: PaasApp, since: datetime) -> Activity:
        try:
            owner = self._owner_of(app.id)
            _, user = self._owners.identity()
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
    def _glance(self, owner: Owner, app_id: str, followed: str, listed: Mapping[str, Any]) -> PaasApp | None:
        """A followed wake still on its way, seen in the owner's app list this tick shared by
        every wake; now and then its deployment is read too, for a failure (None: read it
        in full — its deployment did not stay in progress)."""
        now = self._clock.now()
        followers = max(1, len(self._pace.followers()))
        every = max(DEPLOYMENT_CHECK, timedelta(minutes=followers / max(self._pace.share() / 2, 1)))
        if now - self._checked.get(app_id, now - every) >= every:
            self._checked[app_id] = now
            deployment = self._reads.deployment(owner.app_path(app_id), app_id, followed, [])
            if deployment is not None and deployment.get("state") != "WIP":
                return None
        return self._view(listed, owner, Status(AppState.WAKING, clever="starting"))

    def _app_list(self, owner: Owner) -> dict[str, Mapping[str, Any]]:
        answer = listed_json(self._client.get(f"{owner.path}/applications"), f"the apps of {owner.name}")
        return {str(a.get("id")): a for a in answer}

    def _owner_of(self, app_id: str) -> Owner:
        owner = self._owners.of(app_id)
        if owner is None:
            self.list_apps()
            owner = self._owners.of(app_id)
        if owner is None:
            raise self._owners.not_found(app_id, self.zone)
        return owner

    def _deployed_at(self, deployment: Mapping[str, Any] | None) -> datetime | None:
        """When a person last deployed, if the deployment get_app read is theirs."""
        _, user = self._owners.identity()
        try:
            return last_human_deploy([deployment], user) if deployment else None
        except ActivityUnavailable:
            return None  # informative here; activity() reports unreadable deployments

    def _in_zone(self, raw: Mapping[str, Any]) -> bool:
        return not self.zone or raw.get("zone") == self.zone

    def _view(
        self,
        raw: Mapping[str, Any],
        owner: Owner,
        status: Status,
        shape: Formation | None = None,
        deployed: datetime | None = None,
        favourite: str | None = None,
        deployment: Mapping[str, Any] | None = None,
        notes: list[str] | None = None,
    ) -> PaasApp:
        details = [("owner", owner.id), ("zone", str(raw.get("zone", ""))), ("clever_status", status.clever)]
        if deployment:
            details.append(("deployment", str(deployment.get("uuid") or deployment.get("id"))))
        problem = "; ".join(p for p in (status.problem, *(notes or ())) if p) or None
        return PaasApp(
            provider=self.name,
            id=raw["id"],
            name=raw.get("name") or raw["id"],
            state=status.state,
            url=open_url(raw.get("vhosts") or (), favourite or self._reads.cached_favourite(raw["id"])),
            formation=shape,
            last_deployed_at=deployed,
            problem=problem,
            details=tuple(details),
        )
