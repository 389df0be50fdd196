"""The scheduler's jobs, listed without starting the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from bot.engine.jobs import configure_scheduler
from tests.bot.harness import Harness

PARIS = ZoneInfo("Europe/Paris")


def jobs(tmp_path, clock, sweep_cron: str = "* * * * *"):
    h = Harness(tmp_path / "p.db", clock)
    scheduler = BackgroundScheduler(timezone=PARIS)
    configure_scheduler(
        scheduler, h.engine, sweep_cron=sweep_cron, report_cron="0 9 * * 1-5", timezone=PARIS, post_report=lambda: None
    )
    return {job.id: job for job in scheduler.get_jobs()}


def test_every_job_is_rebuilt_from_configuration(tmp_path, clock) -> None:
    found = jobs(tmp_path, clock)
    assert set(found) == {"discover", "sweep", "observe", "schedules", "report", "housekeeping"}
    assert all(job.max_instances == 1 and job.coalesce for job in found.values())


def test_the_sweep_follows_the_original_cron_with_its_optional_seconds(tmp_path, clock) -> None:
    sweep = jobs(tmp_path, clock, "*/20 * * * * *")["sweep"]
    start = datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC)
    first = sweep.trigger.get_next_fire_time(None, start)
    assert (first - start).total_seconds() == 19


def test_the_report_fires_at_nine_in_the_team_time_zone_on_weekdays(tmp_path, clock) -> None:
    report = jobs(tmp_path, clock)["report"]
    friday_evening = datetime(2026, 11, 6, 18, 0, tzinfo=PARIS)
    assert report.trigger.get_next_fire_time(None, friday_evening) == datetime(2026, 11, 9, 9, 0, tzinfo=PARIS)
