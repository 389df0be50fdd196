"""The idle policy: should this app sleep now? Pure: plain facts and `now` in, a decision out.

Order of the questions, first answer wins:

    not running / being changed   → skip     (nothing to decide)
    not managed (ignored, self)   → skip
    protected, pinned, in a keep-awake window, being woken → keep
    its last sleep failed and its next try has not come → keep (says when; no sleep time)
    inside a forced-sleep window it was awake at the start of → sleep (whatever its activity)
    no web process (opted in by `manage_workers`) → keep (sleeps by schedule only)
    activity never observed        → check    (unknown is never idle)
    idle for less than its timeout → keep     (and says when it will sleep)
    idle long enough, but the last observation is not fresh → check (confirm first)
    idle long enough, freshly confirmed → sleep

"Idle for" is a `timedelta` from the newest activity of the app's group (requests, deploys,
wakes, people's actions in Slack) to now — never minutes modulo an hour, as the original
computed it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.policy.durations import format_duration
from providers.base import AppState

FRESH = timedelta(seconds=20)  # a check this recent confirms idleness: made in the same sweep
# no router traffic, and CPU is no proof of idleness (ACTIVITY.md): a worker app's schedule decides
WORKERS_BY_SCHEDULE = "sleeps by schedule only: no activity signal for worker apps"
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # a decision that time alone never changes


class Verdict(enum.StrEnum):
    SKIP = "skip"
    KEEP = "keep"
    CHECK = "check"
    SLEEP = "sleep"


@dataclass(frozen=True)
class Facts:
    state: AppState
    idle_timeout: timedelta
    last_activity: datetime | None  # newest activity of the app's group; None: never observed
    checked_at: datetime | None  # when activity was last read successfully (whole group)
    ignored: str | None = None
    protected: bool = False
    kept_until: datetime | None = None
    kept_by: str | None = None
    keep_window: str | None = None  # name of the keep-awake window the app is in
    forced_sleep_since: datetime | None = None  # start of the forced-sleep window now in force
    forced_sleep_window: str | None = None
    awake_since: datetime | None = None  # when it was last started (woken or first seen up)
    waking: bool = False
    sleep_failures: int = 0  # putting it to sleep failed this many times in a row
    next_sleep_try: datetime | None = None  # ... and is not tried again before this
    worker_only: bool = False  # no web process: only its schedule's sleep windows put it to sleep


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    sleeps_at: datetime | None = None
    idle_for: timedelta | None = None


def idle_for(last_activity: datetime, now: datetime) -> timedelta:
    return max(now - last_activity, timedelta(0))


def decide(facts: Facts, now: datetime, *, fresh: timedelta = FRESH) -> Decision:
    if facts.state is not AppState.RUNNING:
        return Decision(Verdict.SKIP, f"{facts.state.value}")
    if facts.ignored:
        return Decision(Verdict.SKIP, f"not managed: {facts.ignored}")
    if facts.waking:
        return Decision(Verdict.KEEP, "being woken")
    if facts.protected:
        return Decision(Verdict.KEEP, "protected: never put to sleep")
    if facts.kept_until and facts.kept_until > now:
        who = f" by {facts.kept_by}" if facts.kept_by else ""
        return Decision(Verdict.KEEP, f"kept awake{who}", sleeps_at=None)
    if facts.keep_window:
        return Decision(Verdict.KEEP, f"inside keep-awake window {facts.keep_window}")
    if facts.next_sleep_try and facts.next_sleep_try > now:
        times = "once" if facts.sleep_failures == 1 else f"{facts.sleep_failures} times"
        wait = format_duration(facts.next_sleep_try - now)
        return Decision(Verdict.KEEP, f"putting it to sleep failed {times}: next try in {wait}")
    if facts.forced_sleep_since and (facts.awake_since is None or facts.awake_since < facts.forced_sleep_since):
        return Decision(Verdict.SLEEP, f"forced-sleep window {facts.forced_sleep_window or ''}".strip())
    if facts.worker_only:
        return Decision(Verdict.KEEP, WORKERS_BY_SCHEDULE)
    if facts.last_activity is None:
        return Decision(Verdict.CHECK, "activity not checked yet")
    idle = idle_for(facts.last_activity, now)
    sleeps_at = facts.last_activity + facts.idle_timeout
    if idle < facts.idle_timeout:
        return Decision(
            Verdict.KEEP,
            f"idle for {format_duration(idle)} of {format_duration(facts.idle_timeout)}",
            sleeps_at=sleeps_at,
            idle_for=idle,
        )
    if facts.checked_at is None or now - facts.checked_at > fresh:
        return Decision(Verdict.CHECK, "idle long enough: confirming with a fresh check", sleeps_at, idle)
    return Decision(
        Verdict.SLEEP,
        f"idle for {format_duration(idle)} (timeout {format_duration(facts.idle_timeout)})",
        sleeps_at=sleeps_at,
        idle_for=idle,
    )


def settled_until(facts: Facts, decision: Decision, now: datetime, *, scheduled: bool = False) -> datetime | None:
    """Until when `decision` holds if nothing about the app changes but the time: when its
    idle timeout runs out, its keep ends, its failed sleep is tried again; NEVER for a
    decision time alone never changes; None when it must be made again at the next sweep
    (an app to check or put to sleep, being woken, or `scheduled`: a schedule's windows
    open and close on any minute)."""
    if decision.verdict is Verdict.SKIP or (facts.protected and decision.verdict is Verdict.KEEP):
        return NEVER
    if decision.verdict is not Verdict.KEEP or facts.waking or facts.keep_window or scheduled:
        return None
    if facts.kept_until and facts.kept_until > now:
        return facts.kept_until
    if facts.next_sleep_try and facts.next_sleep_try > now:
        return facts.next_sleep_try
    if facts.worker_only:
        return NEVER
    return decision.sleeps_at
