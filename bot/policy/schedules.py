"""Schedules: keep-awake windows, forced-sleep windows, holidays and cron events, in a time zone.

Readable windows: `Mon-Fri 08:00-19:00`, `Sat-Sun` (all day), `Mon-Fri 20:00-08:00` (crosses
midnight), `daily 12:00-14:00`, optionally ending with a time zone (`… Europe/Paris`).
Holidays: `2026-12-25` or `2026-12-24..2027-01-02`. Cron events (5 fields, or 6 with
seconds first): `sleep_at` puts apps to sleep, `wake_at` wakes them.

In a schedule (paastis.yml `schedules:`):

    awake: windows            never slept inside; `wake_at_start: true` wakes them at the start
    asleep: windows           slept at the start whatever their activity
    holidays: days            awake windows do not apply; apps are slept at the start of the day
    sleep_at / wake_at: cron  the same, as events

A forced sleep acts on what was awake when the window (or event) began: an app someone wakes
inside a forced-sleep window stays up and follows its idle timeout until the next boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from cronsim import CronSim

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_ALIASES = {
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}


@dataclass(frozen=True)
class ScheduleState:
    keep_window: str | None = None
    forced_since: datetime | None = None
    forced_window: str | None = None


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # equal to start: all day; before start: crosses midnight
    tz: ZoneInfo | None
    text: str

    def active_since(self, now: datetime, default_tz: ZoneInfo) -> datetime | None:
        """When the occurrence of this window that contains `now` began, or None."""
        tz = self.tz or default_tz
        local = now.astimezone(tz)
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            begin = datetime.combine(day, self.start, tzinfo=tz)
            if self.start == self.end:
                finish = datetime.combine(day + timedelta(days=1), self.start, tzinfo=tz)
            else:
                end_day = day if self.end > self.start else day + timedelta(days=1)
                finish = datetime.combine(end_day, self.end, tzinfo=tz)
            if begin <= local < finish:
                return begin.astimezone(now.tzinfo)
        return None

    def starts_between(self, start: datetime, end: datetime, default_tz: ZoneInfo) -> list[datetime]:
        tz = self.tz or default_tz
        day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        found = []
        while day <= last:
            if day.weekday() in self.days:
                moment = datetime.combine(day, self.start, tzinfo=tz)
                if start < moment <= end:
                    found.append(moment.astimezone(start.tzinfo))
            day += timedelta(days=1)
        return found


@dataclass(frozen=True)
class Holiday:
    first: date
    last: date
    text: str

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Schedule:
    name: str
    awake: tuple[Window, ...] = ()
    asleep: tuple[Window, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    sleep_at: tuple[str, ...] = ()  # cron expressions, checked by `cron_trigger`
    wake_at: tuple[str, ...] = ()
    wake_at_start: bool = False
    tz: ZoneInfo | None = None

    def state(self, now: datetime, default_tz: ZoneInfo) -> ScheduleState:
        tz = self.tz or default_tz
        local = now.astimezone(tz)
        holiday = next((h for h in self.holidays if h.covers(local.date())), None)
        if holiday:
            midnight = datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(now.tzinfo)
            return ScheduleState(forced_since=midnight, forced_window=f"holiday {holiday.text}")
        for window in self.awake:
            if window.active_since(now, tz):
                return ScheduleState(keep_window=window.text)
        forced: list[tuple[datetime, str]] = []
        for window in self.asleep:
            since = window.active_since(now, tz)
            if since:
                forced.append((since, window.text))
        last_sleep = _last_fire(self.sleep_at, now, tz)
        if last_sleep:
            last_wake = _last_fire(self.wake_at, now, tz)
            if last_wake is None or last_wake < last_sleep:
                forced.append((last_sleep, "sleep_at"))
        if not forced:
            return ScheduleState()
        since, text = max(forced)
        return ScheduleState(forced_since=since, forced_window=text)

    def wakes_between(self, start: datetime, end: datetime, default_tz: ZoneInfo) -> list[datetime]:
        """Moments in (start, end] when this schedule wakes its apps."""
        tz = self.tz or default_tz
        moments = []
        if self.wake_at_start:
            for window in self.awake:
                moments += window.starts_between(start, end, tz)
        for expression in self.wake_at:
            moments += _fires_between(expression, start, end, tz)
        return sorted(m for m in moments if not any(h.covers(m.astimezone(tz).date()) for h in self.holidays))


# -- parsing -----------------------------------------------------------------------------

_WINDOW = re.compile(
    r"^(?P<days>[A-Za-z][A-Za-z,\- ]*?)?\s*"
    r"(?:(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2}))?\s*"
    r"(?P<tz>[A-Za-z]+/[A-Za-z_/+\-0-9]+)?$"
)


def parse_timezone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a time zone: use an IANA name such as Europe/Paris or UTC") from None


def parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in re.split(r"\s*,\s*", text.strip().lower()):
        if not part:
            continue
        if part.replace(" ", "") in DAY_ALIASES:
            days |= set(DAY_ALIASES[part.replace(" ", "")])
            continue
        bounds = [b.strip()[:3] for b in part.split("-")]
        if len(bounds) > 2 or any(b not in DAY_NAMES for b in bounds):
            raise ValueError(f"{part!r} is not a day or a range of days: write Mon-Fri, Sat,Sun, weekdays or daily")
        first, last = DAY_NAMES.index(bounds[0]), DAY_NAMES.index(bounds[-1])
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(days)


def parse_window(text: str) -> Window:
    """`Mon-Fri 08:00-19:00 Europe/Paris` → a Window."""
    cleaned = " ".join(str(text).split())
    match = _WINDOW.match(cleaned)
    if not cleaned or not match or not (match.group("days") or match.group("start")):
        raise ValueError(
            f"{text!r} is not a window: write days and hours such as `Mon-Fri 08:00-19:00`, "
            "`Sat-Sun` or `daily 20:00-07:00 Europe/Paris`"
        )
    days = parse_days(match.group("days")) if match.group("days") else frozenset(range(7))
    start = end = time(0)
    if match.group("start"):
        start, end = _clock(match.group("start"), text), _clock(match.group("end"), text)
        if start == end:
            raise ValueError(f"{text!r} starts and ends at the same time: leave the hours out for a whole day")
    tz = parse_timezone(match.group("tz")) if match.group("tz") else None
    return Window(days=days, start=start, end=end, tz=tz, text=cleaned)


def _clock(value: str, text: str) -> time:
    hour, minute = (int(x) for x in value.split(":"))
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValueError(f"{value!r} in {text!r} is not a time of day")
    return time(0, 0) if hour == 24 else time(hour, minute)


def parse_holiday(text: str) -> Holiday:
    cleaned = str(text).strip()
    first, _, last = cleaned.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(
            f"{text!r} is not a holiday: write a date 2026-12-25 or a range 2026-12-24..2027-01-02"
        ) from None
    if end < start:
        raise ValueError(f"{text!r} ends before it starts")
    return Holiday(start, end, cleaned)


def cron_trigger(expression: str, tz: ZoneInfo) -> CronTrigger:
    """A cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first,
    as node-cron and the original paastis accept), with crontab weekdays (0 or 7 = Sunday)."""
    fields = str(expression).split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"{expression!r} is not a cron expression: write 5 fields (`*/5 * * * *`) or 6 with seconds first"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        trigger = CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=tz,
        )
    except ValueError as exc:
        raise ValueError(f"{expression!r} is not a valid cron expression: {exc}") from None
    # without a year field, a cron that fires at all fires within 28 years of any date
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=tz)) is None:
        raise ValueError(f"{expression!r} never fires (no such date, as February 31): check its day and month")
    return trigger


def _crontab_weekdays(field_text: str) -> str:
    """Crontab weekdays (0-7, Sunday = 0 or 7, names) → APScheduler's (mon = 0) names."""
    if field_text in ("*", "?"):
        return "*"
    names = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
    days: set[int] = set()

    def number(token: str) -> int:
        token = token.strip().lower()
        if token[:3] in names:
            return names[token[:3]]
        if not token.isdigit() or int(token) > 7:
            raise ValueError(f"{field_text!r} is not a weekday field: use 0-7 or sun-sat")
        return int(token) % 7

    for part in field_text.split(","):
        part, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if part in ("*", ""):
            low, high = 0, 6
        elif "-" in part:
            a, b = part.split("-", 1)
            low, high = number(a), (7 if b.strip() == "7" else number(b))
            if high < low:
                high += 7
        else:
            low = high = number(part)
        days |= {d % 7 for d in range(low, high + 1, step)}
    apscheduler_names = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat"}
    return ",".join(apscheduler_names[d] for d in sorted(days))


