"""The report: apps awake and asleep per provider, hours slept, money and energy saved,
apps unused for a week, problems. Pure: computed from the catalog, naps and events.

Savings = for each nap overlapping the period, hours asleep × the price per hour of the
formation recorded when the app was put to sleep (and watts × hours for energy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.messages import Block, Context, Header, Message, Section, escape, fit
from bot.policy.catalog import AppView
from bot.policy.durations import format_duration
from bot.policy.pricing import Prices
from bot.store.rows import Event, Nap
from providers.base import AppState

UNUSED_AFTER = timedelta(days=7)
VISITOR = "visit:"  # the actor id of a wake started by a request (bot.engine.actors.visitor)


AWAKE_OR_ASLEEP = {  # an app stopping was put to sleep (the notice said so): asleep, as it soon is
    AppState.RUNNING: "awake",
    AppState.WAKING: "awake",
    AppState.SLEEPING: "asleep",
    AppState.STOPPING: "asleep",
}


@dataclass(frozen=True)
class ProviderCounts:
    awake: int = 0
    asleep: int = 0
    other: int = 0


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    counts: Mapping[str, ProviderCounts]
    hours_slept: float
    money_saved: float
    kwh_saved: float
    slept_apps: int
    woke: int
    wake_failures: Sequence[Event]
    unused: Sequence[str]
    problems: Sequence[str] = field(default_factory=tuple)
    woke_by_visit: int = 0  # of `woke`: started by a request (the proxy, the Sablier API)
    currency: str = "EUR"
    prices_dated: str = ""
    watts: float = 0.0


def build_report(
    views: Sequence[AppView],
    naps: Sequence[Nap],
    events: Sequence[Event],
    health: Mapping[str, Mapping[str, object]],
    prices: Prices,
    start: datetime,
    end: datetime,
    *,
    states: Mapping[tuple[str, AppState], int] | None = None,
    kinds: Mapping[tuple[str, str], str] | None = None,
) -> Report:
    """`views`: every app — or, with `states` (how many apps of each provider are in each
    state) and `kinds` (every app's provider type), only those unused for a week or in
    trouble (bot.store.store.Store.noteworthy)."""
    if states is None:
        states = Counter((v.row.provider, v.state) for v in views)
    counts: dict[str, dict[str, int]] = {}
    for (provider, state), number in sorted(states.items()):
        bucket = counts.setdefault(provider, {"awake": 0, "asleep": 0, "other": 0})
        bucket[AWAKE_OR_ASLEEP.get(state, "other")] += number
    kinds = kinds if kinds is not None else {v.ref: v.kind for v in views}
    hours = money = kwh = 0.0
    napping = set()
    for nap in naps:
        overlap = min(nap.end or end, end) - max(nap.start, start)
        if overlap <= timedelta(0):
            continue
        h = overlap.total_seconds() / 3600
        hours += h
        money += h * prices.per_hour(kinds.get((nap.provider, nap.app_id), nap.provider), nap.formation)
        kwh += h * prices.watts(nap.formation) / 1000
        napping.add((nap.provider, nap.app_id))
    unused = sorted(
        v.label
        for v in views
        if v.managed
        and v.row.first_seen <= end - UNUSED_AFTER
        and (v.row.last_activity is None or v.row.last_activity <= end - UNUSED_AFTER)
    )
    problems = []
    for provider, row in sorted(health.items()):
        if not row.get("ok") and row.get("error"):
            problems.append(f"provider {provider} failing since {row.get('failing_since')}: {row['error']}")
    for view in views:
        if view.row.check_error and view.state is AppState.RUNNING:
            problems.append(f"{view.label}: activity unreadable ({view.row.check_error})")
        if view.state is AppState.CRASHED:
            problems.append(f"{view.label}: crashed ({view.row.problem or 'no reason given'})")
    return Report(
        start=start,
        end=end,
        counts={k: ProviderCounts(**v) for k, v in sorted(counts.items())},
        hours_slept=hours,
        money_saved=money,
        kwh_saved=kwh,
        slept_apps=len(napping),
        woke=sum(1 for e in events if e.action == "woke"),
        woke_by_visit=sum(1 for e in events if e.action == "woke" and e.actor.startswith(VISITOR)),
        wake_failures=[e for e in events if e.action == "wake_failed"],
        unused=unused,
        problems=tuple(problems),
        currency=prices.currency,
        prices_dated=prices.dated,
        watts=prices.watts_per_container,
    )


def report_message(report: Report, tz: ZoneInfo) -> Message:
    day = report.end.astimezone(tz)
    span = _span(report.end - report.start)
    title = f"Paastis report — {day.strftime('%a %d %b %Y')}"
    blocks: list[Block] = [Header(title)]
    lines = []
    for provider, c in report.counts.items():
        other = f" · {c.other} crashed or unknown" if c.other else ""
        lines.append(f"*{escape(provider)}*: {c.awake} awake · {c.asleep} asleep{other}")
    if not lines:
        lines.append("No app discovered yet.")
    blocks.append(Section("\n".join(lines)))
    minutes = round(report.hours_slept * 60)  # app time: hours add up across apps ("302 h", not "12 d 13 h")
    slept = (
        f"{report.hours_slept:.0f} h"
        if minutes >= 60
        else f"{minutes} min"
        if minutes
        else "under a minute"
        if report.hours_slept
        else "0 h"
    )
    saved = (
        f"Over the last {span}: *{slept}* of app time slept ({report.slept_apps} app{'s' * (report.slept_apps != 1)}), "
        f"saving {_amount(report.money_saved, report.currency)} and *{report.kwh_saved:.1f} kWh*. "
        f"{report.woke} wake{'s' * (report.woke != 1)}"
        + (f" ({report.woke_by_visit} by a visit)" if report.woke_by_visit else "")
        + (f", {len(report.wake_failures)} failed." if report.wake_failures else ".")
    )
    blocks.append(Section(saved))
    blocks.append(
        Context(
            f"Prices: {report.prices_dated} table; energy at {report.watts:g} W per container. "
            "Override in paastis.yml `prices:`."
        )
    )
    if report.unused:
        text = "*Unused for 7 days* (candidates for deletion): " + ", ".join(f"`{escape(x)}`" for x in report.unused)
        blocks.extend(Section(p) for p in fit(text))
    if report.problems or report.wake_failures:
        items = [f"• {escape(p)}" for p in report.problems]
        items += [
            f"• wake of {escape(e.app_name or '?')} failed: {escape(e.reason or '')}" for e in report.wake_failures[:10]
        ]
        blocks.extend(Section(p) for p in fit("*Problems*\n" + "\n".join(items)))
    fallback = f"{title}: {slept} slept, saving {_amount(report.money_saved, report.currency)}".replace("*", "")
    return Message(fallback, tuple(blocks))


def _span(span: timedelta) -> str:
    """ "day", "7 days", or the duration when it is not whole days ("Over the last 1 d" reads badly)."""
    if span.days >= 1 and span == timedelta(days=span.days):
        return "day" if span.days == 1 else f"{span.days} days"
    return format_duration(span)


def _amount(money: float, currency: str) -> str:
    """ "about *0.42 EUR*", never "0.00" for a saving that is not nothing."""
    return f"less than *0.01 {currency}*" if 0 < money < 0.005 else f"about *{money:.2f} {currency}*"
