"""The hosted Home tab: the workspace's provider connections and plan, above its Paastis's
dashboard (`workspace_home`, the `dashboard` seam of bot.slack.listeners.Listeners, so a click
on the Home tab republishes all of it), and the same two messages as answers to
`/paastis connections` and `/paastis plan`."""

from __future__ import annotations

from typing import Any

from bot.chat.messages import Actions, Button, Confirm, Context, Divider, Header, Message, Section, md
from bot.hosted import modals
from bot.hosted.monitored import split
from bot.hosted.plans import plan
from bot.hosted.registry import Registry
from bot.slack.blocks import MAX_HOME_BLOCKS, render_blocks

CONNECT, REPLACE, REMOVE, SETTINGS = "hosted.connect", "hosted.replace", "hosted.remove", "hosted.settings"


def workspace_home(offered: tuple[str, ...], registry: Registry, team_id: str, dashboard: Message | None) -> Message:
    """The connections and the plan, then the dashboard (None: nothing connected yet), cut
    to what the Home tab holds."""
    blocks = [*connections_message(offered, registry, team_id).blocks, *plan_message(registry, team_id).blocks]
    if dashboard is not None:
        blocks += [Divider(), *dashboard.blocks]
    while len(render_blocks(Message("", tuple(blocks)))) > MAX_HOME_BLOCKS:
        blocks.pop()
    return Message("Paastis", tuple(blocks))


def connections_message(offered: tuple[str, ...], registry: Registry, team_id: str) -> Message:
    ws = registry.workspace(team_id)
    found = registry.connections(team_id)
    limits = plan(ws.plan if ws else "free")
    blocks: list[Any] = [Header("Provider connections")]
    for c in found:
        remove = Button(
            "Remove",
            REMOVE,
            c.name,
            "danger",
            confirm=Confirm(f"Remove {c.name}?"[:100], "Paastis stops managing its apps. Apps asleep stay asleep."),
        )
        blocks.append(
            Section(md("*{}* · {} · credentials ending …{} · since {}", c.name, c.kind, c.hint, c.created_at[:10]))
        )
        blocks.append(Actions((Button("Replace", REPLACE, c.name), remove)))
    if not found:
        blocks.append(Section("No provider connected yet."))
    blocks.append(Context(md("Plan {}: {} connections", limits.name, limits.providers_text(len(found)))))
    blocks.append(Actions(tuple(Button(f"Connect {modals.label(k)}", CONNECT, k) for k in offered)))
    return Message(f"{len(found)} provider connection(s)", tuple(blocks), private=True)


def plan_message(registry: Registry, team_id: str) -> Message:
    ws = registry.workspace(team_id)
    limits = plan(ws.plan if ws else "free")
    names = frozenset(c.name for c in registry.connections(team_id))
    monitored, others = split(registry.known_apps(team_id), limits.max_apps, names)
    note = f" ({ws.note} offer)" if ws and ws.note else ""
    lines = [
        md(
            "*Plan {}*{} · apps {}/{} · providers {}",
            limits.name,
            note,
            len(monitored),
            limits.max_apps,
            limits.providers_text(len(names)),
        ),
        md("Monitored: {}", ", ".join(a.name for a in monitored) or "none yet"),
    ]
    asleep = [a.name for a in others if a.shown]  # kept by MonitoredProvider until woken
    left_out = [a.name for a in others if not a.shown]
    if asleep:
        lines.append(md("Over the limit but asleep, kept until woken: {}", ", ".join(asleep)))
    if left_out:
        lines.append(md("Not monitored (plan limit: {}): {}", limits.max_apps, ", ".join(left_out)))
    hint = "Choose with /paastis monitor <app> and /paastis unmonitor <app>."
    return Message(lines[0], (*(Section(line) for line in lines), Context(hint)), private=True)
