"""Channel notices: the engine's notices rendered and posted where they belong.

Sweep notices and what keeps failing for an app (a sleep, a wake, a hook: told when it
starts, at most every 6 hours, and when it ends — the engine decides when) go to
PAASTIS_CHANNEL, or to the channel a rule's `notify:` names for that app; a sweep notice
lists what slept, never what failed. Posting never raises into the engine: a Slack outage
is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.chat import answers, plan
from bot.chat.messages import Message
from bot.engine.notices import (
    Failing,
    FirstRunPlan,
    Notice,
    ProviderRecovered,
    ProviderTrouble,
    Recovered,
    SleepsReconciled,
    StoreRecovered,
    StoreTrouble,
    SweepDone,
    WakeFailed,
)
from bot.policy.catalog import Catalog
from bot.policy.durations import format_duration
from providers.base import Clock

log = logging.getLogger(__name__)


class Poster(Protocol):
    def post(self, message: Message, channel: str | None) -> None:
        """Post to `channel` (None: the default channel)."""
        ...


class ChannelNotifier:
    def __init__(self, poster: Poster, catalog: Callable[[], Catalog], clock: Clock) -> None:
        self._poster = poster
        self.catalog = catalog
        self.clock = clock

    def __call__(self, notice: Notice) -> None:
        for channel, message in self.render(notice):
            self.post(message, channel)

    def post(self, message: Message, channel: str | None = None) -> None:
        """Post to `channel` (None: the default one); never raises."""
        try:
            self._poster.post(message, channel)
        except Exception:  # a notice that cannot be posted must not break a sweep or a wake
            log.exception("notice.post_failed channel=%s", channel or "default")

    def render(self, notice: Notice) -> list[tuple[str | None, Message]]:
        now = self.clock.now()
        if isinstance(notice, SweepDone):
            return self._sweep(notice)
        if isinstance(notice, FirstRunPlan):
            return [(None, plan.plan_message(notice, now))]
        if isinstance(notice, WakeFailed):
            message = answers.wake_failed_notice(
                notice.label,
                f"{notice.ref[0]}:{notice.ref[1]}",
                notice.reason,
                notice.actor_name,
                failures=notice.count,
                since=format_duration(now - (notice.since or now)),
            )
            return [(self._channel_of(notice.ref), message)]
        if isinstance(notice, Failing):
            message = answers.failing_notice(
                notice.kind,
                notice.label,
                notice.reason,
                failures=notice.count,
                since=format_duration(now - notice.since),
                next_try=format_duration(notice.next_try - now) if notice.next_try else None,
            )
            return [(self._channel_of(notice.ref), message)]
        if isinstance(notice, Recovered):
            message = answers.recovered_notice(
                notice.kind, notice.label, failures=notice.failures, since=format_duration(now - notice.since)
            )
            return [(self._channel_of(notice.ref), message)]
        if isinstance(notice, SleepsReconciled):
            return [(None, answers.sleeps_reconciled(notice.finished, notice.rolled_back))]
        if isinstance(notice, StoreTrouble):
            return [(None, answers.store_trouble(notice.error, notice.since, now))]
        if isinstance(notice, StoreRecovered):
            return [(None, answers.store_recovered())]
        if isinstance(notice, ProviderTrouble):
            return [(None, answers.provider_trouble(notice.provider, notice.error, notice.since, now))]
        if isinstance(notice, ProviderRecovered):
            return [(None, answers.provider_recovered(notice.provider))]
        return []

    def _sweep(self, notice: SweepDone) -> list[tuple[str | None, Message]]:
        report = notice.report
        catalog = self.catalog()  # once per notice, not once per app slept
        by_channel: dict[str | None, list[answers.SleptApp]] = {}
        in_all: dict[str | None, int] = {}  # dry run: apps that would sleep, told before or not
        for outcome in report.of("slept", "would_sleep", "still_would_sleep"):
            view = catalog.get(outcome.ref)
            channel = view.rules.notify if view else None
            in_all[channel] = in_all.get(channel, 0) + 1
            if outcome.action == "still_would_sleep":
                continue
            formation = outcome.formation.describe() if outcome.formation else None
            by_channel.setdefault(channel, []).append(
                answers.SleptApp(outcome.label, f"{outcome.ref[0]}:{outcome.ref[1]}", outcome.reason, formation)
            )
        posts = []
        for channel, slept in by_channel.items():  # failures are told apart (Failing), once
            for message in answers.sweep_notice(slept, dry_run=report.dry_run, would_sleep=in_all[channel]):
                posts.append((channel, message))
        return posts

    def _channel_of(self, ref: tuple[str, str]) -> str | None:
        view = self.catalog().get(ref)
        return view.rules.notify if view else None
