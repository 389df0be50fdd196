"""When to try a failing action again, and when to tell the channel about it. Pure.

A failure that repeats is news once: when it starts, then at most every `REMIND` while it
lasts, and once when it ends. An action that keeps failing (a sleep the provider refuses)
is tried again after 1, 2, 4 … minutes, at most `LONGEST_WAIT` apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=60)
REMIND = timedelta(hours=6)  # as provider trouble (bot.engine.discovery)


def retry_wait(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failure in a row (1, 2, 4 … 60 min)."""
    doublings = min(max(failures - 1, 0), 12)
    return min(FIRST_WAIT * 2**doublings, LONGEST_WAIT)


def worth_telling(told_at: datetime | None, now: datetime, *, remind: timedelta = REMIND) -> bool:
    """A repeating failure is told when it starts (never told yet), then at most every `remind`."""
    return told_at is None or now - told_at >= remind
