"""What Paastis answers and posts, built from domain data. Pure: no I/O, `now` passed in.

Every builder returns `Message`s that fit Slack's limits (50 blocks, 3000 characters per
section); long lists are paginated with buttons, never cut silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.messages import (
    KEEP,
    MAX_BLOCKS,
    OPEN,
    PAGE,
    SLEEP,
    UNKEEP,
    WAKE,
    Actions,
    Block,
    Button,
    Confirm,
    Context,
    Header,
    Message,
    Mrkdwn,
    Section,
    app_name,
    at,
    escape,
    fit,
    md,
)
from bot.engine.wake_jobs import Phase, TicketProgress
from bot.policy.catalog import AppsPage, AppView, Catalog
from bot.policy.durations import format_ago, format_duration
from bot.policy.idle import Verdict
from bot.store.rows import Event, Failure
from providers.base import AppState, BudgetSnapshot

Budgets = Mapping[str, BudgetSnapshot | None]  # by provider name; None: no budget

ICONS = {
    AppState.RUNNING: "🟢",
    AppState.SLEEPING: "💤",
    AppState.WAKING: "⏳",
    AppState.STOPPING: "🌙",
    AppState.CRASHED: "🔴",
    AppState.UNKNOWN: "❔",
}
STATE_WORDS = {AppState.STOPPING: "going to sleep"}  # what the notice said: "Put … to sleep"
FIRST_CHECK_WITHIN = timedelta(minutes=1)  # the observe job's cadence (bot.engine.jobs.JobTimes)
STATUS_PAGE_SIZE = 20  # apps per status message: 2 blocks each, within 50 blocks
HOME_PAGE_SIZE = 40  # within the Home tab's 100 blocks


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    size: int
    filter: str = ""


# -- one app -----------------------------------------------------------------------------


def app_line(view: AppView, now: datetime, tz: ZoneInfo, *, catalog: Catalog | None = None) -> str:
    """`*hello* · 🟢 running · last activity 3 min ago · sleeps in 12 min`; when the time to
    sleep counts from something else than the app's own activity, it says what (`catalog`:
    where to find the other apps of its group)."""
    state = STATE_WORDS.get(view.state, view.state.value)
    parts = [md("*{}*", app_name(view.label)), f"{ICONS[view.state]} {state}"]
    row = view.row
    if view.state is AppState.SLEEPING and row.recorded_formation:
        parts.append(f"restores {row.recorded_formation.describe()}")
    if view.state is AppState.CRASHED and row.problem:
        parts.append(escape(row.problem))
    if view.state is AppState.RUNNING:
        if view.managed and row.last_activity:
            parts.append(f"last activity {format_ago(row.last_activity, now)}")
        parts.extend(_idle_since(view, now, tz, catalog))
        parts.append(_why(view, now, tz))
    if row.check_error and view.state is AppState.RUNNING:
        since = at(row.check_failed_at, now, tz) if row.check_failed_at else "now"
        parts.append(md("⚠️ activity unreadable since {} ({}): stays up", since, row.check_error))
    return Mrkdwn(" · ").join(p for p in parts if p)


def _idle_since(view: AppView, now: datetime, tz: ZoneInfo, catalog: Catalog | None) -> list[Mrkdwn]:
    """What the time to sleep counts from, when it is not the app's own last activity: the
    group member used last, or the moment Paastis began watching the app."""
    decision, own = view.decision, view.row.last_activity
    if decision.verdict is not Verdict.KEEP or decision.sleeps_at is None:
        return []
    since = decision.sleeps_at - view.rules.idle_timeout
    if own is not None and since - own <= timedelta(seconds=1):
        return []
    members = [catalog.get(ref) for ref in view.group if ref != view.ref] if catalog else []
    user = next((m for m in members if m and m.row.last_activity == since), None)
    if user is not None:
        return [md("its group was used {} ({})", format_ago(since, now), app_name(user.label))]
    if len(view.group) > 1 and catalog is None:
        return [md("its group was used {}", format_ago(since, now))]
    return [md("watched since {}", at(since, now, tz))]


def _why(view: AppView, now: datetime, tz: ZoneInfo) -> str:
    decision = view.decision
    if not view.managed:
        return f"not managed: {view.rules.ignored}"
    if view.keep and view.keep.until > now:
        reason = md(" ({})", view.keep.reason) if view.keep.reason else ""
        return md("kept awake until {} by {}{}", at(view.keep.until, now, tz), view.keep.by_name, reason)
    if view.failure is not None:
        return sleep_failure(view.failure, now, tz)
    if decision.verdict is Verdict.KEEP and decision.sleeps_at:
        if decision.sleeps_at <= now:  # a future event is never shown in the past
            return "due to sleep at the next sweep"
        return f"sleeps in {format_duration(decision.sleeps_at - now)} if unused"
    if decision.verdict is Verdict.SLEEP:
        return f"goes to sleep at the next sweep ({decision.reason})"
    return _first_check(view, now, tz) or decision.reason


def _first_check(view: AppView, now: datetime, tz: ZoneInfo) -> Mrkdwn | None:
    """An app whose activity was never read: when it will be (the observe job's next runs,
    budget permitting; a short budget shows in the status header)."""
    row = view.row
    if view.decision.verdict is not Verdict.CHECK or row.checked_at or row.check_error:
        return None
    by = (now + FIRST_CHECK_WITHIN + timedelta(seconds=59)).replace(second=0, microsecond=0)
    return md("activity: first check by {}", at(by, now, tz))


def sleep_failure(failure: Failure, now: datetime, tz: ZoneInfo) -> str:
    """`⚠️ sleep failed 10 times since 12:21: Scalingo answered 500; next try 12:52`"""
    times = "once" if failure.count == 1 else f"{failure.count} times"
    next_try = failure.next_try_at
    when = at(next_try, now, tz) if next_try and next_try > now else "at the next sweep"
    return md("⚠️ sleep failed {} since {}: {}; next try {}", times, at(failure.first_at, now, tz), failure.reason, when)


def app_buttons(view: AppView, group: Sequence[str] = ()) -> tuple[Button | None, tuple[Button, ...]]:
    """The main button beside an app, and the others in a row below it. `group`: the other
    running members of its sleep-together group, whom its Sleep puts to sleep too (named)."""
    value = view.value
    if view.state in (AppState.SLEEPING, AppState.CRASHED, AppState.UNKNOWN, AppState.STOPPING):
        confirm = None
        if view.rules.protected:
            confirm = Confirm(
                "Wake a protected app?", f"{view.label} is protected by the rules. Wake it anyway?", "Wake it"
            )
        return Button("Wake", WAKE, value, "primary", confirm=confirm), ()
    if view.state is AppState.WAKING:
        return None, ()
    others: list[Button] = []
    if view.managed:
        if view.keep:
            others.append(Button("Unkeep", UNKEEP, value))
        else:
            others.append(Button("Keep 2h", KEEP, value))
    if view.row.url:
        others.append(Button("Open", OPEN, value, url=view.row.url))
    main = None
    if view.managed and not view.rules.protected:
        names = ", ".join((view.label, *group))
        together = " (they sleep together)" if group else ""
        main = Button(
            "Sleep", SLEEP, value, confirm=Confirm("Put to sleep?", f"Put {names} to sleep now?{together}", "Sleep")
        )
    return main, tuple(others)


def _running_members(view: AppView, group: Sequence[AppView]) -> list[str]:
    return [g.label for g in group if g.ref != view.ref and g.state is AppState.RUNNING]


def app_blocks(view: AppView, now: datetime, tz: ZoneInfo, *, catalog: Catalog | None = None) -> list[Block]:
    main, others = app_buttons(view, _running_members(view, catalog.members(view) if catalog else []))
    blocks: list[Block] = [Section(app_line(view, now, tz, catalog=catalog), main)]
    if others:
        blocks.append(Actions(others))
    return blocks


# -- status ------------------------------------------------------------------------------


def status(
    views: Sequence[AppView],
    now: datetime,
    tz: ZoneInfo,
    *,
    page: Page = Page(1, STATUS_PAGE_SIZE),
    budgets: Budgets | None = None,
    title: str = "Paastis status",
    max_blocks: int = MAX_BLOCKS,
    catalog: Catalog | None = None,
) -> Message:
    """Apps grouped by provider with state, last activity, time until sleep and buttons.

    A page holds at most `page.size` apps and `max_blocks` blocks (provider headings and
    button rows included), so many providers never push a page past Slack's limit."""
    bounds = _pages(views, page.size, max_blocks - 4)  # 4: title, summary, page line, buttons
    number = min(max(page.number, 1), len(bounds))
    start, end = bounds[number - 1]
    listing = AppsPage(
        list(views[start:end]), catalog, Counter(v.state for v in views), len(views), number, len(bounds), start
    )
    return status_page(listing, now, tz, text_filter=page.filter, budgets=budgets, title=title, max_blocks=max_blocks)


