"""The fake Clever Cloud API as a WSGI app: routes, answers, injected faults (see the package)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from providers.base import (
    AppNotFound,
    AuthenticationFailed,
    Formation,
    OperationRejected,
    Process,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from providers.clever_cloud.fake_api.accesslogs import AccessLogStreams, StreamFault
from providers.clever_cloud.fake_api.oauth import refusal, signed_with
from providers.clever_cloud.fake_api.payloads import (
    CleverSide,
    app_json,
    default_vhost,
    deployment_uuid,
    deployments_json,
    environment_json,
    instances_json,
    scaling_to_restore,
)
from providers.clever_cloud.signing import Credentials
from providers.fake import SimApp, SimulatedPaas

DEMO_CREDENTIALS = Credentials("fake-consumer-key", "fake-consumer-secret", "fake-token", "fake-token-secret")
_APP = r"/v2/(?P<owner>self|organisations/(?P<org>[^/]+))/applications/(?P<app>[^/]+)"
_STATUS = {
    AuthenticationFailed: 401,
    AppNotFound: 404,
    RateLimited: 429,
    ProviderUnavailable: 503,
    OperationRejected: 400,
}


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: Mapping[str, str]
    last_event_id: str | None = None
    signed_with: str = ""  # "PLAINTEXT 1.0": the signature method and oauth_version sent


@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    stream: Iterator[bytes] | None = None


@dataclass(frozen=True)
class _Call:
    params: Mapping[str, str]  # path parameters
    query: Mapping[str, str]
    last_event_id: str | None


class FakeCleverCloud:
    """The WSGI app. `world` apps owned by "self" are the user's; any other owner is an
    organisation id (`orga_…`) the user belongs to."""

    def __init__(
        self,
        world: SimulatedPaas,
        *,
        credentials: Credentials = DEMO_CREDENTIALS,
        user_id: str = "user_00000000-0000-4000-8000-paastis00001",
        user_name: str = "Paastis",
        organisations: Mapping[str, str] | None = None,
        zone: str = "par",
        heartbeat_seconds: float = 2.0,
    ) -> None:
        self.world = world
        self.credentials = credentials
        self.user = {"id": user_id, "name": user_name}
        self.zone = zone
        self.access_logs = AccessLogStreams(world, heartbeat_seconds=heartbeat_seconds)
        self.requests: list[SeenRequest] = []
        self._organisations = dict(organisations or {})
        self._path_faults: list[list[Any]] = []  # [path suffix, status, times left]
        self._sides: dict[str, CleverSide] = {}
        self._lock = threading.Lock()
        self._routes: list[tuple[str, re.Pattern[str], Callable[[_Call], _Reply]]] = [
            ("GET", re.compile(r"/v2/self"), self._self),
            ("GET", re.compile(r"/v2/summary"), self._summary),
            ("GET", re.compile(r"/v2/organisations"), self._organisations_list),
            ("GET", re.compile(r"/v2/(?P<owner>self|organisations/(?P<org>[^/]+))/applications"), self._apps),
            ("GET", re.compile(_APP), self._app),
            ("GET", re.compile(_APP + "/instances"), self._instances),
            ("POST", re.compile(_APP + "/instances"), self._redeploy),
            ("DELETE", re.compile(_APP + "/instances"), self._undeploy),
            ("GET", re.compile(_APP + "/deployments"), self._deployments),
            ("GET", re.compile(_APP + "/deployments/(?P<deployment>[^/]+)"), self._deployment),
            ("GET", re.compile(_APP + "/vhosts"), self._vhosts),
            ("GET", re.compile(_APP + "/vhosts/favourite"), self._favourite),
            ("GET", re.compile(_APP + "/env"), self._env),
            (
                "GET",
                re.compile(r"/v4/accesslogs/organisations/(?P<org>[^/]+)/applications/(?P<app>[^/]+)/accesslogs"),
                self._access_logs,
            ),
        ]

    # -- steering, for tests and the demo --------------------------------------------------
    def set_vhosts(self, app_id: str, fqdns: list[str], favourite: str | None = None) -> None:
        with self._lock:
            side = self._side(self.world.app(app_id))
            side.vhosts, side.favourite = list(fqdns), favourite

    def fault_stream(self, kind: str, *, after: int = 0, times: int = 1, seconds: float = 1.0) -> None:
        """Spoil the next `times` access-log streams: see `StreamFault`."""
        self.access_logs.fault(StreamFault(kind, after, times, seconds))

    def fail_path(self, suffix: str, status: int = 500, *, times: int = 1) -> None:
        """Answer `status` (with Clever Cloud's error body) to the next `times` requests whose
        path ends with `suffix` (-1: until the fake closes): a sub-resource that fails alone."""
        with self._lock:
            self._path_faults.append([suffix, status, times])

    def close(self) -> None:
        """End every open stream (without END_OF_STREAM, like a server going away)."""
        self.access_logs.close()

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        call = _Call({}, query, environ.get("HTTP_LAST_EVENT_ID"))
        with self._lock:
            self.requests.append(SeenRequest(method, path, query, call.last_event_id, signed_with(environ)))
        reply = self._dispatch(environ, method, path, call)
        headers = [("Content-Type", "text/event-stream" if reply.stream else "application/json"), *reply.headers]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        if reply.stream is not None:
            return reply.stream
        return iter([json.dumps(reply.body).encode()])

    def _dispatch(self, environ: Mapping[str, Any], method: str, path: str, call: _Call) -> _Reply:
        why = refusal(environ, self.credentials)
        if why:  # the real body for a refused signature is not documented
            return _Reply(401, {"id": 401, "message": f"Unauthorized: {why}", "type": "error"})
        faulted = self._path_fault(path)
        if faulted:
            return _Reply(faulted, {"id": 1000 + faulted, "message": f"injected HTTP {faulted}", "type": "error"})
        matched = [(m, match, handler) for m, pattern, handler in self._routes if (match := pattern.fullmatch(path))]
        for route_method, match, handler in matched:
            if route_method == method:
                try:
                    return handler(_Call(match.groupdict(), call.query, call.last_event_id))
                except ProviderError as error:
                    return _error_reply(error, v4=path.startswith("/v4/"))
        if matched:
            return _Reply(405, {"id": 405, "message": f"{method} is not allowed on {path}", "type": "error"})
        return _Reply(404, {"id": 404, "message": f"no route {path}", "type": "error"})

    # -- v2: owners and apps -----------------------------------------------------------------
    def _self(self, call: _Call) -> _Reply:
        self.world.record("list")
        return _Reply(200, {**self.user, "email": "paastis@example.test", "emailValidated": True})

    def _summary(self, call: _Call) -> _Reply:
        self.world.record("list")
        mine = [{"id": a.id, "name": a.name} for a in self.world.apps() if a.owner == "self"]
        user = {**self.user, "applications": mine, "addons": []}
        organisations = [{**self.user, "applications": mine, "addons": []}]  # the personal space is listed too
        for org_id, name in self._all_organisations().items():
            apps = [{"id": a.id, "name": a.name} for a in self.world.apps() if a.owner == org_id]
            organisations.append({"id": org_id, "name": name, "applications": apps, "addons": [], "role": "ADMIN"})
        return _Reply(200, {"user": user, "organisations": organisations})

    def _organisations_list(self, call: _Call) -> _Reply:
        self.world.record("list")
        return _Reply(200, [{"id": i, "name": n} for i, n in self._all_organisations().items()])

    def _apps(self, call: _Call) -> _Reply:
        self.world.record("list")
        owner = call.params["org"] or "self"
        return _Reply(200, [self._app_json(a) for a in self.world.apps() if a.owner == owner])

    def _app(self, call: _Call) -> _Reply:
        return _Reply(200, self._app_json(self._target(call, "get")))

    def _instances(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        with self._lock:
            return _Reply(200, instances_json(app, self._side(app)))

    def _redeploy(self, call: _Call) -> _Reply:
        app = self._target(call, "wake")
        with self._lock:
            target = scaling_to_restore(self._side(app))
        operation = self.world.scale(app.id, target)
        return _Reply(
            200,
            {
                "id": len(app.operations),
                "message": "The application will be redeployed",
                "type": "success",
                "deploymentId": deployment_uuid(app, operation),
            },
        )

    def _undeploy(self, call: _Call) -> _Reply:
        app = self._target(call, "sleep")
        if app.formation.running:
            self.world.scale(app.id, _zeros(app))
        return _Reply(200, {"id": 0, "message": "The application has been stopped", "type": "success"})

    def _deployments(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        if app.never_deployed:  # clever-client reads this 404 as "no deployment"
            return _Reply(404, {"id": 4004, "message": "No deployment for this application", "type": "error"})
        listed = deployments_json(app, paastis_user=self.user, now=self.world.clock.now())
        if call.query.get("action"):
            listed = [d for d in listed if d["action"] == call.query["action"]]
        offset = int(call.query.get("offset") or 0)
        limit = int(call.query.get("limit") or len(listed))
        return _Reply(200, listed[offset : offset + limit])

    def _deployment(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        for deployment in deployments_json(app, paastis_user=self.user, now=self.world.clock.now()):
            if call.params["deployment"] in (deployment["uuid"], str(deployment["id"])):
                return _Reply(200, deployment)
        raise AppNotFound(f"no deployment {call.params['deployment']}")

    def _vhosts(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        with self._lock:
            return _Reply(200, [{"fqdn": v} for v in self._side(app).vhosts])

    def _favourite(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        with self._lock:
            favourite = self._side(app).favourite
        if favourite is None:
            return _Reply(404, {"id": 4021, "message": "This application has no favourite vhost", "type": "error"})
        return _Reply(200, {"fqdn": favourite})

    def _env(self, call: _Call) -> _Reply:
        app = self._target(call, "get")
        if app.never_deployed:
            return _Reply(404, {"id": 4005, "message": "No environment for this application", "type": "error"})
        with self._lock:
            return _Reply(200, environment_json(self._side(app)))

    # -- v4: access logs -------------------------------------------------------------------
    def _access_logs(self, call: _Call) -> _Reply:
        app = self._target(call, "activity")
        stream = self.access_logs.open(app, self._zone(app), call.query, call.last_event_id)
        return _Reply(200, stream=stream, headers=(("Cache-Control", "no-cache"),))

    # -- internals -----------------------------------------------------------------------
    def _path_fault(self, path: str) -> int | None:
        with self._lock:
            for fault in self._path_faults:
                suffix, status, times = fault
                if path.endswith(suffix) and times != 0:
                    fault[2] = times - 1 if times > 0 else times
                    return status
        return None

    def _target(self, call: _Call, operation: str) -> SimApp:
        """The app of the path, after the world's injected failures for `operation`."""
        app_id = call.params["app"]
        self.world.record(operation, app_id)
        app = self.world.app(app_id)
        owner = self._owner_id(app)
        asked = call.params.get("org")
        if call.params.get("owner") == "self" and asked is None:
            return app  # /v2/self/… also finds the apps of the user's organisations
        if asked != owner:
            raise AppNotFound(f"no application {app_id} in {asked}")
        return app

    def _app_json(self, app: SimApp) -> dict[str, Any]:
        with self._lock:
            return app_json(app, self._side(app), owner_id=self._owner_id(app), zone=self._zone(app))

    def _side(self, app: SimApp) -> CleverSide:
        side = self._sides.get(app.id)
        if side is None:
            side = self._sides[app.id] = CleverSide(self.world.clock.now(), app.formation, [default_vhost(app.id)])
        if app.formation.running:
            side.scaling = app.formation
        elif app.operations and app.operations[-1].before.running:
            side.scaling = app.operations[-1].before
        return side

    def _owner_id(self, app: SimApp) -> str:
        return self.user["id"] if app.owner == "self" else app.owner

    def _zone(self, app: SimApp) -> str:
        return app.zone or self.zone

    def _all_organisations(self) -> dict[str, str]:
        found = {a.owner: a.owner for a in self.world.apps() if a.owner != "self"}
        return found | self._organisations


def _zeros(app: SimApp) -> Formation:
    return Formation(tuple(Process(p.name, 0, p.size) for p in app.formation.processes))


def _error_reply(error: ProviderError, *, v4: bool) -> _Reply:
    status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 500)
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(error, RateLimited):
        headers = (("Retry-After", f"{error.retry_after:g}"),)
    body = {"error": str(error), "context": {}} if v4 else {"id": 1000 + status, "message": str(error), "type": "error"}
    return _Reply(status, body, headers)
