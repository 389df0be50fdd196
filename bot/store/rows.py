"""What the store holds, as plain values: apps, events, pins, naps, wakes and sleeps in flight,
failures that repeat. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from providers.base import AppState, Formation, PaasApp

Ref = tuple[str, str]  # an app everywhere in the bot: (provider name, app id)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@lru_cache(maxsize=4096)
def formation_of(text: str | None) -> Formation | None:
    """Formations are few and repeated across apps: parse each JSON text once."""
    return Formation.from_json(text) if text else None


@dataclass(frozen=True)
class AppRow:
    """An app as the store knows it."""

    provider: str
    app_id: str
    name: str
    state: AppState
    url: str | None
    formation: Formation | None
    problem: str | None
    first_seen: datetime
    last_seen: datetime
    gone: bool
    last_request_at: datetime | None
    last_deploy_at: datetime | None
    last_wake_at: datetime | None
    last_used_at: datetime | None
    checked_at: datetime | None
    check_error: str | None
    check_failed_at: datetime | None
    awake_since: datetime | None
    recorded_formation: Formation | None
    recorded_at: datetime | None
    due_at: datetime | None = field(default=None, compare=False)  # the due index (bot.store.store)
    revision: int = field(default=0, compare=False)
    key: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.provider, self.app_id))

    ACTIVITY: ClassVar[tuple[str, ...]] = ("last_request_at", "last_deploy_at", "last_wake_at", "last_used_at")

    @property
    def last_activity(self) -> datetime | None:
        """The newest sign of use (the ACTIVITY columns); None while nothing has been observed."""
        seen = [t for t in (self.last_request_at, self.last_deploy_at, self.last_wake_at, self.last_used_at) if t]
        return max(seen) if seen else None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The columns of `apps`, in the order `from_values` reads them."""
        return _APP_COLUMNS

    @classmethod
    def from_values(cls, values: tuple) -> AppRow:
        """A row read with `select <columns()>`: no dict per row."""
        return cls.from_row(dict(zip(_APP_COLUMNS, values, strict=True)))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AppRow:
        def when(key: str) -> datetime | None:
            return parse_iso(row.get(key))

        def formation(key: str) -> Formation | None:
            return formation_of(row.get(key))

        return cls(
            provider=row["provider"],
            app_id=row["app_id"],
            name=row["name"],
            state=AppState(row["state"]),
            url=row.get("url"),
            formation=formation("formation"),
            problem=row.get("problem"),
            first_seen=when("first_seen"),
            last_seen=when("last_seen"),
            gone=bool(row.get("gone")),
            last_request_at=when("last_request_at"),
            last_deploy_at=when("last_deploy_at"),
            last_wake_at=when("last_wake_at"),
            last_used_at=when("last_used_at"),
            checked_at=when("checked_at"),
            check_error=row.get("check_error"),
            check_failed_at=when("check_failed_at"),
            awake_since=when("awake_since"),
            recorded_formation=formation("recorded_formation"),
            recorded_at=when("recorded_at"),
            due_at=when("due_at"),
            revision=row.get("revision") or 0,
        )

    def as_paas_app(self) -> PaasApp:
        return PaasApp(
            provider=self.provider,
            id=self.app_id,
            name=self.name,
            state=self.state,
            url=self.url,
            formation=self.formation,
            last_deployed_at=self.last_deploy_at,
            problem=self.problem,
        )


_APP_COLUMNS = tuple(f.name for f in fields(AppRow) if f.init)


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    provider: str | None
    app_id: str | None
    app_name: str | None
    action: str
    outcome: str
    actor: str
    actor_name: str
    reason: str | None
    duration_ms: int | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Keep:
    until: datetime
    by: str
    by_name: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Nap:
    provider: str
    app_id: str
    start: datetime
    end: datetime | None
    formation: Formation | None


@dataclass(frozen=True)
class InFlightWake:
    """A wake someone asked for and not yet ended; `owner` is the process following it
    (None: left behind by a process that is gone), `heartbeat_at` when it last said so."""

    provider: str
    app_id: str
    started_at: datetime
    actor: str
    actor_name: str
    context: dict[str, Any]
    owner: str | None = None
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class SleepIntent:
    """A sleep about to be asked of the provider, written before the call: after a crash
    it says what to finish or roll back."""

    provider: str
    app_id: str
    started_at: datetime
    actor: str
    actor_name: str
    reason: str
    formation: Formation | None
    owner: str | None = None
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class Failure:
    """Something that keeps failing for one app (`kind`: sleep, wake, hook:<event>): how
    often since when, why the last time, when to try again, when the channel was last told."""

    provider: str
    app_id: str
    kind: str
    count: int
    first_at: datetime
    last_at: datetime
    reason: str
    next_try_at: datetime | None
    notified_at: datetime | None

    @property
    def ref(self) -> Ref:
        return (self.provider, self.app_id)