def status_page(
    listing: AppsPage,
    now: datetime,
    tz: ZoneInfo,
    *,
    text_filter: str = "",
    budgets: Budgets | None = None,
    title: str = "Paastis status",
    max_blocks: int = MAX_BLOCKS,
) -> Message:
    """One page of `status`: the apps shown, and the counts of the whole list by state."""
    shown, states, total, catalog = listing.shown, listing.states, listing.total, listing.catalog
    number, pages, start, end = listing.number, listing.pages, listing.start, listing.start + len(shown)
    running, asleep, stopping = (states.get(s, 0) for s in (AppState.RUNNING, AppState.SLEEPING, AppState.STOPPING))
    summary = f"{total} app{'s' * (total != 1)} · {running} running · {asleep} asleep"
    if stopping:
        summary += f" · {stopping} going to sleep"
    if text_filter:
        summary = f"`{escape(text_filter)}`: {summary}"
    blocks: list[Block] = [Header(title), Context(summary + _budget_text(budgets))]
    if not total:
        hint = "No app matches." if text_filter else "No app discovered yet: the first discovery runs at start-up."
        blocks.append(Section(hint))
    provider = None
    for view in shown:
        if view.row.provider != provider:
            provider = view.row.provider
            blocks.append(Context(f"*{escape(provider)}* ({view.kind})"))
        blocks.extend(app_blocks(view, now, tz, catalog=catalog))
    if pages > 1:
        first, last = start + 1, end
        nav = []
        if number > 1:
            nav.append(Button("◂ Previous", PAGE, f"{number - 1}|{text_filter}"))
        if number < pages:
            nav.append(Button("Next ▸", PAGE, f"{number + 1}|{text_filter}"))
        blocks.append(Context(f"Page {number} of {pages} · apps {first}–{last} of {total}"))
        blocks.append(Actions(tuple(nav)))
    assert len(blocks) <= max_blocks, "a status page must fit in one message"
    return Message(f"{summary} (page {number} of {pages})" if pages > 1 else summary, tuple(blocks))


