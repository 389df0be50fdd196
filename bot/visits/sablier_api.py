"""The Sablier-compatible API: existing reverse-proxy plugins (Traefik, Caddy, nginx…) use
Paastis as their Sablier, and wake PaaS apps on their first request.

    GET /api/strategies/dynamic?names=a&names=b|group=g&session_duration=1m
        &display_name=…&theme=…&refresh_frequency=5s
        → 200, X-Sablier-Session-Status: ready | not-ready, body: the waiting page (the
          plugin copies it to the visitor while not ready, and forwards the request once ready)
    GET /api/strategies/blocking?names=a|group=g&session_duration=1m&timeout=1m
        → held until every app is up: 200 {"session": {"instances": […], "status": "ready"}},
          or 504 problem after the timeout
    GET /health → 200

Sablier's names are Paastis app names; its groups are Paastis's `group:` (sleep-together)
groups. The session duration keeps each app awake at least that long after the request (a
request is use; longer than the app's idle timeout, a keep). Errors are RFC 7807 problems
shaped like Sablier's. Apps a rule ignores or does not expose are never named: unknown
and ignored names get the same 404; a protected app a 403.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs

from bot.config.visits import SablierSettings
from bot.engine.wake_jobs import Phase
from bot.policy.catalog import AppView
from bot.visits import pages
from bot.visits.asgi import HTML, PROBLEM, Receive, Scope, Send, headers_of, respond
from bot.visits.guard import RateLimiter, client_of, secret_ok
from bot.visits.visits import WHERE_SABLIER as WHERE
from bot.visits.visits import Visits, exposed
from providers.base import AppState, Clock

log = logging.getLogger(__name__)

GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
GO_BOOLS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}  # Go's ParseBool
DEFAULT_SESSION = timedelta(minutes=5)
DEFAULT_TIMEOUT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)
SECRET_HEADER = "x-paastis-secret"
REQUESTS = itertools.count(1)  # numbers the requests that waited for a wake


def go_duration(text: str) -> timedelta:
    """A Go duration as the plugins send it (`1m0s`, `30s`, `1h30m`, `500ms`)."""
    text = text.strip()
    if text in ("0", ""):
        return timedelta(0)
    pos, total = 0, 0.0
    for match in GO_DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"invalid duration {text!r}: write a Go duration such as 30s, 5m or 1h30m")
    return timedelta(seconds=total)


class Invalid(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


@dataclass(frozen=True)
class Instance:
    view: AppView
    optional: bool


class SablierApi:
    def __init__(self, visits: Visits, settings: SablierSettings, clock: Clock, *, poll: float = 0.25) -> None:
        self.visits = visits
        self.secret = settings.secret
        self.limiter = RateLimiter(settings.requests_per_minute, clock)
        self.clock = clock
        self.poll = poll

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers, _ = headers_of(scope)
        path = scope["path"]
        given = headers.get(SECRET_HEADER)
        if self.secret and given is None and path.startswith("/"):
            prefix, _, rest = path[1:].partition("/")  # plugins cannot add headers: the secret as a path prefix
            given, path = prefix, "/" + rest
        if not secret_ok(self.secret, given):
            body = pages.problem("unauthorized", "Unauthorized", 401, "missing or wrong secret (see sablier.secret)")
            await respond(send, 401, body, PROBLEM)
            return
        if not self.limiter.allow(client_of(scope, headers, trust_forwarded=False)):
            body = pages.problem("rate-limited", "Too Many Requests", 429, "too many requests from this client")
            await respond(send, 429, body, PROBLEM, [("retry-after", str(self.limiter.retry_after()))])
            return
        try:
            if path == "/health":
                await respond(send, 200, b"ok", "text/plain")
            elif path == "/api/strategies/dynamic":
                await self._dynamic(scope, send)
            elif path == "/api/strategies/blocking":
                await self._blocking(scope, send)
            else:
                body = pages.problem("not-found", "Not Found", 404, f"no such endpoint: {path}")
                await respond(send, 404, body, PROBLEM)
        except Invalid as exc:
            await respond(send, exc.status, exc.body, PROBLEM)

    async def _dynamic(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        theme = _one(query, "theme")
        if theme not in pages.THEMES:
            raise Invalid(
                404,
                pages.problem(
                    "theme-not-found",
                    "Theme not found",
                    404,
                    "The theme you requested does not exist among the default themes.",
                    availableTheme=sorted(set(pages.THEMES) - {""}),
                    requestTheme=theme,
                ),
            )
        show_details = _one(query, "show_details").lower() or "false"
        if show_details not in GO_BOOLS:
            raise Invalid(400, _validation(f"show_details: {show_details!r} is not true or false"))
        session = _duration(query, "session_duration", DEFAULT_SESSION)
        refresh = _duration(query, "refresh_frequency", timedelta(seconds=5)).total_seconds() or 5.0
        instances = self._instances(query)
        states = await self._start(instances, session)
        ready = _ready(instances, states)
        waiting = [i.view for i in instances if states[i.view.ref] is not AppState.RUNNING]
        name = _one(query, "display_name") or ", ".join(i.view.name for i in instances)
        estimates = [e for v in waiting if (e := self.visits.estimate(v)) is not None]
        waits = [self.visits.waited(w) for v in waiting if (w := self.visits.wake_of(v))]
        body = pages.waiting_page(
            name,
            estimate=max(estimates) if estimates else None,
            waited=max(waits) if waits else 0.0,
            refresh=refresh,
            theme=theme,
            details=[self._detail(i, states) for i in sorted(instances, key=lambda i: i.view.name)]
            if GO_BOOLS[show_details]
            else None,
        )
        status = [("x-sablier-session-status", "ready" if ready else "not-ready")]
        await respond(send, 200, body, HTML, status)

    async def _blocking(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        session = _duration(query, "session_duration", DEFAULT_SESSION)
        timeout = min(_duration(query, "timeout", DEFAULT_TIMEOUT), LONGEST_WAIT).total_seconds()
        instances = self._instances(query)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        states = await self._start(instances, session)
        while not _ready(instances, states) and loop.time() < deadline:
            failed = [i.view for i in instances if not i.optional and states[i.view.ref] is AppState.CRASHED]
            if failed:
                break
            await asyncio.sleep(self.poll)
            states = {i.view.ref: self._state(i.view) for i in instances}
        ready = _ready(instances, states)
        failed = [i.view for i in instances if not i.optional and states[i.view.ref] is AppState.CRASHED]
        if failed:
            reasons = "; ".join(f"{v.name}: {self._failure(v)}" for v in failed)
            raise Invalid(500, pages.problem("internal-error", "Internal Server Error", 500, f"wake failed: {reasons}"))
        if not ready:
            names = ", ".join(f"{i.view.name} ({states[i.view.ref].value})" for i in instances)
            raise Invalid(
                504,
                pages.problem("timeout", "Gateway Timeout", 504, f"session was not ready after {timeout:g}s: {names}"),
            )
        for instance in instances:
            self.visits.used(instance.view.ref)
        document = {"session": {"instances": [_entry(i, states) for i in instances], "status": "ready"}}
        await respond(
            send, 200, json.dumps(document).encode(), "application/json", [("x-sablier-session-status", "ready")]
        )

    def _instances(self, query: dict[str, list[str]]) -> list[Instance]:
        names = [n.strip() for raw in query.get("names", []) for n in raw.split(",") if n.strip()]
        group = _one(query, "group")
        if not names and not group:
            raise Invalid(400, _validation("'names' or 'group' query parameter must be set"))
        if names and group:
            raise Invalid(400, _validation("'names' and 'group' query parameters are both set, only one must be set"))
        if group:
            views = self.visits.group(group)
            if not views:
                raise Invalid(
                    404,
                    pages.problem(
                        "group-not-found",
                        "Group not found",
                        404,
                        "The group you requested does not exist among the apps Paastis manages.",
                        availableGroups=self.visits.groups(),
                        requestGroup=group,
                    ),
                )
            return [Instance(v, False) for v in views]
        instances = []
        for raw in names:
            optional = raw.startswith("optional:")
            name = raw.removeprefix("optional:")
            view = self.visits.find(name)
            if view is None or not view.managed or view.row.gone:
                raise Invalid(404, _not_found(name))
            if not exposed(view):
                detail = f"app {name!r} is protected: it is never put to sleep, and woken only from Slack"
                raise Invalid(403, pages.problem("instance-protected", "Forbidden", 403, detail, instance=name))
            instances.append(Instance(view, optional))
        return instances

    async def _start(self, instances: list[Instance], session: timedelta) -> dict:
        """Wake what sleeps (one wake per app, joined by later requests); a request is use."""
        states = {}
        for instance in instances:
            view = instance.view
            state = self._state(view)
            if state in (AppState.SLEEPING, AppState.STOPPING, AppState.WAKING):
                # the plugin does not say who the visitor is: each request counts as one waiting
                waiting = f"sablier-{next(REQUESTS)}"
                await asyncio.to_thread(self.visits.wake, view, WHERE, waiting, confirm=False)
                state = self._state(view)
            elif state is AppState.RUNNING:
                self.visits.used(view.ref)
                await asyncio.to_thread(self.visits.session, view, session)
            states[view.ref] = state
        return states

    def _state(self, view: AppView) -> AppState:
        """As visits know it; a wake that failed (not tried again for a minute) is an error."""
        wake = self.visits.wake_of(view)
        if wake is not None and wake.progress.phase is Phase.FAILED:
            return AppState.CRASHED
        return self.visits.state(view)

    def _detail(self, instance: Instance, states: dict) -> tuple[str, str, str]:
        """An app as the waiting page lists it: its name, Sablier's status, why it failed."""
        status = _entry(instance, states)["instance"]["status"]  # type: ignore[index]
        return instance.view.name, status, self._failure(instance.view) if status == "error" else ""

    def _failure(self, view: AppView) -> str:
        wake = self.visits.wake_of(view)
        return (wake.progress.main.reason if wake else None) or view.row.problem or "it crashed"


