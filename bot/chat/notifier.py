"""Channel notices: the engine's notices rendered and posted where they belong.

Sweep notices and failed wakes go to PAASTIS_CHANNEL, or to the channel a rule's `notify:`
names for that app. Posting never raises into the engine: a Slack outage is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from bot.chat import answers
from bot.chat.messages import Message
from bot.engine.notices import Notice, ProviderRecovered, ProviderTrouble, SweepDone, WakeFailed
from bot.policy.catalog import Catalog
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
        if isinstance(notice, SweepDone):
            return self._sweep(notice)
        if isinstance(notice, WakeFailed):
            channel = self._channel_of(notice.ref)
            return [
                (
                    channel,
                    answers.wake_failed_notice(
                        notice.label, f"{notice.ref[0]}:{notice.ref[1]}", notice.reason, notice.actor_name
                    ),
                )
            ]
        if isinstance(notice, ProviderTrouble):
            return [(None, answers.provider_trouble(notice.provider, notice.error, notice.since, self.clock.now()))]
        if isinstance(notice, ProviderRecovered):
            return [(None, answers.provider_recovered(notice.provider))]
        return []

    def _sweep(self, notice: SweepDone) -> list[tuple[str | None, Message]]:
        report = notice.report
        by_channel: dict[str | None, tuple[list[answers.SleptApp], list[tuple[str, str]]]] = {}
        for outcome in report.of("slept", "would_sleep"):
            channel = self._channel_of(outcome.ref)
            formation = outcome.formation.describe() if outcome.formation else None
            by_channel.setdefault(channel, ([], []))[0].append(
                answers.SleptApp(outcome.label, f"{outcome.ref[0]}:{outcome.ref[1]}", outcome.reason, formation)
            )
        for outcome in report.of("sleep_failed"):
            by_channel.setdefault(self._channel_of(outcome.ref), ([], []))[1].append((outcome.label, outcome.reason))
        posts = []
        for channel, (slept, failures) in by_channel.items():
            for message in answers.sweep_notice(slept, failures, dry_run=report.dry_run):
                posts.append((channel, message))
        return posts

    def _channel_of(self, ref: tuple[str, str]) -> str | None:
        view = self.catalog().get(ref)
        return view.rules.notify if view else None