def _pages(views: Sequence[AppView], size: int, budget: int) -> list[tuple[int, int]]:
    """Where each page starts and ends: at most `size` apps and `budget` blocks a page."""
    bounds: list[tuple[int, int]] = []
    start, used, provider = 0, 0, None
    for index, view in enumerate(views):
        blocks = 1 + bool(app_buttons(view)[1])  # as app_blocks, without writing the text
        cost = blocks + (view.row.provider != provider)
        if index > start and (index - start >= size or used + cost > budget):
            bounds.append((start, index))
            start, used = index, 0
            cost = blocks + 1  # a page starts with its provider's heading
        used += cost
        provider = view.row.provider
    bounds.append((start, len(views)))
    return bounds


def _budget_text(budgets: Budgets | None) -> str:
    """A provider's API budget, only when it changes what Paastis does: rate-limited, or
    so busy that activity checks wait (the counts themselves are for the logs)."""
    parts = []
    for name, budget in sorted((budgets or {}).items()):
        if budget is None:
            continue
        if budget.throttled_until:
            parts.append(f"{name} API rate-limited: backing off")
        elif budget.spare == 0:
            parts.append(f"{name} API near its limit: activity checks wait")
    return "".join(f" · {p}" for p in parts)


def app_detail(view: AppView, group: Sequence[AppView], now: datetime, tz: ZoneInfo) -> Message:
    """`/paastis status app`: why it is awake or when it will sleep, its rules and group."""
    row = view.row
    lines = [app_line(view, now, tz, catalog=Catalog(group))]
    facts: list[str] = [
        f"Provider: `{escape(row.provider)}` ({view.kind}) · id `{escape(row.app_id)}`",
        f"Idle timeout: {format_duration(view.rules.idle_timeout)}",
        f"Decision: {view.decision.verdict.value} — {_first_check(view, now, tz) or escape(view.decision.reason)}",
    ]
    if view.decision.sleeps_at and view.state is AppState.RUNNING:
        if view.decision.sleeps_at > now:
            facts.append(md("Sleeps at: {} unless it is used", at(view.decision.sleeps_at, now, tz)))
        else:  # overdue: the moment it became due, never a promise in the past
            facts.append(md("Sleep due since {}", at(view.decision.sleeps_at, now, tz)))
    if row.checked_at:
        facts.append(f"Activity checked: {format_ago(row.checked_at, now)}")
    if row.recorded_formation:
        facts.append(f"Formation restored at wake: {row.recorded_formation.describe()}")
    if view.rules.matched:
        facts.append(f"Rules: {', '.join(f'#{i}' for i in view.rules.matched)} of paastis.yml")
    if view.rules.protected:
        facts.append("Protected: never put to sleep; waking it asks for confirmation")
    if view.rules.schedule:
        state = view.schedule
        where = ""
        if state and state.keep_window:
            where = f" — inside keep-awake window {state.keep_window}"
        elif state and state.forced_since:
            where = f" — inside forced-sleep window {state.forced_window}"
        facts.append(f"Schedule: `{escape(view.rules.schedule)}`{where}")
    others = [g for g in group if g.ref != view.ref]
    if others:
        facts.append(
            "Group (share activity, sleep together): "
            + ", ".join(f"{app_name(g.label)} {ICONS[g.state]}" for g in others)
        )
    main, buttons = app_buttons(view, _running_members(view, group))
    blocks: list[Block] = [Section(Mrkdwn("\n").join(lines), main), Context(Mrkdwn("\n").join(facts))]
    if buttons:
        blocks.append(Actions(buttons))
    return Message(md("{}: {}", app_name(view.label), view.state.value), tuple(blocks))


