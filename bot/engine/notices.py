"""What the engine tells the channel about, as plain data. Rendering and posting happen
elsewhere (text in the demo, Block Kit in Slack)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.engine.outcomes import SweepReport


@dataclass(frozen=True)
class SweepDone:
    report: SweepReport


@dataclass(frozen=True)
class WakeFailed:
    label: str
    ref: tuple[str, str]
    reason: str
    actor_name: str


@dataclass(frozen=True)
class ProviderTrouble:
    provider: str
    error: str
    since: datetime


@dataclass(frozen=True)
class ProviderRecovered:
    provider: str


Notice = SweepDone | WakeFailed | ProviderTrouble | ProviderRecovered
Notify = Callable[[Notice], None]  # where the engine sends its notices (bot.chat.notifier renders and posts them)
