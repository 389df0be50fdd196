"""The regional API of the Scalingo fake: routes, payloads and errors of one region.

See `providers.scalingo.fake_api` for what it serves and where it departs from the real API.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import (
    ActivityUnavailable,
    AppNotFound,
    AppState,
    AuthenticationFailed,
    Formation,
    OperationRejected,
    Process,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from providers.fake import SimApp, SimOperation, SimulatedPaas
from providers.scalingo.fake_api.auth import FakeAuthService
from providers.scalingo.fake_api.autoscalers import FakeAutoscalers
from providers.scalingo.fake_api.wsgi import Received, Request, Response, StartResponse, error

DEFAULT_SIZE = "M"  # Scalingo's default container size
MAX_AMOUNT = 10  # "at most 10 containers per type"
PENDING_FOR = timedelta(seconds=1)  # an operation reads "pending" for its first second
DEFAULT_SINCE_HOURS = 3  # recorded: 181 one-minute points without `since`
MAX_SINCE_HOURS = 72
STATUS = {
    AppState.RUNNING: "running",
    AppState.SLEEPING: "stopped",
    AppState.WAKING: "scaling",
    AppState.STOPPING: "scaling",
    AppState.CRASHED: "crashed",
}
_APP = r"^/v1/apps/(?P<app>[^/]+)"
Handler = Callable[[Request, SimApp | None, dict[str, str]], Response]


class FakeScalingoRegion:
    """The regional API of one region (`api.<region>.scalingo.com`), as a WSGI app."""

    def __init__(self, region: str, world: SimulatedPaas, auth: FakeAuthService, log: list[Received]) -> None:
        self.region = region
        self.world = world
        self.auth = auth
        self._log = log
        self._created_at = world.clock.now()
        self.autoscalers = FakeAutoscalers()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"^/v1/apps/?$"), self._list),
            ("GET", re.compile(_APP + r"$"), self._show),
            ("GET", re.compile(_APP + r"/containers$"), self._containers),
            ("GET", re.compile(_APP + r"/ps$"), self._ps),
            ("POST", re.compile(_APP + r"/scale$"), self._scale),
            ("GET", re.compile(_APP + r"/operations/(?P<operation>[^/]+)$"), self._operation),
            ("GET", re.compile(_APP + r"/autoscalers$"), lambda r, app, p: self.autoscalers.listed(_id(app))),
            (
                "PATCH",
                re.compile(_APP + r"/autoscalers/(?P<autoscaler>[^/]+)$"),
                lambda r, app, p: self.autoscalers.update(_id(app), p["autoscaler"], r),
            ),
            ("GET", re.compile(_APP + r"/stats/(?P<metric>[^/]+)(?P<container>/[^/]+)?(?:/[^/]+)?$"), self._stats),
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        tid, refusal = self.auth.authenticate(request)
        response = refusal or self.auth.admit(tid or "") or self._route(request)
        self._log.append(Received.of(request, response, self.world.clock.now(), self.region, tid))
        return response.send(start_response)

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                params = {k: v for k, v in match.groupdict().items() if v is not None}
                try:
                    app = self._find(params["app"]) if "app" in params else None
                    return handler(request, app, params)
                except ProviderError as exc:
                    return _as_response(exc)
        return error(404, "not found")

    def _find(self, name_or_id: str) -> SimApp:
        for app in self.world.apps():
            if name_or_id in (app.id, app.name, _scalingo_id(app)):
                return app
        raise AppNotFound(f"no app {name_or_id!r}")

    # -- handlers ----------------------------------------------------------------------
    def _list(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        self.world.record("list")
        return Response(200, {"apps": [self._app_json(a) for a in self.world.apps()]})

    def _show(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        self.world.record("get", app.id)
        return Response(200, {"app": self._app_json(self.world.app(app.id))})

    def _containers(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        self.world.record("get", app.id)
        return Response(200, {"containers": _formation_json(self.world.app(app.id))})

    def _ps(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        self.world.record("get", app.id)
        app = self.world.app(app.id)
        # Departs: container states other than running/booting/stopping are UNCONFIRMED;
        # a crashed app lists its containers as "crashed".
        state = {AppState.WAKING: "booting", AppState.STOPPING: "stopping", AppState.CRASHED: "crashed"}
        started = _iso(app.running_since or self._created_at)
        containers = [
            {
                "id": f"{_scalingo_id(app)[:16]}{p.name[:4]}{index:04d}",
                "app_id": _scalingo_id(app),
                "type": p.name,
                "type_index": index,
                "label": f"{p.name}-{index}",
                "created_at": started,
                "deleted_at": None,
                "state": state.get(app.state, "running"),
                "container_size": {"name": p.size or DEFAULT_SIZE},
            }
            for p in app.formation.processes
            for index in range(1, p.amount + 1)
        ]
        return Response(200, {"containers": containers})

    def _scale(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        try:
            wanted = request.json()["containers"]
        except (ValueError, KeyError, TypeError):
            wanted = None
        if not isinstance(wanted, list):
            return Response(422, {"errors": {"containers": ["missing field"]}})
        current = self.world.app(app.id)
        known = {p.name: p for p in current.formation.processes}
        changes: dict[str, Process] = {}
        for entry in wanted:
            entry = entry if isinstance(entry, dict) else {}
            name, amount = entry.get("name"), entry.get("amount")
            if name not in known:
                return error(404, "not found", resource="container_type")
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_AMOUNT:
                return Response(422, {"errors": {"amount": [f"must be between 0 and {MAX_AMOUNT}"]}})
            changes[name] = Process(name, amount, entry.get("size") or known[name].size)
        if current.state.busy:
            # Departs: the status of a scale during another operation is UNCONFIRMED
            # ("probably 409 or 422"); 409 Conflict, go-scalingo's ConflictError shape.
            return error(409, f"{current.name} is {STATUS[current.state]}: wait for the current operation to end")
        target = Formation(tuple(changes.get(p.name, p) for p in current.formation.processes))
        self.world.record("wake" if target.running else "sleep", app.id)
        operation = self.world.scale(app.id, target)
        self.autoscalers.scaled(app.id, set(changes))
        if current.never_deployed:  # "200 if the app is scaled before deployment" (go-scalingo)
            return Response(200, {"containers": _formation_json(self.world.app(app.id))})
        location = f"{request.base_url}/v1/apps/{current.name}/operations/{operation.id}"
        return Response(202, {"containers": _formation_json(self.world.app(app.id))}, (("Location", location),))

    def _operation(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        self.world.record("get", app.id)
        try:
            operation = self.world.operation(app.id, params["operation"])
        except AppNotFound:
            return error(404, "not found", resource="operation")
        return Response(200, {"operation": _operation_json(operation, self.world.clock.now())})

    def _stats(self, request: Request, app: SimApp | None, params: dict[str, str]) -> Response:
        assert app is not None
        metric = params["metric"]
        if metric in ("cpu", "memory", "swap") and "container" not in params:
            return error(400, "'container' should be defined")
        if metric != "router":
            # Departs: only the router metric is simulated.
            return error(404, "no metrics found")
        try:
            hours = int(request.query.get("since", [DEFAULT_SINCE_HOURS])[0])
        except ValueError:
            return error(400, "since should be a number of hours")
        if not 1 <= hours <= MAX_SINCE_HOURS:
            return error(400, f"since should be between 1 and {MAX_SINCE_HOURS}")
        self.world.record("activity", app.id)
        points = self._router_points(app, hours)
        if not any(p["value"] for p in points):
            return error(404, "no metrics found")
        return Response(200, points)

    def _router_points(self, app: SimApp, hours: int) -> list[dict[str, Any]]:
        """Requests per bucket, oldest first, the current (still filling) bucket included.

        One-minute buckets up to 3 h (recorded). Departs (inferred, UNCONFIRMED): longer
        windows get about 200 coarser buckets (48 h: 14 minutes, as in the documented
        example), each holding requests per minute averaged over the bucket, so one request
        in a 14-minute bucket reads 0.07.
        """
        now = self.world.clock.now()
        minutes = max(1, hours * 60 // 200)
        step = timedelta(minutes=minutes)
        first = _floor(now - timedelta(hours=hours), step)
        count = (_floor(now, step) - first) // step + 1
        values = [0] * count
        for when in self.world.request_times(app.id, first, now):
            values[min((when - first) // step, count - 1)] += 1
        points: list[dict[str, Any]] = [
            {"time": (first + i * step).strftime("%Y-%m-%dT%H:%M:%SZ"), "value": v if minutes == 1 else v / minutes}
            for i, v in enumerate(values)
        ]
        if points[0]["value"] == 0:
            points[0]["value"] = None  # as recorded: the first value of a window may be null
        return points

    # -- payloads ----------------------------------------------------------------------
    def _app_json(self, app: SimApp) -> dict[str, Any]:
        url = f"https://{app.name}.{self.region}.scalingo.io"
        return {
            "id": _scalingo_id(app),
            "name": app.name,
            "region": self.region,
            "owner": {"id": f"us-{app.owner}", "username": app.owner, "email": f"{app.owner}@example.com"},
            "url": url,
            "base_url": url,
            "status": "new" if app.never_deployed else STATUS.get(app.state, "new"),
            "git_url": f"git@ssh.{self.region}.scalingo.com:{app.name}.git",
            "created_at": _iso(self._created_at),
            "last_deployed_at": _iso(app.deployed_at) if app.deployed_at else None,
            "last_deployed_by": app.owner if app.deployed_at else None,
            "force_https": False,
            "sticky_session": False,
            "router_logs": False,
        }


def _id(app: SimApp | None) -> str:
    assert app is not None
    return app.id


def _formation_json(app: SimApp) -> list[dict[str, Any]]:
    return [
        {
            "id": f"ct-{app.id}-{p.name}",
            "app_id": _scalingo_id(app),
            "name": p.name,
            "amount": p.amount,
            "size": p.size or DEFAULT_SIZE,
        }
        for p in app.formation.processes
    ]


def _operation_json(operation: SimOperation, now: datetime) -> dict[str, Any]:
    status = operation.status(now)
    if status == "running" and now < operation.started_at + PENDING_FOR:
        status = "pending"
    data: dict[str, Any] = {
        "id": operation.id,
        "created_at": _iso(operation.started_at),
        "finished_at": _iso(operation.ends_at) if status in ("done", "error") else None,
        "status": status,
        "type": "scale",
    }
    if status == "error":
        data["error"] = operation.failure
    return data


def _as_response(exc: ProviderError) -> Response:
    """A world's failure, as the Scalingo API would answer it."""
    if isinstance(exc, AppNotFound):
        return error(404, "not found", resource="app")
    if isinstance(exc, RateLimited):
        return Response(429, "Retry later")
    if isinstance(exc, AuthenticationFailed):
        return error(401, str(exc))
    if isinstance(exc, OperationRejected):
        return Response(422, {"errors": {"app": [str(exc)]}})
    if isinstance(exc, ActivityUnavailable):
        return error(500, "Internal error occured, we're on it!")
    if isinstance(exc, ProviderUnavailable):
        return error(503, f"upstream provider returned an error: {exc}")
    return error(500, "Internal error occured, we're on it!")


def _scalingo_id(app: SimApp) -> str:
    """A 24-hex id, as Scalingo's (the world's id is what the tests call the app)."""
    return hashlib.sha1(f"{app.zone}/{app.id}".encode()).hexdigest()[:24]


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def _floor(when: datetime, step: timedelta) -> datetime:
    seconds = int(when.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(step.total_seconds()), UTC)
