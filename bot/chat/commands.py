"""`/paastis …` parsed into a `Command`. Pure: text, `now` and the team's time zone in.

A `UsageError` says what is wrong with what was typed and how to write it right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UsageError
from bot.policy.durations import parse_duration, parse_until

NAMES = ("status", "wake", "sleep", "keep", "unkeep", "log", "report", "help", "start")
ALIASES = {
    "list": "status",
    "ls": "status",
    "start": "wake",
    "up": "wake",
    "stop": "sleep",
    "down": "sleep",
    "pin": "keep",
    "unpin": "unkeep",
    "history": "log",
    "events": "log",
}
DEFAULT_KEEP = timedelta(hours=2)


@dataclass(frozen=True)
class Command:
    name: str
    arg: str | None = None  # the app (wake, sleep, keep, unkeep, log) or a filter / app (status)
    until: datetime | None = None  # keep
    reason: str | None = None  # keep


def parse(text: str, now: datetime, tz: ZoneInfo) -> Command:
    words = text.strip().split()
    if words and words[0].lower() == "/paastis":
        words = words[1:]
    if not words:
        return Command("help")
    name = words[0].lower()
    rest = words[1:]
    if name == "start" and not rest:
        return Command("start")  # start Paastis (the safe first run); `start <app>` wakes the app
    name = ALIASES.get(name, name)
    if name not in NAMES:
        raise UsageError(f"Unknown command `{words[0]}`.")
    if name in ("help", "report"):
        return Command(name)
    if name in ("status", "log"):
        return Command(name, " ".join(rest) or None)
    if not rest:
        raise UsageError(f"Which app? Write `/paastis {name} <app>`.")
    app = rest[0].strip("`")
    if name != "keep":
        if len(rest) > 1:
            raise UsageError(f"`{name}` takes one app; got `{' '.join(rest)}`. Write `/paastis {name} <app>`.")
        return Command(name, app)
    return _keep(app, rest[1:], now, tz)


def _keep(app: str, words: list[str], now: datetime, tz: ZoneInfo) -> Command:
    text = " ".join(words)
    reason = None
    match = re.search(r"\s*(?:—|--|\bbecause\b|\breason:)\s*(.*)$", text)
    if match:
        reason = match.group(1).strip() or None
        text = text[: match.start()].strip()
    if not text:
        return Command("keep", app, now + DEFAULT_KEEP, reason)
    lowered = text.lower()
    try:
        if lowered.startswith("until "):
            until = parse_until(text[6:], now, tz)
        else:
            duration = parse_duration(lowered.removeprefix("for ").strip(), bare_unit="hours")
            if duration <= timedelta(0):
                raise ValueError("a duration must be more than zero")
            until = now + duration
    except ValueError as exc:
        raise UsageError(
            f"{exc}. Write `/paastis keep {app} 2h`, `/paastis keep {app} until 18:00` "
            f"or add a reason: `/paastis keep {app} 2h because client demo`."
        ) from None
    return Command("keep", app, until, reason)