# -- wake, sleep, keep -------------------------------------------------------------------


def wake_progress(progress: TicketProgress, value: str) -> Message:
    main = progress.main
    label = app_name(main.label)
    seconds = format_duration(progress.elapsed)
    linked = ""
    if progress.linked:
        linked = " with " + ", ".join(f"{app_name(s.label)} {_phase_icon(s.phase)}" for s in progress.linked)
    phase = progress.phase
    if phase is Phase.UP:
        if main.already_up and not progress.linked:
            text = f"✅ *{label}* is already up"
        else:
            text = f"✅ *{label}* is up in {seconds}{linked}"
        button = Button("Open", OPEN, value, url=main.url) if main.url else None
        return Message(text.replace("*", ""), (Section(text, button),))
    if phase is Phase.FAILED:
        failed = next(s for s in (main, *progress.linked) if s.phase is Phase.FAILED)
        who = "" if failed is main else f" ({app_name(failed.label)})"
        text = f"❌ Waking *{label}*{who} failed: {escape(failed.reason or 'unknown reason')}"
        return Message(text.replace("*", ""), (Section(text, Button("Retry", WAKE, value, "primary")),))
    text = f"⏳ Waking *{label}* ({seconds}){linked}"
    notes = []
    if progress.joined:
        notes.append("Someone already asked: following that wake.")
    if progress.slow:
        notes.append("Redeploys on this provider can take a few minutes.")
    blocks: list[Block] = [Section(text)]
    if notes:
        blocks.append(Context(" ".join(notes)))
    return Message(text.replace("*", ""), tuple(blocks))


def _phase_icon(phase: Phase) -> str:
    return {Phase.WAKING: "⏳", Phase.UP: "✅", Phase.FAILED: "❌"}[phase]


def slept(label: str, formation: str | None, dry_run: bool = False) -> Message:
    if dry_run:
        text = f"🧪 Dry run: *{app_name(label)}* would have been put to sleep (PAASTIS_DRY_RUN is on)"
    else:
        restore = f" · {formation} will be restored at wake" if formation else ""
        text = f"💤 *{app_name(label)}* is going to sleep{restore}"
    return Message(text.replace("*", ""), (Section(text),))


def kept(view: AppView, until: datetime, now: datetime, tz: ZoneInfo) -> Message:
    text = md(
        "📌 *{}* stays awake until {} ({}); then its idle timeout applies again.",
        app_name(view.label),
        at(until, now, tz),
        format_duration(_to_the_minute(until - now)),
    )
    return Message(text.replace("*", ""), (Section(text, Button("Unkeep", UNKEEP, view.value)),))


def _to_the_minute(span: timedelta) -> timedelta:
    """`keep 2h` answered a few seconds later is still 2 h, not "1 h 59 min"."""
    return span if span < timedelta(minutes=1) else timedelta(minutes=round(span.total_seconds() / 60))


