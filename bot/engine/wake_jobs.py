"""Waking apps: exactly one wake per app at a time, whoever asks.

A `WakeJob` follows one app: it asks the provider to start it with the recorded formation,
then polls the provider's API (never the app itself) every `poll_interval` until the app
runs, crashes, or `wake_timeout` passes. A second request for the same app joins the job in
flight instead of starting another. A `WakeTicket` is what a requester holds: the jobs of
an app and of the apps it links to, with one aggregated progress.

    requester ─ wake(app) ─▶ WakeCoordinator ─┬─ job in flight? ─▶ join it
                                              └─ new WakeJob ─▶ executor: provider.wake, poll get_app
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.store.rows import Ref


class Phase(enum.StrEnum):
    WAKING = "waking"
    UP = "up"
    FAILED = "failed"


@dataclass(frozen=True)
class JobStatus:
    ref: Ref
    label: str
    phase: Phase
    started_at: datetime
    elapsed: timedelta
    url: str | None = None
    reason: str | None = None  # why it failed
    already_up: bool = False
    elsewhere: bool = False  # another process on the database woke it; this one followed


class WakeJob:
    """One app being woken. Thread-safe; listeners are called outside the lock.

    `done` is set once the job's outcome is recorded (event written, registry cleared)."""

    def __init__(self, ref: Ref, label: str, started_at: datetime, url: str | None) -> None:
        self.ref = ref
        self._status = JobStatus(ref, label, Phase.WAKING, started_at, timedelta(0), url)
        self._listeners: list[Callable[[JobStatus], None]] = []
        self._lock = threading.Lock()
        self.done = threading.Event()

    @property
    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def subscribe(self, listener: Callable[[JobStatus], None]) -> None:
        with self._lock:
            self._listeners.append(listener)
            status = self._status
        listener(status)

    def update(self, **changes: Any) -> None:
        with self._lock:
            self._status = JobStatus(**{**self._status.__dict__, **changes})
            status, listeners = self._status, list(self._listeners)
        for listener in listeners:
            listener(status)


@dataclass(frozen=True)
class TicketProgress:
    """Where a wake stands, for the one message that follows it."""

    main: JobStatus
    linked: tuple[JobStatus, ...]
    joined: bool  # the requester joined a wake someone else started
    slow: bool  # the provider's wakes take minutes (Clever Cloud redeploys)

    @property
    def phase(self) -> Phase:
        statuses = (self.main, *self.linked)
        if any(s.phase is Phase.FAILED for s in statuses):
            return Phase.FAILED
        if all(s.phase is Phase.UP for s in statuses):
            return Phase.UP
        return Phase.WAKING

    @property
    def elapsed(self) -> timedelta:
        return max(s.elapsed for s in (self.main, *self.linked))


@dataclass
class WakeTicket:
    jobs: Sequence[WakeJob]
    joined: bool
    slow: bool
    _listeners: list[Callable[[TicketProgress], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_phase: Phase | None = None

    def progress(self) -> TicketProgress:
        return TicketProgress(self.jobs[0].status, tuple(j.status for j in self.jobs[1:]), self.joined, self.slow)

    def follow(self, listener: Callable[[TicketProgress], None]) -> None:
        """Call `listener` at every step of the wake, and once more when it ends."""
        with self._lock:
            self._listeners.append(listener)
        for job in self.jobs:
            job.subscribe(lambda _status: self._changed())

    def wait(self, timeout: float | None = None) -> TicketProgress:
        for job in self.jobs:
            job.done.wait(timeout)
        return self.progress()

    def _changed(self) -> None:
        progress = self.progress()
        with self._lock:
            if progress.phase is not Phase.WAKING and self._last_phase is progress.phase:
                return  # the end is told once
            self._last_phase = progress.phase
            listeners = list(self._listeners)
        for listener in listeners:
            listener(progress)


class HandedOver(Exception):
    """Paastis is stopping: the wake stops following, its row stays for the next start or
    another instance (never recorded nor told as failed)."""


class WakeCoordinator:
    """The registry of wakes in flight: one job per app."""

    def __init__(self) -> None:
        self._jobs: dict[Ref, WakeJob] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Paastis stops: each wake in flight is left at its next step (`check_stopping`)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def check_stopping(self) -> None:
        if self._stopping.is_set():
            raise HandedOver()

    def start(self, ref: Ref, make: Callable[[], WakeJob], run: Callable[[WakeJob], None]) -> tuple[WakeJob, bool]:
        """The job in flight for `ref` (joined=True), or a new one made and run. A job that
        has ended but is not yet cleared is never joined: a Retry starts a new wake."""
        with self._lock:
            job = self._jobs.get(ref)
            if job is not None and job.status.phase is Phase.WAKING:
                return job, True
            job = make()
            self._jobs[ref] = job
        run(job)
        return job, False

    def finish(self, job: WakeJob) -> None:
        with self._lock:
            if self._jobs.get(job.ref) is job:
                del self._jobs[job.ref]

    def in_flight(self) -> frozenset[Ref]:
        with self._lock:
            return frozenset(self._jobs)

    def job(self, ref: Ref) -> WakeJob | None:
        with self._lock:
            return self._jobs.get(ref)
