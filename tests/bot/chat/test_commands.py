"""What people type after /paastis, and what they get when it is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chat.commands import Command, parse
from bot.errors import UsageError
from bot.policy.durations import format_duration, parse_duration

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Monday, 16:00 in Paris
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("status", Command("status")),
        ("/paastis status review", Command("status", "review")),
        ("wake review-42", Command("wake", "review-42")),
        ("start review-42", Command("wake", "review-42")),
        ("sleep `api`", Command("sleep", "api")),
        ("unkeep api", Command("unkeep", "api")),
        ("log", Command("log")),
        ("log api", Command("log", "api")),
        ("report", Command("report")),
        ("keep api", Command("keep", "api", NOW + timedelta(hours=2))),
        ("keep api 30m", Command("keep", "api", NOW + timedelta(minutes=30))),
        ("keep api for 3h", Command("keep", "api", NOW + timedelta(hours=3))),
        ("keep api 2", Command("keep", "api", NOW + timedelta(hours=2))),
        ("keep api until 18:00", Command("keep", "api", datetime(2026, 11, 2, 17, 0, tzinfo=UTC))),
        ("keep api until 9:00", Command("keep", "api", datetime(2026, 11, 3, 8, 0, tzinfo=UTC))),  # tomorrow
        ("keep api until friday", Command("keep", "api", datetime(2026, 11, 6, 22, 59, tzinfo=UTC))),  # Friday included
        ("keep api 2h because client demo", Command("keep", "api", NOW + timedelta(hours=2), "client demo")),
        ("keep api because client demo", Command("keep", "api", NOW + timedelta(hours=2), "client demo")),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    assert parse(text, NOW, PARIS) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("restart api", "Unknown command `restart`"),
        ("wake", "Which app?"),
        ("wake a b", "takes one app"),
        ("keep hello for banana", "'banana' is not a duration"),
        ("keep hello until teatime", "not a time of day"),
        ("keep hello until 25:00", "hours go to 23"),
        ("keep hello 0h", "more than zero"),
    ],
)
def test_bad_input_says_what_is_wrong_and_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, NOW, PARIS)
    assert says in str(caught.value)
    if text.startswith("keep hello"):
        assert "/paastis keep hello 2h" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15", 900), ("1h30m", 5400), ("2 hours", 7200), ("1.5h", 5400), ("1d", 86400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [(timedelta(seconds=45), "45 s"), (timedelta(minutes=75), "1 h 15 min"), (timedelta(hours=27), "1 d 3 h")],
)
def test_format_duration(delta: timedelta, shown: str) -> None:
    assert format_duration(delta) == shown
