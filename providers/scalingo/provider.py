"""`ScalingoProvider`: one account (API token) in one region, over Scalingo's HTTP API.

Calls per action (regional calls, each taken from the provider's call budget; the token
exchange at the auth service, about once an hour, comes on top)::

    list_apps()                 1   GET /apps                     (no formation: 1 call a region)
    get_app(app)                2   GET /apps/{app}, GET /apps/{app}/containers (in a burst of
                                    reads, one GET /apps for all instead of GET /apps/{app})
      … a scale is pending      1   GET /apps, shared by every app being scaled (one a tick)
      … listed as done          0   the app as listed, with the formation the scale echoed
      … listed otherwise        1   GET /apps/{app}/operations/{id} (+2 once it has ended)
    activity(app, since)        1   GET /apps/{app}/stats/router?since=<hours, 3 at most>
    sleep(app)                  2   GET /apps/{app}/autoscalers, POST /apps/{app}/scale (→ 0),
                                    with the formation get_app read
      … app from list_apps      3   GET /apps/{app}/containers first
    wake(app, formation)        1   POST /apps/{app}/scale        (the recorded formation)
                                    + 1 PATCH a recorded autoscaler that was enabled
    wake(app, None)             2   GET /apps/{app}/containers, POST /apps/{app}/scale (web ≥ 1);
                                    1 when `app` comes from get_app (its formation is fresh)

A scale answers 202 with the operation in `Location`. The provider remembers the last
operation of each app (in memory, per provider) so `get_app` reports WAKING or STOPPING
with one call while it runs, and CRASHED with the operation's error when it fails. After a
restart that memory is gone and the state falls back on `app.status` and the formation.
While scales run, `poll_interval` paces the bot's `get_app` to one shared `GET /apps` a
tick (`providers.pacing`): about 1.25 s with the default budget, "up" told within a tick.

An app never deployed (`new`) is neither asleep nor awake: UNKNOWN, and a wake refuses at
once ("never deployed: nothing to wake"). Autoscalers: `providers.scalingo.autoscalers`.

Errors: see `providers.scalingo.client` (HTTP) and `providers.scalingo.auth` (token);
activity: `providers.scalingo.metrics`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from providers.base import (
    Activity,
    AppState,
    BudgetSnapshot,
    Clock,
    Formation,
    OperationRejected,
    PaasApp,
    ProviderUnavailable,
)
from providers.pacing import FollowPace
from providers.scalingo.autoscalers import restore_autoscalers, with_autoscalers
from providers.scalingo.client import ScalingoClient, app_path
from providers.scalingo.metrics import router_metric
from providers.scalingo.payloads import BUSY_STATUSES, parse_app, parse_formation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Scale:
    """The last scale of an app: its operation, and the app as it will be once done."""

    operation_id: str
    state: AppState  # WAKING or STOPPING while it runs
    app: PaasApp  # with the formation the scale echoed, when it did
    sent_at: datetime
    echoed: bool = False

    @property
    def done_status(self) -> str:
        """`app.status` once this scale is over: running after a wake, stopped after a sleep."""
        return "running" if self.state is AppState.WAKING else "stopped"


class ScalingoProvider:
    """The `Provider` protocol over one Scalingo region and one API token."""

    kind = "scalingo"

    def __init__(self, client: ScalingoClient, *, name: str, region: str, clock: Clock, wake_timeout: float) -> None:
        self.name = name
        self.region = region
        self.api_url = client.api_url
        self.wake_timeout = wake_timeout
        self._client = client
        self._clock = clock
        self._scales: dict[str, _Scale] = {}
        self._lock = threading.Lock()
        self._pace = FollowPace(clock, client.budget)

    def __repr__(self) -> str:
        return f"ScalingoProvider(name={self.name!r}, region={self.region!r})"

    def close(self) -> None:
        self._client.close()

    # -- reading -----------------------------------------------------------------------
    def list_apps(self) -> list[PaasApp]:
        response = self._client.call("GET", "/apps")
        apps = self._client.payload(response, "apps", list)
        with self._reading("the app list"):
            return [parse_app(a, provider=self.name, pending=self._pending_state(a.get("name"))) for a in apps]

    @property
    def poll_interval(self) -> float:
        """Seconds until the next shared look at the apps being scaled (one call a tick)."""
        return self._pace.interval()

    def get_app(self, app_id: str) -> PaasApp:
        scale = self._pending(app_id)
        if scale is None:
            return self._fetch(app_id)
        listed = self._pace.shared("apps", self._listing, newer_than=scale.sent_at).get(app_id) or {}
        status = listed.get("status")
        if status in BUSY_STATUSES:
            return replace(scale.app, state=scale.state, problem=None)
        if status == scale.done_status and scale.echoed:
            self._forget(app_id, scale)
            with self._reading(f"app {app_id}"):
                return parse_app(listed, provider=self.name, formation=scale.app.formation)
        operation = self._operation(app_id, scale.operation_id)
        status = operation.get("status") if operation else None
        if status in ("pending", "running"):
            return replace(scale.app, state=scale.state, problem=None)
        self._forget(app_id, scale)
        app = self._fetch(app_id)
        if status == "error" and operation is not None:
            problem = str(operation.get("error") or "the scale operation failed")
            log.info("scalingo.operation_failed provider=%s app=%s problem=%s", self.name, app_id, problem)
            return replace(app, state=AppState.CRASHED, problem=problem)
        return app

    def activity(self, app: PaasApp, since: datetime) -> Activity:
        return router_metric(self._client, app, since, until=self._clock.now())

    def budget(self) -> BudgetSnapshot | None:
        return self._client.budget.snapshot()

    # -- acting ------------------------------------------------------------------------
    def sleep(self, app: PaasApp) -> Formation:
        # The bot calls get_app just before (to check the app still runs and record its
        # formation): that formation is as fresh as a second read would be, one call cheaper.
        formation = app.formation if app.formation is not None else self._formation(app.id)
        formation = with_autoscalers(self._client, app.id, formation)  # the scale disables them
        running = [p for p in formation.processes if p.amount > 0]
        if running:
            body = {"containers": [{"name": p.name, "amount": 0} for p in running]}
            self._scale(app, body, AppState.STOPPING)
        return formation

    def wake(self, app: PaasApp, formation: Formation | None) -> None:
        if dict(app.details).get("status") == "new":
            raise OperationRejected(
                f"{app.name} was never deployed on Scalingo (status new): nothing to wake. Deploy it first.",
                provider=self.name,
                app=app.id,
            )
        # Only the types that ran are scaled: a type at 0 stays as it is (someone may have
        # started it by hand meanwhile, or removed it from the Procfile).
        processes = [p for p in formation.processes if p.amount > 0] if formation else []
        if processes:
            body = {"containers": [_scale_entry(p.name, p.amount, p.size) for p in processes]}
        else:
            # Nothing recorded (first seen asleep): web × 1, Scalingo's default. Read first
            # (get_app just did, when `app` comes from it), so a wake sent to an app that runs
            # after all never scales its web down.
            current = app.formation if app.formation is not None else self._formation(app.id)
            web = max(current.amount("web"), 1)
            body = {"containers": [_scale_entry("web", web, None)]}
        self._scale(app, body, AppState.WAKING)
        if formation is not None:
            restore_autoscalers(self._client, app.id, formation)

    # -- internals ---------------------------------------------------------------------
    def _listing(self) -> dict[str, Any]:
        apps = self._client.payload(self._client.call("GET", "/apps"), "apps", list)
        return {a["name"]: a for a in apps if isinstance(a, dict) and isinstance(a.get("name"), str)}

    def _fetch(self, app_id: str) -> PaasApp:
        """The app and its formation; its status from this tick's `GET /apps` when there is
        one, or when other reads or scales are in flight (a burst of wakes: one list for all)."""
        with self._pace.burst() as burst:
            crowd = burst or bool(self._scales)
            listing = self._pace.shared("apps", self._listing) if crowd else self._pace.fresh("apps")
            data = (listing or {}).get(app_id)
            if data is None:
                response = self._client.call("GET", app_path(app_id), app=app_id)
                data = self._client.payload(response, "app", app=app_id)
            formation = self._formation(app_id)
        with self._reading(f"app {app_id}"):
            return parse_app(data, provider=self.name, formation=formation)

    def _formation(self, app_id: str) -> Formation:
        response = self._client.call("GET", app_path(app_id, "/containers"), app=app_id)
        containers = self._client.payload(response, "containers", list, app=app_id)
        with self._reading(f"the formation of {app_id}"):
            return parse_formation(containers)

    def _operation(self, app_id: str, operation_id: str) -> dict[str, Any] | None:
        path = app_path(app_id, f"/operations/{quote(operation_id, safe='')}")
        response = self._client.call("GET", path, app=app_id, allow=(404,))
        if response.status_code == 404:
            return None
        return self._client.payload(response, "operation", app=app_id)

    def _scale(self, app: PaasApp, body: dict[str, Any], state: AppState) -> None:
        sent = self._clock.now()
        response = self._client.call("POST", app_path(app.id, "/scale"), app=app.id, body=body)
        try:
            formation: Formation | None = parse_formation(response.json()["containers"])
        except (ValueError, KeyError, TypeError):
            formation = None  # the scale was accepted; its echo is only a convenience
        operation_id = _operation_id(response)
        log.info(
            "scalingo.scaled provider=%s app=%s to=%s operation=%s",
            self.name,
            app.id,
            formation.describe() if formation else body,
            operation_id,
        )
        with self._lock:
            self._scales.pop(app.id, None)
            if operation_id:  # 200 without Location: scaled at once (app never deployed)
                details = tuple((k, "scaling" if k == "status" else v) for k, v in app.details)
                seen = replace(app, formation=formation or app.formation, state=state, problem=None, details=details)
                self._scales[app.id] = _Scale(operation_id, state, seen, sent, echoed=formation is not None)

    def _pending(self, app_id: str) -> _Scale | None:
        with self._lock:
            return self._scales.get(app_id)

    def _pending_state(self, app_id: Any) -> AppState | None:
        scale = self._pending(app_id) if isinstance(app_id, str) else None
        return scale.state if scale else None

    def _forget(self, app_id: str, scale: _Scale) -> None:
        with self._lock:
            if self._scales.get(app_id) is scale:
                del self._scales[app_id]

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        try:
            yield
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProviderUnavailable(
                f"the Scalingo API ({self.name}) sent {what} in a shape we cannot read ({_reason(exc)}); "
                "try again later",
                provider=self.name,
            ) from exc


def _scale_entry(name: str, amount: int, size: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "amount": amount}
    if size:
        entry["size"] = size
    return entry


def _operation_id(response: httpx.Response) -> str | None:
    """The operation to follow: the last path segment of `Location` (as Scalingo's CLI does).

    Only the id is kept, and read back from our own API URL: a Location pointing elsewhere
    never receives the bearer.
    """
    location = response.headers.get("Location")
    if response.status_code != 202 or not location:
        return None
    segment = httpx.URL(location).path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ProviderUnavailable) else f"{type(exc).__name__}: {exc}"
