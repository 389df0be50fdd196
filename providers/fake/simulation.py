"""A simulated PaaS: a small world of apps whose state follows an injected clock.

A scaled-up app boots for `boot_seconds` then runs (or crashes, if told to); a scaled-down
one stops; running apps receive traffic (explicit `hit`s, or a steady request every N
seconds); any operation can be made to fail or to be slow; every call is logged. The
`fake` provider (`providers.fake`) exposes a world through the `Provider` protocol; the
fakes of the Scalingo and Clever Cloud APIs serve worlds over those providers' HTTP APIs.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from providers.base import (
    ActivityUnavailable,
    AppNotFound,
    AppState,
    Clock,
    Formation,
    OperationRejected,
    Process,
    ProviderError,
    ProviderUnavailable,
)

DEFAULT_FORMATION = Formation((Process("web", 1),))


@dataclass
class SimApp:
    id: str
    name: str
    url: str
    formation: Formation  # what is scaled now (all zero when asleep)
    state: AppState
    boot_seconds: float
    stop_seconds: float
    owner: str = "self"
    zone: str = ""
    deployed_at: datetime | None = None
    never_deployed: bool = False  # created, never deployed: scaling it runs nothing
    problem: str | None = None
    transition: tuple[AppState, datetime, str | None] | None = None  # target, at, problem
    crash_next_wake: str | None = None
    steady_every: float | None = None
    hits: list[datetime] = field(default_factory=list)
    running_since: datetime | None = None
    runs: list[tuple[datetime, datetime]] = field(default_factory=list)  # closed running intervals
    operations: list[SimOperation] = field(default_factory=list)  # oldest first


@dataclass(frozen=True)
class SimOperation:
    """One scale of an app (a wake or a sleep), as an API would report it."""

    id: str
    app_id: str
    kind: str  # "wake" | "sleep"
    started_at: datetime
    ends_at: datetime
    before: Formation
    after: Formation
    failure: str | None = None

    def status(self, now: datetime) -> str:
        """running while the provider works on it, then done or error."""
        if now < self.ends_at:
            return "running"
        return "error" if self.failure else "done"


@dataclass(frozen=True)
class Call:
    at: datetime
    operation: str
    app: str | None


class SimulatedPaas:
    """The world behind the fake provider and the fake provider APIs. Thread-safe."""

    def __init__(self, clock: Clock, *, latency: float = 0.0) -> None:
        self.clock = clock
        self.latency = latency
        self.calls: list[Call] = []
        self._apps: dict[str, SimApp] = {}
        self._failures: list[tuple[str, str | None, ProviderError | None, int]] = []
        self._lock = threading.RLock()

    # -- building the world ------------------------------------------------------------
    def add_app(
        self,
        name: str,
        *,
        formation: Formation | Mapping[str, int] | None = None,
        running: bool = True,
        boot_seconds: float = 20.0,
        stop_seconds: float = 2.0,
        app_id: str | None = None,
        url: str | None = None,
        owner: str = "self",
        zone: str = "",
        steady_every: float | None = None,
        deployed_at: datetime | None = None,
        never_deployed: bool = False,
    ) -> SimApp:
        if isinstance(formation, Mapping):
            formation = Formation.of(**formation)
        formation = formation or DEFAULT_FORMATION
        now = self.clock.now()
        app = SimApp(
            id=app_id or name,
            name=name,
            url=url or f"https://{name}.fake-paas.test",
            formation=formation if running else scaled_to_zero(formation),
            state=AppState.RUNNING if running else AppState.SLEEPING,
            boot_seconds=boot_seconds,
            stop_seconds=stop_seconds,
            owner=owner,
            zone=zone,
            deployed_at=deployed_at,
            never_deployed=never_deployed,
            steady_every=steady_every,
            running_since=now if running and not never_deployed else None,
        )
        if never_deployed:
            app.formation, app.state = scaled_to_zero(formation), AppState.SLEEPING
        with self._lock:
            self._apps[app.id] = app
        return app

    def remove_app(self, app_id: str) -> None:
        with self._lock:
            self._apps.pop(app_id, None)

    # -- failures and traffic ------------------------------------------------------------
    def fail(
        self, operation: str, app_id: str | None = None, error: ProviderError | None = None, *, times: int = 1
    ) -> None:
        """Make the next `times` calls of `operation` (on `app_id`, or any app) fail.

        Operations: list, get, activity, sleep, wake — and boot, which lets the wake call
        succeed but makes the app crash while booting. `times=-1` fails until `heal()`.
        """
        with self._lock:
            self._failures.append((operation, app_id, error, times))

    def heal(self) -> None:
        with self._lock:
            self._failures.clear()

    def hit(self, app_id: str, count: int = 1, at: datetime | None = None) -> None:
        """`count` requests reach the app at `at` (default now)."""
        when = at or self.clock.now()
        with self._lock:
            hits = self._app(app_id).hits
            for _ in range(count):
                bisect.insort(hits, when)

    def steady(self, app_id: str, every: float | None) -> None:
        """From now on the app gets one request every `every` seconds while it runs."""
        with self._lock:
            self._app(app_id).steady_every = every

    def deploy(self, app_id: str, at: datetime | None = None) -> None:
        with self._lock:
            app = self._app(app_id)
            app.deployed_at, app.never_deployed = at or self.clock.now(), False

    def crash(self, app_id: str, problem: str = "the app crashed") -> None:
        with self._lock:
            app = self._settled(self._app(app_id))
            self._end_run(app, self.clock.now())
            app.state, app.problem, app.transition = AppState.CRASHED, problem, None

    # -- what the providers and API fakes call -------------------------------------------
    def record(self, operation: str, app_id: str | None = None) -> None:
        """Log a call, apply latency and injected failures (raising them)."""
        if self.latency:
            self.clock.sleep(self.latency)
        with self._lock:
            self.calls.append(Call(self.clock.now(), operation, app_id))
            error = self._take_failure(operation, app_id)
        if error:
            raise error

    def apps(self) -> list[SimApp]:
        with self._lock:
            return [self._settled(a) for a in self._apps.values()]

    def app(self, app_id: str) -> SimApp:
        with self._lock:
            return self._settled(self._app(app_id))

    def scale(self, app_id: str, formation: Formation) -> SimOperation:
        """Scale to `formation`: a wake boots the app, a sleep stops it.

        The returned operation carries the formation that was there before.
        """
        with self._lock:
            app = self._settled(self._app(app_id))
            if app.state.busy:
                raise OperationRejected(
                    f"{app.name} is already {app.state.value}; try again once it is done", app=app.name
                )
            now = self.clock.now()
            before = app.formation
            app.formation = formation
            kind, ends_at, crash = "scale", now, None
            if app.never_deployed:
                pass  # nothing to run: the formation is set for the first deploy
            elif formation.running and (not before.running or app.state is AppState.CRASHED):
                crash = app.crash_next_wake or self._take_boot_failure(app_id)
                app.crash_next_wake = None
                target = AppState.CRASHED if crash else AppState.RUNNING
                kind, ends_at = "wake", now + timedelta(seconds=app.boot_seconds)
                app.state, app.problem = AppState.WAKING, None
                app.transition = (target, ends_at, crash)
            elif not formation.running and before.running:
                self._end_run(app, now)
                kind, ends_at = "sleep", now + timedelta(seconds=app.stop_seconds)
                app.state = AppState.STOPPING
                app.transition = (AppState.SLEEPING, ends_at, None)
            operation = SimOperation(
                id=f"op-{len(self.calls)}-{len(app.operations)}",
                app_id=app.id,
                kind=kind,
                started_at=now,
                ends_at=ends_at,
                before=before,
                after=formation,
                failure=crash,
            )
            app.operations.append(operation)
            return operation

    def operation(self, app_id: str, operation_id: str) -> SimOperation:
        with self._lock:
            for operation in self._app(app_id).operations:
                if operation.id == operation_id:
                    return operation
        raise AppNotFound(f"no operation {operation_id!r} on {app_id!r}", app=app_id)

    def requests_between(self, app_id: str, start: datetime, end: datetime) -> tuple[int, datetime | None]:
        """How many requests the app got in [start, end], and the newest of them."""
        with self._lock:
            app = self._settled(self._app(app_id))
            lo = bisect.bisect_left(app.hits, start)
            hi = bisect.bisect_right(app.hits, end)
            count, last = hi - lo, (app.hits[hi - 1] if hi > lo else None)
            if app.steady_every:
                runs = list(app.runs)
                if app.running_since:
                    runs.append((app.running_since, end))
                for run_start, run_end in runs:
                    n, tick = _ticks(run_start, run_end, app.steady_every, start, end)
                    count += n
                    if tick and (last is None or tick > last):
                        last = tick
            return count, last

    def request_times(self, app_id: str, start: datetime, end: datetime, limit: int | None = None) -> list[datetime]:
        """Every request the app got in [start, end], oldest first (at most `limit`)."""
        with self._lock:
            app = self._settled(self._app(app_id))
            times = [t for t in app.hits if start <= t <= end]
            if app.steady_every:
                step = timedelta(seconds=app.steady_every)
                runs = list(app.runs) + ([(app.running_since, end)] if app.running_since else [])
                for run_start, run_end in runs:
                    tick = run_start + step
                    while tick <= min(run_end, end):
                        if tick >= start:
                            times.append(tick)
                        tick += step
            times.sort()
            return times[:limit] if limit is not None else times

    # -- internals -----------------------------------------------------------------------
    def _app(self, app_id: str) -> SimApp:
        try:
            return self._apps[app_id]
        except KeyError:
            raise AppNotFound(f"no app {app_id!r}", app=app_id) from None

    def _settled(self, app: SimApp) -> SimApp:
        if app.transition and self.clock.now() >= app.transition[1]:
            target, at, problem = app.transition
            app.state, app.problem, app.transition = target, problem, None
            if target is AppState.RUNNING:
                app.running_since = at
        return app

    def _end_run(self, app: SimApp, now: datetime) -> None:
        if app.running_since:
            app.runs.append((app.running_since, now))
            app.running_since = None

    def _take_failure(self, operation: str, app_id: str | None) -> ProviderError | None:
        for index, (op, target, error, times) in enumerate(self._failures):
            if op == operation and target in (None, app_id):
                if times > 0:
                    if times == 1:
                        del self._failures[index]
                    else:
                        self._failures[index] = (op, target, error, times - 1)
                return error or _default_error(operation, app_id)
        return None

    def _take_boot_failure(self, app_id: str) -> str | None:
        error = self._take_failure("boot", app_id)
        return str(error) if error else None


def _default_error(operation: str, app_id: str | None) -> ProviderError:
    if operation == "activity":
        return ActivityUnavailable("metrics are unavailable (injected failure)", app=app_id)
    if operation == "boot":
        return OperationRejected("the app crashed while booting (injected failure)", app=app_id)
    return ProviderUnavailable(f"the fake PaaS is down (injected failure on {operation})", app=app_id)


def scaled_to_zero(formation: Formation) -> Formation:
    return Formation(tuple(Process(p.name, 0, p.size) for p in formation.processes))


def _ticks(
    run_start: datetime, run_end: datetime, every: float, start: datetime, end: datetime
) -> tuple[int, datetime | None]:
    """Requests at run_start + k×every (k ≥ 1) that fall in both [run_start, run_end] and [start, end]."""
    lo, hi = max(run_start, start), min(run_end, end)
    if hi < lo:
        return 0, None
    step = timedelta(seconds=every)
    first_k = max(1, -(-(lo - run_start) // step))  # ceil
    last_k = (hi - run_start) // step
    if last_k < first_k:
        return 0, None
    return last_k - first_k + 1, run_start + last_k * step
