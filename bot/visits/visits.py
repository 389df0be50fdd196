"""Visits: what the proxy and the Sablier API ask of the engine, kept off their hot path.

    route(host)          the app a domain leads to, from a table rebuilt from the catalog
                         every few seconds (`refresh`): no database read per request
    used(ref)            a request was served: noted in memory, written by `flush` at most
                         once per app per flush (no provider call, ever)
    wake(ref, where, client)
                         one wake per app whoever visits (the engine's single-flight wake,
                         claimed in the database); later visitors join it and are counted
    served(ref) · unreachable(ref, reason)
                         the first answer after a visit's wake: the channel hears "review-42
                         woken by a visit to review-42.example.com (3 requests waited 21 s)"
                         once, or the wake is reported failed (once while it repeats)

Only managed apps that are not protected are woken (`exposed`): an ignored or protected
app is passed through by the proxy and never woken, and the Sablier API does not name it.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.chat.messages import Message, Section, md
from bot.engine.actors import visitor
from bot.engine.engine import Engine
from bot.engine.wake_jobs import JobStatus, Phase, TicketProgress, WakeTicket
from bot.errors import AmbiguousApp, UnknownApp
from bot.policy.catalog import AppView, Catalog
from bot.store.rows import Ref
from providers.base import AppState, Clock

log = logging.getLogger(__name__)

Post = Callable[[Message, str | None], None]  # the notifier's post: the outbox when Slack is on
ASLEEP = (AppState.SLEEPING, AppState.STOPPING, AppState.WAKING)
ESTIMATE_SAMPLES = 5
WHERE_SABLIER = "the Sablier API"
KEEP_ENDED = 120.0  # seconds a wake that ended is remembered (its state, who waited for it)
RETRY_FAILED = 60.0  # seconds before a visit tries again a wake that failed


@dataclass(frozen=True)
class Route:
    host: str
    view: AppView

    @property
    def exposed(self) -> bool:
        """Paastis may wake it on a request: managed, and not protected."""
        return exposed(self.view)


def exposed(view: AppView) -> bool:
    return view.managed and not view.rules.protected and not view.row.gone


@dataclass
class VisitWake:
    """One wake started by visits, and the requests that waited for it."""

    ticket: WakeTicket
    where: str
    clients: set[str] = field(default_factory=set)
    confirm: bool = True  # told once a request is served after it (the proxy); False: once up (Sablier)
    told: bool = False
    ended_at: datetime | None = None

    @property
    def progress(self) -> TicketProgress:
        return self.ticket.progress()


class Visits:
    def __init__(self, engine: Engine, post: Post, clock: Clock, routes: Mapping[str, str]) -> None:
        self.engine = engine
        self.post = post
        self.clock = clock
        self.routes = dict(routes)  # host → the app as typed in paastis.yml
        self._lock = threading.Lock()
        self._table: dict[str, Route] = {}
        self._catalog = Catalog(())
        self._pending: dict[Ref, datetime] = {}
        self._wakes: dict[Ref, VisitWake] = {}
        self._estimates: dict[Ref, float | None] = {}
        self._kept: dict[Ref, datetime] = {}

    # -- the table -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the route table from the catalog (one read of the database)."""
        catalog = self.engine.catalog()
        table = {}
        for host, app in self.routes.items():
            if host.startswith("*."):
                continue  # looked up per host (`route`)
            try:
                table[host] = Route(host, catalog.find(app))
            except (UnknownApp, AmbiguousApp) as exc:
                log.warning("visits.route_unknown host=%s app=%s error=%s", host, app, exc)
        with self._lock:
            self._catalog, self._table = catalog, table
        self._forget_ended(catalog)

    def route(self, host: str) -> Route | None:
        """The app `host` leads to: an exact domain, else a wildcard whose `{}` is the first
        label (`*.review.example.com: "{}"`: pr-7.review.example.com → the app named pr-7)."""
        route = self._table.get(host)
        if route is not None:
            return route
        label, _, parent = host.partition(".")
        template = self.routes.get(f"*.{parent}")
        if template is None or not label:
            return None
        view = self.find(template.replace("{}", label))
        if view is None:
            return None
        route = Route(host, view)
        self._table[host] = route  # until the next refresh
        return route

    def find(self, name: str) -> AppView | None:
        """The app a Sablier request names, when it is exposed (never a guess: exact names only)."""
        catalog = self._catalog
        try:
            view = catalog.find(name)
        except (UnknownApp, AmbiguousApp):
            return None
        return view if view.name.lower() == name.strip().lower() or view.label.lower() == name.lower() else None

    def group(self, name: str) -> list[AppView]:
        return [v for v in self._catalog if v.rules.group == name and exposed(v)]

    def groups(self) -> list[str]:
        return sorted({v.rules.group for v in self._catalog if v.rules.group and exposed(v)})

    def state(self, view: AppView) -> AppState:
        """The app's state as visits know it: a wake that ended up makes it running."""
        wake = self._wakes.get(view.ref)
        if wake is not None and wake.progress.phase is Phase.UP:
            return AppState.RUNNING
        if wake is not None and wake.progress.phase is Phase.WAKING:
            return AppState.WAKING
        return view.state

    def url(self, view: AppView) -> str | None:
        wake = self._wakes.get(view.ref)
        return (wake.progress.main.url if wake else None) or view.row.url

    def wake_of(self, view: AppView) -> VisitWake | None:
        return self._wakes.get(view.ref)

    # -- activity ------------------------------------------------------------------------
    def used(self, ref: Ref) -> None:
        self._pending[ref] = self.clock.now()

    def session(self, view: AppView, duration: timedelta) -> None:
        """Keep the app awake at least `duration` from now: a request is use (its idle timeout
        counts from now); a longer session pins it (renewed when half of it has passed)."""
        if duration <= view.rules.idle_timeout:
            return
        now = self.clock.now()
        until = self._kept.get(view.ref) or (view.keep.until if view.keep else None)
        if until is not None and until - now >= duration / 2:
            return
        self._kept[view.ref] = now + duration
        self.engine.keep(view, now + duration, visitor(WHERE_SABLIER), "a Sablier session")

    def flush(self) -> int:
        """Write the requests served since the last flush: one write per app."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            self.engine.record_visits(pending)
        return len(pending)

    # -- waking --------------------------------------------------------------------------
    def wake(self, view: AppView, where: str, client: str, *, confirm: bool = True) -> VisitWake:
        """Start the app's one wake, or join the one in flight (counting `client` as waiting)."""
        started = None
        with self._lock:
            wake = self._wakes.get(view.ref)
            if wake is None or self._retry(wake) or (wake.told and self._ended(wake)):
                ticket = self.engine.wake(view, visitor(where), catalog=self._catalog)
                wake = started = VisitWake(ticket, where, confirm=confirm)
                self._wakes[view.ref] = wake
            wake.clients.add(client)
        if started is not None:  # outside the lock: a wake already over tells at once
            started.ticket.follow(lambda progress: self._progressed(view, started, progress))
        return wake

    def _retry(self, wake: VisitWake) -> bool:
        """A failed wake is tried again on a visit, once RETRY_FAILED has passed: a crowd at
        an app that will not start makes one provider call a minute, not one per request."""
        if wake.progress.phase is not Phase.FAILED:
            return False
        return wake.ended_at is None or (self.clock.now() - wake.ended_at).total_seconds() >= RETRY_FAILED

    def _ended(self, wake: VisitWake) -> bool:
        return wake.progress.phase is not Phase.WAKING

    def _progressed(self, view: AppView, wake: VisitWake, progress: TicketProgress) -> None:
        if progress.phase is not Phase.WAKING and wake.ended_at is None:
            wake.ended_at = self.clock.now()
        if progress.phase is Phase.UP and not wake.confirm:
            self._tell(view, wake)

    def _forget_ended(self, catalog: Catalog) -> None:
        """Wakes over for a while are forgotten (the catalog knows the app is up by then); one
        no request came back for is told now."""
        now = self.clock.now()
        for ref, wake in list(self._wakes.items()):
            if wake.ended_at is not None and (now - wake.ended_at).total_seconds() > KEEP_ENDED:
                view = catalog.get(ref)
                if view is not None and wake.progress.phase is Phase.UP:
                    self._tell(view, wake)
                with self._lock:
                    if self._wakes.get(ref) is wake:
                        del self._wakes[ref]

    def served(self, view: AppView) -> None:
        """A request reached the app: the wake a visit started is told (once)."""
        wake = self._wakes.get(view.ref)
        if wake is not None and not wake.told and wake.progress.phase is Phase.UP:
            self._tell(view, wake)

    def unreachable(self, view: AppView, reason: str) -> bool:
        """The app does not answer after a visit's wake: that wake failed (told once). True
        when this call reported it."""
        wake = self._wakes.get(view.ref)
        with self._lock:
            if wake is None or wake.told or wake.progress.phase is not Phase.UP:
                return False
            wake.told = True
        status: JobStatus = wake.progress.main
        self.engine.wake_unreachable(view, visitor(wake.where), status, reason)
        log.warning("visit.upstream_down app=%s where=%s reason=%s", view.name, wake.where, reason)
        return True

    def _tell(self, view: AppView, wake: VisitWake) -> None:
        with self._lock:
            main = wake.progress.main  # told by the process that woke it (`--workers`: one of them)
            if wake.told or wake.ticket.joined or main.already_up or main.elsewhere:
                wake.told = True
                return
            wake.told = True
        seconds = round(wake.progress.elapsed.total_seconds())
        count = len(wake.clients)
        text = md(
            "✅ *{}* woken by {} ({} waited {} s)",
            view.label,
            visitor(wake.where).name,
            f"{count} request{'s' * (count != 1)}",
            seconds,
        )
        log.info("visit.woke app=%s where=%s waiting=%d seconds=%d", view.name, wake.where, count, seconds)
        self.post(Message(text, (Section(text),)), view.rules.notify)

    def estimate(self, view: AppView) -> float | None:
        """Seconds a wake of the app usually takes: the median of its last wakes (audit log)."""
        if view.ref not in self._estimates:
            events = self.engine.store.events(
                provider=view.row.provider, app_id=view.row.app_id, actions=("woke",), limit=ESTIMATE_SAMPLES
            )
            durations = [e.duration_ms / 1000 for e in events if e.duration_ms]
            self._estimates[view.ref] = statistics.median(durations) if durations else None
        return self._estimates[view.ref]

    def waited(self, wake: VisitWake) -> float:
        return wake.progress.elapsed.total_seconds()

    def run(self, stop: threading.Event, every: float = 2.0, flush_every: float = 5.0) -> None:
        """The background loop of `paastis proxy`: the table refreshed, the activity flushed."""
        since_flush = 0.0
        while not stop.wait(every):
            try:
                self.refresh()
                since_flush += every
                if since_flush >= flush_every:
                    since_flush = 0.0
                    self.flush()
                    self._estimates.clear()
            except Exception:  # the loop must outlive a locked database; logged, tried again
                log.exception("visits.refresh_failed")
        self.flush()
