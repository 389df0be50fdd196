"""Schedules in a time zone: windows across midnight and DST, holidays, cron."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.policy.schedules import cron_trigger, parse_schedules, parse_window

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def schedule(spec: dict, holidays=()):
    schedules, problems = parse_schedules({"s": spec}, PARIS, holidays)
    assert not problems, problems
    return schedules["s"]


def test_office_hours_keep_apps_awake_on_weekdays_only() -> None:
    office = schedule({"awake": "Mon-Fri 08:00-19:00"})
    assert office.state(paris(2026, 11, 2, 10, 0), PARIS).keep_window == "Mon-Fri 08:00-19:00"  # Monday
    assert office.state(paris(2026, 11, 2, 19, 0), PARIS).keep_window is None  # the end is excluded
    assert office.state(paris(2026, 11, 7, 10, 0), PARIS).keep_window is None  # Saturday


def test_a_night_window_crosses_midnight() -> None:
    nights = schedule({"asleep": "Mon-Fri 20:00-07:00"})
    friday_night = nights.state(paris(2026, 11, 6, 23, 30), PARIS)
    saturday_dawn = nights.state(paris(2026, 11, 7, 6, 59), PARIS)
    assert friday_night.forced_since == paris(2026, 11, 6, 20, 0)
    assert saturday_dawn.forced_since == paris(2026, 11, 6, 20, 0)  # began on Friday
    assert nights.state(paris(2026, 11, 7, 7, 0), PARIS).forced_since is None
    assert nights.state(paris(2026, 11, 7, 23, 0), PARIS).forced_since is None  # not on Saturday nights


def test_weekends_all_day() -> None:
    weekends = schedule({"asleep": "Sat-Sun"})
    assert weekends.state(paris(2026, 11, 8, 15, 0), PARIS).forced_since == paris(2026, 11, 7, 0, 0) + timedelta(days=1)
    assert weekends.state(paris(2026, 11, 9, 0, 0), PARIS).forced_since is None


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (paris(2026, 3, 29, 8, 30), True),  # spring forward: 02:00 → 03:00 that night
        (paris(2026, 10, 25, 8, 30), True),  # fall back: 03:00 → 02:00 that night
        (paris(2026, 3, 29, 7, 59), False),
        (paris(2026, 10, 25, 19, 0), False),
    ],
)
def test_windows_follow_local_time_across_dst_changes(moment: datetime, inside: bool) -> None:
    daily = schedule({"awake": "daily 08:00-19:00"})
    assert (daily.state(moment, PARIS).keep_window is not None) is inside


def test_a_window_across_the_dst_night_lasts_its_local_hours() -> None:
    nights = schedule({"asleep": "daily 22:00-06:00"})
    start = nights.state(paris(2026, 3, 29, 5, 0), PARIS).forced_since
    assert start == paris(2026, 3, 28, 22, 0)
    assert paris(2026, 3, 29, 6, 0) - start == timedelta(hours=7)  # an hour shorter that night


def test_holidays_suspend_office_hours_and_sleep_apps_at_the_start_of_the_day() -> None:
    from bot.policy.schedules import parse_holiday

    office = schedule({"awake": "Mon-Fri 08:00-19:00"}, [parse_holiday("2026-12-24..2027-01-01")])
    christmas = office.state(paris(2026, 12, 25, 10, 0), PARIS)
    assert christmas.keep_window is None
    assert christmas.forced_since == paris(2026, 12, 25, 0, 0)
    assert office.state(paris(2027, 1, 4, 10, 0), PARIS).keep_window  # back to work


def test_cron_events_sleep_and_wake_like_kube_green() -> None:
    events = schedule({"sleep_at": "0 20 * * 1-5", "wake_at": "0 8 * * 1-5"})
    assert events.state(paris(2026, 11, 2, 21, 0), PARIS).forced_since == paris(2026, 11, 2, 20, 0)
    assert events.state(paris(2026, 11, 3, 9, 0), PARIS).forced_since is None  # woken at 08:00
    assert events.state(paris(2026, 11, 7, 12, 0), PARIS).forced_since == paris(2026, 11, 6, 20, 0)  # weekend
    wakes = events.wakes_between(paris(2026, 11, 2, 0, 0), paris(2026, 11, 4, 0, 0), PARIS)
    assert wakes == [paris(2026, 11, 2, 8, 0), paris(2026, 11, 3, 8, 0)]


def test_a_sleep_at_every_minute_last_fired_this_minute_not_yesterday() -> None:
    """The old hand loop stopped after 10,000 fires: for `* * * * *` it answered yesterday."""
    every_minute = schedule({"sleep_at": "* * * * *"})
    assert every_minute.state(paris(2026, 11, 5, 12, 30, 20), PARIS).forced_since == paris(2026, 11, 5, 12, 30)
    assert every_minute.state(paris(2026, 11, 5, 12, 30), PARIS).forced_since == paris(2026, 11, 5, 12, 30)


@pytest.mark.parametrize(
    ("expression", "fires_at"),
    [
        ("0 9 * * 1", paris(2026, 11, 9, 9, 0)),
        ("0 9 * * 7", paris(2026, 11, 8, 9, 0)),
        ("30 0 9 * * 6", paris(2026, 11, 7, 9, 0, 30)),
    ],
)
def test_schedule_wakes_follow_crontab_weekdays_and_seconds(expression: str, fires_at: datetime) -> None:
    events = schedule({"wake_at": expression})
    assert events.wakes_between(paris(2026, 11, 5, 12, 0), fires_at, PARIS)[0] == fires_at


def test_wake_at_the_start_of_office_hours() -> None:
    office = schedule({"awake": "Mon-Fri 08:00-19:00", "wake_at_start": True})
    wakes = office.wakes_between(paris(2026, 11, 6, 12, 0), paris(2026, 11, 9, 12, 0), PARIS)
    assert wakes == [paris(2026, 11, 9, 8, 0)]  # Monday, not the weekend


@pytest.mark.parametrize(
    ("expression", "fires_at"),
    [
        ("0 9 * * 1", paris(2026, 11, 9, 9, 0)),  # crontab 1 = Monday
        ("0 9 * * 0", paris(2026, 11, 8, 9, 0)),  # 0 = Sunday
        ("0 9 * * 7", paris(2026, 11, 8, 9, 0)),  # 7 = Sunday too
        ("0 9 * * 5-7", paris(2026, 11, 6, 9, 0)),
        ("30 0 9 * * 6", paris(2026, 11, 7, 9, 0, 30)),  # 6 fields: seconds first
    ],
)
def test_cron_weekdays_are_crontab_weekdays(expression: str, fires_at: datetime) -> None:
    trigger = cron_trigger(expression, PARIS)
    assert trigger.get_next_fire_time(None, paris(2026, 11, 5, 12, 0)) == fires_at


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Mon-Fry 08:00-19:00", "not a day"),
        ("Mon-Fri 08:00-25:00", "not a time of day"),
        ("Mon-Fri 08:00-08:00", "same time"),
        ("Mon-Fri 08:00-19:00 Mars/Olympus", "not a time zone"),
        ("whenever", "not a day"),
    ],
)
def test_bad_windows_say_how_to_write_them(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_window(text)


def test_bad_schedules_are_reported_together() -> None:
    _, problems = parse_schedules(
        {
            "a": {"awake": "Mon-Fri 8-19"},
            "b": {"sleep_at": "every night"},
            "c": {"holidays": ["2026-13-01"]},
            "d": {"aweke": "Mon-Fri"},
            "e": {},
        },
        PARIS,
    )
    where = {p[0] for p in problems}
    assert {
        "schedules.a.awake",
        "schedules.b.sleep_at",
        "schedules.c.holidays",
        "schedules.d.aweke",
        "schedules.e",
    } <= where


def test_a_window_may_carry_its_own_time_zone() -> None:
    window = parse_window("Mon-Fri 09:00-17:00 America/New_York")
    ny = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    assert window.active_since(ny.astimezone(UTC), PARIS) is not None
