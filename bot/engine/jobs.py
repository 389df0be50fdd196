"""The scheduler's jobs, rebuilt from configuration at every start (nothing to migrate).

    discover      every minute         list every provider's apps
    sweep         START_AND_STOP_CHECKING_INTERVAL_CRON   check due apps, put idle ones to sleep
    observe       every minute         refresh activity with spare API budget only
    schedules     every minute         wakes that schedules ask for (wake_at, wake_at_start)
    report        PAASTIS_REPORT_CRON  post the report
    housekeeping  every hour           prune old activity samples; reconcile interrupted sleeps
    readiness     every minute         tell the channel when the database cannot be written
    takeover      every 10 s           sleeps and wakes of a process that is gone: finished, followed
                                       again (and at once when this instance becomes the leader)
    leadership    every 5 s            take or renew the lead (bot.engine.leadership), on every instance
    webhook …     one-off              each delivery and retry, on an executor of its own (bot.engine.webhooks)

With several instances on one database, only the leader runs the jobs above leadership;
the sweep and the report run once per scheduled time across them all.

Jobs never overlap themselves (max_instances=1); a run that comes while the previous one
still runs, or late (a busy machine), is merged with the others missed (coalesce) and runs
as soon as it can, however late (no misfire grace limit): a scheduled run is never skipped.
A job that raises is logged with its traceback; the next run happens as planned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.engine.engine import Engine
from bot.engine.leadership import RENEW, Leadership
from bot.policy.schedules import Schedules, cron_trigger
from providers.base import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobTimes:
    """How often the periodic jobs run (the demo runs them faster)."""

    discover: timedelta = timedelta(minutes=1)
    observe: timedelta = timedelta(minutes=1)
    schedules: timedelta = timedelta(minutes=1)


class ScheduleTick:
    """Wakes the apps of the schedules whose time to wake came since the last run; remembers
    when it last ran, so each scheduled wake happens once."""

    def __init__(self, engine: Engine, schedules: Schedules, clock: Clock) -> None:
        self.engine = engine
        self.schedules = schedules
        self.clock = clock
        self.last: datetime = clock.now()

    def __call__(self) -> None:
        now = self.clock.now()
        due = {name for name, moments in self.schedules.wakes_between(self.last, now).items() if moments}
        if due:
            self.engine.wake_scheduled(due)
        self.last = now


def configure_scheduler(
    scheduler: BaseScheduler,
    engine: Engine,
    schedules: Schedules,
    *,
    sweep_cron: str,
    report_cron: str,
    timezone: ZoneInfo,
    post_report: Callable[[], None],
    leadership: Leadership,
    take_over: Callable[[], object],
    times: JobTimes = JobTimes(),
) -> None:
    common = {"coalesce": True, "max_instances": 1, "replace_existing": True, "misfire_grace_time": None}
    lead = leadership.only_leading
    scheduler.add_job(
        lead(engine.discover, "discover"),
        IntervalTrigger(seconds=times.discover.total_seconds()),
        id="discover",
        name="discover apps",
        **common,
    )
    sweep = leadership.once_per_period(engine.sweep, "sweep")
    scheduler.add_job(sweep, cron_trigger(sweep_cron, timezone), id="sweep", name="sweep idle apps", **common)
    scheduler.add_job(
        lead(engine.observe, "observe"),
        IntervalTrigger(seconds=times.observe.total_seconds()),
        id="observe",
        name="observe activity",
        **common,
    )
    scheduler.add_job(
        lead(ScheduleTick(engine, schedules, engine.clock), "schedules"),
        IntervalTrigger(seconds=times.schedules.total_seconds()),
        id="schedules",
        name="scheduled wakes",
        **common,
    )
    report = leadership.once_per_period(post_report, "report")
    scheduler.add_job(report, cron_trigger(report_cron, timezone), id="report", name="post the report", **common)
    housekeeping = lead(engine.housekeeping, "housekeeping")
    scheduler.add_job(housekeeping, IntervalTrigger(hours=1), id="housekeeping", name="housekeeping", **common)
    scheduler.add_job(
        lead(engine.check_readiness, "readiness"),
        IntervalTrigger(seconds=times.discover.total_seconds()),
        id="readiness",
        name="database writable",
        **common,
    )
    taking_over = lead(take_over, "takeover")
    scheduler.add_job(taking_over, IntervalTrigger(seconds=10), id="takeover", name="take over", **common)

    def renew() -> None:
        was = leadership.leads()
        if leadership.renew() and not was:
            taking_over()  # a new leader takes over what the one before left, at once

    scheduler.add_job(
        renew, IntervalTrigger(seconds=RENEW.total_seconds()), id="leadership", name="leadership", **common
    )
    scheduler.add_listener(_log_failure, EVENT_JOB_ERROR)


def _log_failure(event: JobExecutionEvent) -> None:
    log.error("job.failed job=%s error=%r", event.job_id, event.exception, exc_info=event.exception)
