"""Durations and moments as people write them: `90s`, `15`, `1h30m`, `until 18:00`. Pure.

Every parser raises `ValueError` with a sentence that names what was wrong and shows what
a valid value looks like; callers put it in front of the user as it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
LONGEST = timedelta(days=3650)  # no duration Paastis reads is longer: past it, a typo
SHORTEST_IDLE = timedelta(minutes=1)  # a user must be able to finish a click
LONGEST_IDLE = timedelta(days=30)  # longer is "never": protect the app or keep it instead
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_BARE = re.compile(r"^\d+(?:\.\d+)?$")
_EXAMPLES = "such as 90s, 15m, 2h or 1h30m"


def parse_duration(text: str, *, bare_unit: str = "minutes") -> timedelta:
    """`1h30m` → 1:30:00. A bare number is in `bare_unit` (minutes, as the original paastis)."""
    cleaned = str(text).strip().lower()
    if not cleaned:
        raise ValueError(f"a duration is missing: write one {_EXAMPLES}")
    if _BARE.match(cleaned):
        return _bounded(text, float(cleaned) * _UNITS[bare_unit])
    total, position = 0.0, 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        unit = _UNITS.get(match.group(2))
        if unit is None:
            raise ValueError(f"{text!r} has an unknown unit {match.group(2)!r}: write a duration {_EXAMPLES}")
        total += float(match.group(1)) * unit
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(f"{text!r} is not a duration: write one {_EXAMPLES}")
    return _bounded(text, total)


def _bounded(text: str, seconds: float) -> timedelta:
    if not seconds <= LONGEST.total_seconds():  # NaN and inf too
        raise ValueError(f"{text!r} is longer than {LONGEST.days // 365} years: write a duration {_EXAMPLES}")
    return timedelta(seconds=seconds)


def check_idle_timeout(idle: timedelta) -> timedelta:
    """An idle timeout within bounds (1 minute to 30 days), else ValueError saying why."""
    if idle < SHORTEST_IDLE:
        raise ValueError(
            f"{format_duration(idle)} is too short: an idle timeout is at least 1 minute (apps would sleep mid-click)"
        )
    if idle > LONGEST_IDLE:
        raise ValueError(
            f"{format_duration(idle)} is too long: an idle timeout is at most 30 days "
            "(to never put an app to sleep, protect it with a rule: `protect: true`)"
        )
    return idle


_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")


def parse_clock_time(text: str) -> time:
    """`18:00`, `9`, `6pm` → a time of day."""
    match = _CLOCK.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a time of day: write one such as 18:00 or 9:30")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3) == "pm" and hour < 12:
        hour += 12
    elif match.group(3) == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day: hours go to 23 and minutes to 59")
    return time(hour, minute)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_until(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The moment in `until 18:00`, `until tomorrow 9:00`, `until friday`, `until 2026-12-24 18:00`.

    A bare time already past today means tomorrow. Returns an aware UTC datetime.
    """
    words = text.strip().lower().split()
    if not words:
        raise ValueError("`until` needs a moment, such as until 18:00 or until friday")
    local_now = now.astimezone(tz)
    day: date = local_now.date()
    at: time | None = None
    explicit_day = False
    for word in words:
        if word == "today":
            explicit_day = True
        elif word == "tomorrow":
            day, explicit_day = local_now.date() + timedelta(days=1), True
        elif word[:3] in {w[:3] for w in _WEEKDAYS} and any(w.startswith(word) for w in _WEEKDAYS):
            target = next(i for i, w in enumerate(_WEEKDAYS) if w.startswith(word))
            ahead = (target - local_now.weekday()) % 7 or 7
            day, explicit_day = local_now.date() + timedelta(days=ahead), True
        elif re.match(r"^\d{4}-\d{2}-\d{2}$", word):
            try:
                day, explicit_day = date.fromisoformat(word), True
            except ValueError:
                raise ValueError(f"{word!r} is not a date: write one such as 2026-12-24") from None
        else:
            at = parse_clock_time(word)
    if at is None:
        if not explicit_day:
            raise ValueError(f"{text!r} is not a moment: write one such as 18:00, tomorrow 9:00 or friday")
        at = time(23, 59)  # "until friday": Friday included
    moment = datetime.combine(day, at, tzinfo=tz)
    if moment <= local_now and not explicit_day:
        moment += timedelta(days=1)
    if moment <= local_now:
        raise ValueError(f"{text!r} is already past")
    return moment.astimezone(now.tzinfo)


def format_duration(delta: timedelta) -> str:
    """Short and readable: `45 s`, `12 min`, `1 h 05 min`, `3 d 4 h`."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never seen"
    delta = now - moment
    if delta < timedelta(seconds=60):
        return "just now"
    return f"{format_duration(delta)} ago"


def format_moment(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """`18:00`, `tomorrow 09:00`, `Fri 18:00`, `2026-12-24 18:00` in the team's time zone."""
    local, local_now = moment.astimezone(tz), now.astimezone(tz)
    days = (local.date() - local_now.date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        return clock
    if days == 1:
        return f"tomorrow {clock}"
    if 1 < days < 7:
        return f"{local.strftime('%a')} {clock}"
    return f"{local.date().isoformat()} {clock}"
