"""The scheduler's jobs, listed without starting the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from bot.engine.jobs import ScheduleTick, configure_scheduler
from bot.engine.leadership import Leadership
from tests.bot.engine.harness import Harness

PARIS = ZoneInfo("Europe/Paris")


def jobs(tmp_path, clock, sweep_cron: str = "* * * * *"):
    h = Harness(tmp_path / "p.db", clock)
    scheduler = BackgroundScheduler(timezone=PARIS)
    configure_scheduler(
        scheduler,
        h.engine,
        h.schedules,
        sweep_cron=sweep_cron,
        report_cron="0 9 * * 1-5",
        timezone=PARIS,
        post_report=lambda: None,
        leadership=Leadership(h.engine.store, clock),
        take_over=lambda: None,
    )
    return {job.id: job for job in scheduler.get_jobs()}


def test_every_job_is_rebuilt_from_configuration(tmp_path, clock) -> None:
    found = jobs(tmp_path, clock)
    scheduled = {"discover", "sweep", "observe", "schedules", "report", "housekeeping", "readiness", "takeover"}
    assert set(found) == {*scheduled, "leadership"}
    assert all(job.max_instances == 1 and job.coalesce for job in found.values())
    assert all(job.misfire_grace_time is None for job in found.values())  # late runs merge, never skipped


def test_the_sweep_follows_the_original_cron_with_its_optional_seconds(tmp_path, clock) -> None:
    sweep = jobs(tmp_path, clock, "*/20 * * * * *")["sweep"]
    start = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
    first = sweep.trigger.get_next_fire_time(None, start)
    assert (first - start).total_seconds() == 19


def test_the_report_fires_at_nine_in_the_team_time_zone_on_weekdays(tmp_path, clock) -> None:
    report = jobs(tmp_path, clock)["report"]
    friday_evening = datetime(2026, 11, 6, 18, 0, tzinfo=PARIS)
    assert report.trigger.get_next_fire_time(None, friday_evening) == datetime(2026, 11, 9, 9, 0, tzinfo=PARIS)


def test_a_schedule_wakes_its_sleeping_apps_once_when_its_time_comes(tmp_path, clock) -> None:
    # the fake clock starts on Monday 2026-11-02 09:00 UTC = 10:00 in Paris
    h = Harness(
        tmp_path / "p.db",
        clock,
        rules=[{"pattern": "^office-", "schedule": "office"}],
        schedules={"office": {"awake": "Mon-Fri 08:00-19:00", "wake_at_start": True}},
    )
    h.add("office-crm", running=False)
    h.add("review-1", running=False)
    h.discover()
    tick = ScheduleTick(h.engine, h.schedules, clock)

    clock.advance(hours=21, minutes=59)  # Tuesday 07:59 in Paris
    tick()
    assert h.calls("wake") == 0
    clock.advance(minutes=2)  # 08:01: the office opened
    tick()
    assert h.engine.wait_idle(10)
    clock.advance(minutes=1)
    tick()

    assert h.calls("wake", "office-crm") == 1
    assert h.calls("wake", "review-1") == 0
    assert h.events_of("woke")[0]["actor_name"] == "schedule office"
