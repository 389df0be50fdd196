"""What the engine tells the channel about, as plain data. Rendering and posting happen
elsewhere (text in the demo, Block Kit in Slack)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.engine.outcomes import SweepReport


@dataclass(frozen=True)
class SweepDone:
    report: SweepReport


@dataclass(frozen=True)
class PlannedSleep:
    label: str
    ref: tuple[str, str]
    sleeps_at: datetime | None  # None: as soon as its activity is read and found idle
    reason: str


@dataclass(frozen=True)
class FirstRunPlan:
    """A database that never swept: what Paastis would put to sleep, and when. Told once;
    nothing sleeps until someone starts Paastis."""

    planned: tuple[PlannedSleep, ...]
    kept: int  # managed apps that stay up (protected, kept awake, in a window)
    unmanaged: int  # ignored, or with no web process and no rule opting them in


@dataclass(frozen=True)
class WakeFailed:
    """A wake failed: told when wakes of the app start failing, then at most every 6 h."""

    label: str
    ref: tuple[str, str]
    reason: str
    actor_name: str
    count: int = 1  # failed wakes in a row, this one included
    since: datetime | None = None  # the first of them


@dataclass(frozen=True)
class Failing:
    """Something keeps failing for an app (`kind`: sleep, or hook:<event>): told when it
    starts, then at most every 6 h while it lasts."""

    kind: str
    label: str
    ref: tuple[str, str]
    reason: str
    count: int
    since: datetime
    next_try: datetime | None = None  # when it is tried again (None: when someone asks)


@dataclass(frozen=True)
class Recovered:
    """What kept failing works again (`kind`: sleep, wake, hook:<event>)."""

    kind: str
    label: str
    ref: tuple[str, str]
    failures: int
    since: datetime


@dataclass(frozen=True)
class SleepsReconciled:
    """At start, sleeps a crash interrupted: finished (the provider had them asleep: nap and
    event recorded now) or rolled back (still up: the next sweep decides again)."""

    finished: tuple[str, ...]
    rolled_back: tuple[str, ...]


@dataclass(frozen=True)
class StoreTrouble:
    """The database cannot be written (a full disk): every job fails until it can."""

    error: str
    since: datetime


@dataclass(frozen=True)
class StoreRecovered:
    pass


@dataclass(frozen=True)
class ProviderTrouble:
    provider: str
    error: str
    since: datetime


@dataclass(frozen=True)
class ProviderRecovered:
    provider: str


Notice = (
    SweepDone
    | FirstRunPlan
    | WakeFailed
    | Failing
    | Recovered
    | SleepsReconciled
    | ProviderTrouble
    | ProviderRecovered
    | StoreTrouble
    | StoreRecovered
)
Notify = Callable[[Notice], None]  # where the engine sends its notices (bot.chat.notifier renders and posts them)
