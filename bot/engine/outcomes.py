"""What batch work reports, as plain data: one `Outcome` per app, a `SweepReport` per sweep.

Notices carry them to the channel; the engine's parts produce them. Nothing here imports
the rest of the engine, so anyone may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.rows import Ref
from providers.base import Formation


@dataclass(frozen=True)
class Outcome:
    ref: Ref
    label: str
    action: str  # slept, would_sleep, still_would_sleep, sleep_failed, skipped, checked, check_failed, deferred
    reason: str
    formation: Formation | None = None
    url: str | None = None


@dataclass(frozen=True)
class SweepReport:
    at: datetime
    outcomes: tuple[Outcome, ...] = ()
    dry_run: bool = False

    def of(self, *actions: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.action in actions]