def unkept(view: AppView, dropped: bool) -> Message:
    if dropped:
        text = f"📍 *{app_name(view.label)}* is no longer kept awake: its idle timeout applies again."
    else:
        text = f"*{app_name(view.label)}* was not kept awake: nothing to undo."
    return Message(text.replace("*", ""), (Section(text),))


# -- channel notices ---------------------------------------------------------------------


@dataclass(frozen=True)
class SleptApp:
    label: str
    value: str
    reason: str
    formation: str | None


def sweep_notice(
    slept_apps: Sequence[SleptApp], *, dry_run: bool, would_sleep: int = 0, per_message: int = 45
) -> list[Message]:
    """One notice per sweep that slept (split only past Slack's limits), a Wake button per
    app; nothing when nothing slept. What failed is told apart, once (failing_notice).
    A dry run lists the apps that newly would sleep (`would_sleep`: how many would, in all)."""
    count = len(slept_apps)
    apps = f"app{'s' * (count != 1)}"
    if dry_run and would_sleep > count:
        title = f"🧪 Dry run: {count} more {apps} would be put to sleep ({would_sleep} in all)"
    elif dry_run:
        title = f"🧪 Dry run: would put {count} {apps} to sleep"
    else:
        title = f"💤 Put {count} app{'s' * (count != 1)} to sleep"
    chunks = [slept_apps[i : i + per_message] for i in range(0, count, per_message)]
    messages = []
    for index, chunk in enumerate(chunks):
        numbered = f"{title} ({index + 1}/{len(chunks)})" if len(chunks) > 1 else title
        blocks: list[Block] = [Section(f"*{numbered}*")]
        for app in chunk:
            restore = f" · {app.formation}" if app.formation else ""
            button = None if dry_run else Button("Wake", WAKE, app.value, "primary")
            blocks.append(Section(f"*{app_name(app.label)}* — {escape(app.reason)}{restore}", button))
        messages.append(Message(numbered, tuple(blocks)))
    return messages


def wake_failed_notice(
    label: str, value: str, reason: str, actor_name: str, *, failures: int = 1, since: str = ""
) -> Message:
    """`failures` in a row (`since`: how long): told when wakes start failing, then at most every 6 h."""
    text = f"❌ Waking *{app_name(label)}* (asked by {escape(actor_name)}) failed: {escape(reason)}"
    if failures > 1:
        text += f"\nWakes of it have failed {failures} times in {since}; the channel is told again in 6 h at most."
    return Message(text.replace("*", ""), (Section(text, Button("Retry", WAKE, value, "primary")),))


def failing_notice(kind: str, label: str, reason: str, *, failures: int, since: str, next_try: str | None) -> Message:
    """Something keeps failing for an app (`kind`: sleep or hook:<event>); `since` and
    `next_try` are durations in words. Told when it starts, then at most every 6 h."""
    what = "Putting *{}* to sleep" if kind == "sleep" else f"The {kind.partition(':')[2]} hook of *{{}}*"
    subject = what.format(escape(label))
    retry = f" Next try in {next_try}, then less and less often (at most hourly)." if next_try else ""
    if failures == 1:
        text = f"⚠️ {subject} failed: {escape(reason)}\n"
        text += ("It stays up." if kind == "sleep" else "") + retry
        text += " The channel hears again only if it still fails in 6 h, and when it works."
    else:
        text = f"⚠️ {subject} still fails: {failures} times in {since}. Last: {escape(reason)}"
        text += f"\nNext try in {next_try}." if next_try else ""
    return Message(text.replace("*", ""), tuple(Section(p) for p in fit(text.strip())))


def recovered_notice(kind: str, label: str, *, failures: int, since: str) -> Message:
    done = {"sleep": "is asleep now", "wake": "woke fine"}.get(kind, f"ran its {kind.partition(':')[2]} hook fine")
    text = f"✅ *{escape(label)}* {done}, after {failures} failure{'s' * (failures != 1)} in {since}."
    return Message(text.replace("*", ""), (Section(text),))


def sleeps_reconciled(finished: Sequence[str], rolled_back: Sequence[str]) -> Message:
    """At start, the sleeps a crash interrupted: finished, or rolled back."""
    lines = ["♻️ Paastis restarted in the middle of putting apps to sleep."]
    if finished:
        lines.append("Asleep (recorded now): " + ", ".join(f"*{escape(x)}*" for x in finished))
    if rolled_back:
        lines.append("Still up (the next sweep decides again): " + ", ".join(f"*{escape(x)}*" for x in rolled_back))
    text = "\n".join(lines)
    return Message(text.replace("*", ""), tuple(Section(p) for p in fit(text)))