def _fires_between(expression: str, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """The moments in (start, end] when `expression` fires in `tz`."""
    fires = []
    for moment in CronSim(expression, start.astimezone(tz)):
        if moment > end:
            break
        if moment > start:
            fires.append(moment.astimezone(start.tzinfo))
    return fires


def _last_fire(expressions: Sequence[str], now: datetime, tz: ZoneInfo) -> datetime | None:
    """The latest moment at or before `now` when one of `expressions` fired, in `tz` (cronsim
    walks back from the next whole second, so a fire at `now` itself counts)."""
    after_now = now.astimezone(tz).replace(microsecond=0) + timedelta(seconds=1)
    fires = [next(iter(CronSim(expression, after_now, reverse=True))) for expression in expressions]
    return max(fires).astimezone(now.tzinfo) if fires else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


SCHEDULE_KEYS = {"awake", "asleep", "holidays", "sleep_at", "wake_at", "wake_at_start", "timezone"}


def parse_schedules(
    raw: Any, default_tz: ZoneInfo, global_holidays: Iterable[Holiday] = ()
) -> tuple[dict[str, Schedule], list[tuple[str, str, str]]]:
    """Validate the `schedules:` mapping; returns schedules by name and problems (where, value, why)."""
    problems: list[tuple[str, str, str]] = []
    schedules: dict[str, Schedule] = {}
    if raw is None:
        return schedules, problems
    if not isinstance(raw, Mapping):
        return schedules, [("schedules", type(raw).__name__, "must map schedule names to their windows")]
    for name, spec in raw.items():
        where = f"schedules.{name}"
        if not isinstance(spec, Mapping):
            problems.append((where, repr(spec), "must be a mapping with awake, asleep, holidays, sleep_at or wake_at"))
            continue
        unknown = set(spec) - SCHEDULE_KEYS
        for key in sorted(unknown):
            problems.append((f"{where}.{key}", "", f"unknown key; known keys: {', '.join(sorted(SCHEDULE_KEYS))}"))
        tz = None
        if spec.get("timezone"):
            tz = _collect(lambda v: parse_timezone(str(v)), [spec["timezone"]], f"{where}.timezone", problems)
            tz = tz[0] if tz else None
        cron = partial(_cron_in, tz or default_tz)
        awake = _collect(parse_window, _as_list(spec.get("awake")), f"{where}.awake", problems)
        asleep = _collect(parse_window, _as_list(spec.get("asleep")), f"{where}.asleep", problems)
        holidays = _collect(parse_holiday, _as_list(spec.get("holidays")), f"{where}.holidays", problems)
        sleep_at = _collect(cron, _as_list(spec.get("sleep_at")), f"{where}.sleep_at", problems)
        wake_at = _collect(cron, _as_list(spec.get("wake_at")), f"{where}.wake_at", problems)
        wake_at_start = spec.get("wake_at_start", False)
        if not isinstance(wake_at_start, bool):
            problems.append((f"{where}.wake_at_start", repr(wake_at_start), "must be true or false"))
            wake_at_start = False
        if not (awake or asleep or holidays or sleep_at or wake_at) and not unknown:
            problems.append((where, "", "defines nothing: give it awake, asleep, holidays, sleep_at or wake_at"))
        schedules[str(name)] = Schedule(
            name=str(name),
            awake=tuple(awake),
            asleep=tuple(asleep),
            holidays=(*holidays, *global_holidays),
            sleep_at=tuple(sleep_at),
            wake_at=tuple(wake_at),
            wake_at_start=wake_at_start,
            tz=tz,
        )
    return schedules, problems


def _cron_in(tz: ZoneInfo, value: Any) -> str:
    """A cron expression as written, once `cron_trigger` has checked it."""
    cron_trigger(str(value), tz)
    return " ".join(str(value).split())


def _collect(parse: Any, values: list[Any], where: str, problems: list) -> list[Any]:
    parsed = []
    for index, value in enumerate(values):
        try:
            parsed.append(parse(value))
        except ValueError as exc:
            label = where if len(values) == 1 else f"{where}[{index + 1}]"
            problems.append((label, str(value), str(exc)))
    return parsed


class Schedules:
    """Schedules by name, evaluated at a moment (cached per minute: many apps share one)."""

    def __init__(self, schedules: Mapping[str, Schedule], tz: ZoneInfo) -> None:
        self.by_name = dict(schedules)
        self.tz = tz
        self._state = lru_cache(maxsize=256)(self._compute)

    def state(self, name: str | None, now: datetime) -> ScheduleState:
        if not name or name not in self.by_name:
            return ScheduleState()
        return self._state(name, now.replace(second=0, microsecond=0))

    def _compute(self, name: str, minute: datetime) -> ScheduleState:
        return self.by_name[name].state(minute, self.tz)

    def wakes_between(self, start: datetime, end: datetime) -> dict[str, list[datetime]]:
        return {name: s.wakes_between(start, end, self.tz) for name, s in self.by_name.items()}
