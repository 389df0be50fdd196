"""The idle policy, as a table: facts in, decision out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.policy.idle import NEVER, Facts, Verdict, decide, idle_for, settled_until
from providers.base import AppState

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def facts(**kw) -> Facts:
    base = {"state": AppState.RUNNING, "idle_timeout": 15 * MIN, "last_activity": NOW - 20 * MIN, "checked_at": NOW}
    return Facts(**{**base, **kw})


@pytest.mark.parametrize(
    ("case", "given", "verdict", "says"),
    [
        ("idle past its timeout, freshly checked", {}, Verdict.SLEEP, "idle for 20 min"),
        ("used 5 minutes ago", {"last_activity": NOW - 5 * MIN}, Verdict.KEEP, "idle for 5 min of 15 min"),
        ("never observed: unknown is not idle", {"last_activity": None}, Verdict.CHECK, "not checked"),
        ("idle, but the last check is old", {"checked_at": NOW - 10 * MIN}, Verdict.CHECK, "confirming"),
        ("idle, never checked", {"checked_at": None}, Verdict.CHECK, "confirming"),
        ("asleep already", {"state": AppState.SLEEPING}, Verdict.SKIP, "sleeping"),
        ("being scaled by the provider", {"state": AppState.WAKING}, Verdict.SKIP, "waking"),
        ("crashed", {"state": AppState.CRASHED}, Verdict.SKIP, "crashed"),
        ("ignored", {"ignored": "listed in REGISTRY_IGNORED_APPS (x)"}, Verdict.SKIP, "not managed"),
        ("protected", {"protected": True}, Verdict.KEEP, "protected"),
        ("pinned", {"kept_until": NOW + 5 * MIN, "kept_by": "Ada"}, Verdict.KEEP, "kept awake by Ada"),
        ("pin expired", {"kept_until": NOW - MIN}, Verdict.SLEEP, "idle"),
        ("in office hours", {"keep_window": "Mon-Fri 08:00-19:00"}, Verdict.KEEP, "keep-awake window"),
        ("being woken", {"waking": True}, Verdict.KEEP, "being woken"),
        (
            "forced-sleep window began while it was up",
            {
                "last_activity": NOW,
                "forced_sleep_since": NOW - 5 * MIN,
                "awake_since": NOW - 60 * MIN,
                "forced_sleep_window": "daily 20:00-07:00",
            },
            Verdict.SLEEP,
            "forced-sleep window",
        ),
        (
            "woken inside the forced-sleep window: its idle timeout applies",
            {"last_activity": NOW, "forced_sleep_since": NOW - 60 * MIN, "awake_since": NOW - 5 * MIN},
            Verdict.KEEP,
            "idle for",
        ),
        (
            "75 minutes is 75 minutes",
            {"idle_timeout": 75 * MIN, "last_activity": NOW - 74 * MIN},
            Verdict.KEEP,
            "idle for 1 h 14 min",
        ),
        (
            "76 minutes past a 75-minute timeout",
            {"idle_timeout": 75 * MIN, "last_activity": NOW - 76 * MIN},
            Verdict.SLEEP,
            "1 h 16 min",
        ),
    ],
)
def test_decide(case: str, given: dict, verdict: Verdict, says: str) -> None:
    decision = decide(facts(**given), NOW)
    assert decision.verdict is verdict, case
    assert says in decision.reason, case


def test_keep_says_when_the_app_will_sleep() -> None:
    decision = decide(facts(last_activity=NOW - 5 * MIN), NOW)
    assert decision.sleeps_at == NOW + 10 * MIN


@pytest.mark.parametrize("minutes", [59, 60, 61, 75, 119, 120, 1441])
def test_idle_time_is_never_wrapped_at_the_hour(minutes: int) -> None:
    # the original computed ((ms % 1 day) % 1 hour) / 1 minute: 75 minutes read as 15
    assert idle_for(NOW - minutes * MIN, NOW) == minutes * MIN


@pytest.mark.parametrize(
    ("case", "kw", "scheduled", "until"),
    [
        ("used 5 minutes ago: when its timeout runs out", {"last_activity": NOW - 5 * MIN}, False, NOW + 10 * MIN),
        ("idle long enough: decided again next sweep", {}, False, None),
        ("never observed: checked next sweep", {"last_activity": None}, False, None),
        ("kept awake: when the keep ends", {"kept_until": NOW + 60 * MIN}, False, NOW + 60 * MIN),
        ("failed sleep: its next try", {"sleep_failures": 2, "next_sleep_try": NOW + 4 * MIN}, False, NOW + 4 * MIN),
        ("protected: time never changes it", {"protected": True}, True, NEVER),
        ("asleep: time never changes it", {"state": AppState.SLEEPING}, True, NEVER),
        ("worker only: time never changes it", {"worker_only": True}, False, NEVER),
        ("with a schedule: any minute", {"last_activity": NOW - 5 * MIN}, True, None),
        ("being woken: next sweep", {"waking": True}, False, None),
    ],
)
def test_a_decision_holds_until_time_alone_could_change_it(case, kw, scheduled, until) -> None:
    f = facts(**kw)
    assert settled_until(f, decide(f, NOW), NOW, scheduled=scheduled) == until, case