def _ready(instances: list[Instance], states: dict) -> bool:
    return all(states[i.view.ref] is AppState.RUNNING for i in instances if not i.optional)


def _entry(instance: Instance, states: dict) -> dict:
    state = states[instance.view.ref]
    status = {AppState.RUNNING: "ready", AppState.CRASHED: "error"}.get(state, "not-ready")
    info = {"name": instance.view.name, "status": status, "currentReplicas": 1 if status == "ready" else 0}
    info["desiredReplicas"] = 1
    entry: dict[str, object] = {"instance": info}
    if instance.optional:
        entry["optional"] = True
    return entry


def _one(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key) or [""]
    return values[-1].strip()


def _duration(query: dict[str, list[str]], key: str, default: timedelta) -> timedelta:
    text = _one(query, key)
    if not text:
        return default
    try:
        return go_duration(text)
    except ValueError as exc:
        raise Invalid(400, _validation(f"{key}: {exc}")) from None


def _validation(detail: str) -> bytes:
    return pages.problem("validation-error", "Validation Failed", 400, detail)


def _not_found(name: str) -> bytes:
    detail = f"instance {name!r} is not an app Paastis manages; check its name in `/paastis status`"
    return pages.problem("instance-not-managed", "Instance not managed", 404, detail, instance=name)
