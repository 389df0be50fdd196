"""What Paastis says about the safe first run: the plan (what it would put to sleep, and when,
with a Start button), and the answers to Start. Pure: data in, `Message` out."""

from __future__ import annotations

from datetime import datetime

from bot.chat.messages import START, Actions, Button, Confirm, Context, Message, Section, app_name, escape, fit, md
from bot.engine.notices import FirstRunPlan, PlannedSleep
from bot.policy.durations import format_duration

LISTED = 40  # apps named in the plan; the rest are counted (Slack's 50 blocks, and a readable post)
START_HINT = "Nothing is put to sleep until an admin clicks *Start* or types `/paastis start`."


def plan_message(plan: FirstRunPlan, now: datetime) -> Message:
    count = len(plan.planned)
    title = f"🧭 First run: I would put {count} app{'s' * (count != 1)} to sleep"
    lines = [_line(p, now) for p in plan.planned[:LISTED]]
    if count > LISTED:
        lines.append(f"… and {count - LISTED} more: `/paastis status` lists every app.")
    if not lines:
        lines.append("No running app would be put to sleep for now.")
    others = [f"{plan.kept} kept up (protected, kept awake, in a keep-awake window)"] if plan.kept else []
    if plan.unmanaged:
        others.append(f"{plan.unmanaged} not managed (ignored, or no web process and no `manage_workers` rule)")
    footer = START_HINT + (f"\n{' · '.join(others)}." if others else "")
    confirm = Confirm(
        "Start Paastis?", "From the next sweep, idle apps are put to sleep as this plan says.", "Start", "Cancel"
    )
    blocks = (
        Section(f"*{title}*"),
        *(Section(piece) for piece in fit(md("\n".join(["{}"] * len(lines)), *lines))),
        Context(footer),
        Actions((Button("Start", START, "start", "primary", confirm=confirm),)),
    )
    return Message(f"{title}. {START_HINT}".replace("*", ""), blocks)


def _line(planned: PlannedSleep, now: datetime) -> str:
    name = md("• *{}*", app_name(planned.label))
    if planned.sleeps_at is None:
        return md("{} — once its activity is read and found idle: {}", name, planned.reason)
    if planned.sleeps_at <= now:
        return md("{} — now: {}", name, planned.reason)
    return md("{} — in {}: {}", name, format_duration(planned.sleeps_at - now), planned.reason)


def started(actor_name: str) -> Message:
    text = md("▶️ *Paastis started* by {}: from the next sweep, idle apps are put to sleep.", actor_name)
    return Message(text.replace("*", ""), (Section(text),))


def already_started(by: str | None, dry_run: bool | None) -> Message:
    if dry_run is True:
        text = "PAASTIS_DRY_RUN is true: Paastis never puts apps to sleep. Unset it, or set it to false, and restart."
    elif dry_run is False:
        text = "Paastis acts from its first sweep (PAASTIS_DRY_RUN is false): there is nothing to start."
    else:
        text = f"Paastis was started already{f' by {by}' if by else ''}."
    return Message(text, (Section(escape(text)),), private=True)