def store_trouble(error: str, since: datetime, now: datetime) -> Message:
    text = (
        f"🛑 Paastis cannot write its database for {format_duration(now - since)}: {escape(error)}\n"
        "Nothing is put to sleep or recorded until it can (a full disk? free some space)."
    )
    return Message(text.replace("*", ""), tuple(Section(p) for p in fit(text)))


def store_recovered() -> Message:
    text = "✅ Paastis can write its database again: back to work."
    return Message(text, (Section(text),))


def provider_trouble(provider: str, error: str, since: datetime, now: datetime) -> Message:
    text = (
        f"⚠️ Provider *{escape(provider)}* has been failing for {format_duration(now - since)}: {escape(error)}\n"
        "Its apps are not put to sleep while their activity cannot be read."
    )
    return Message(text.replace("*", ""), tuple(Section(p) for p in fit(text)))


def provider_recovered(provider: str) -> Message:
    text = f"✅ Provider *{escape(provider)}* answers again."
    return Message(text.replace("*", ""), (Section(text),))


# -- log, help, errors -------------------------------------------------------------------

EVENT_ICONS = {
    "slept": "💤",
    "woke": "✅",
    "wake_failed": "❌",
    "sleep_failed": "⚠️",
    "would_sleep": "🧪",
    "kept": "📌",
    "unkept": "📍",
    "discovered": "🆕",
    "provider_error": "⚠️",
    "hook_failed": "⚠️",
}


def event_log(events: Sequence[Event], now: datetime, tz: ZoneInfo, *, about: str | None = None) -> Message:
    title = f"Recent events of {about}" if about else "Recent events"
    if not events:
        return Message(f"{title}: none yet", (Header(title), Section("Nothing recorded yet.")))
    lines = []
    for event in events:
        icon = EVENT_ICONS.get(event.action, "•")
        app = md("*{}* ", app_name(event.app_name)) if event.app_name else ""
        if not app and event.provider:
            app = md("*{}* ", event.provider)
        who = "Paastis" if event.actor == "paastis" else (event.actor_name or event.actor)
        if event.actor.startswith("cli:"):  # `paastis wake …`: $USER, or no name at all
            who = "the command line" if event.actor == "cli:cli" else f"{who} (command line)"
        took = f" in {format_duration(_ms(event.duration_ms))}" if event.duration_ms else ""
        told = event.reason and event.reason != f"asked by {event.actor_name}"  # "slept by you — asked by you"
        reason = md(" — {}", event.reason) if told else ""
        action = event.action.replace("_", " ")
        lines.append(md("{} {} {}{} by {}{}{}", at(event.at, now, tz), icon, app, action, who, took, reason))
    blocks: list[Block] = [Header(title)]
    blocks.extend(Section(piece) for piece in fit(Mrkdwn("\n").join(lines)))
    return Message(f"{title}: {len(events)}", tuple(blocks))


def _ms(ms: int) -> timedelta:
    return timedelta(milliseconds=ms)


HELP = (
    "*/paastis status* [filter] — apps, their state, last activity and when they sleep\n"
    "*/paastis status* <app> — why an app is awake, or when it will sleep\n"
    "*/paastis wake* <app> — wake an app (and the apps it links to)\n"
    "*/paastis sleep* <app> — put an app to sleep now (admins)\n"
    "*/paastis keep* <app> [2h | until 18:00] — keep an app awake for a while (admins)\n"
    "*/paastis unkeep* <app> — let its idle timeout apply again (admins)\n"
    "*/paastis log* [app] — what Paastis did, who asked, why\n"
    "*/paastis report* — what slept, what woke, what it saved\n"
    "*/paastis start* — after the first run's plan, let Paastis put idle apps to sleep (admins)\n"
    "*/paastis help* — this help"
)


def help_message(problem: str | None = None) -> Message:
    blocks: list[Block] = []
    if problem:
        blocks.append(Section(f"⚠️ {problem}"))
    blocks += [Header("Paastis commands"), Section(HELP)]
    return Message(problem or "Paastis commands", tuple(blocks))


def error(text: str) -> Message:
    """A refusal or a problem: for whoever asked only."""
    return Message(f"⚠️ {text}", (Section(f"⚠️ {text}"),), private=True)
