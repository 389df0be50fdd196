"""The questions Paastis asks before acting, each with the button that answers it. Pure.

wake_protected(view)        a protected app someone asked to wake: a Wake button
sleep_group(view, others)   one member of a sleep-together group: a Sleep button that puts
                            the whole group to sleep, its confirmation naming every member
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat.answers import app_buttons
from bot.chat.messages import WAKE, Button, Message, Section, app_name, md
from bot.policy.catalog import AppView


def wake_protected(view: AppView) -> Message:
    text = md("*{}* is protected by the rules. Wake it anyway?", app_name(view.label))
    button = Button("Wake", WAKE, view.value, "primary")  # the click is the confirmation
    return Message(text.replace("*", ""), (Section(text, button),), private=True)


def sleep_group(view: AppView, others: Sequence[AppView]) -> Message:
    names = [other.label for other in others]
    text = md(
        "*{}* sleeps together with {} (they share their activity: one asleep would leave the other "
        "calling it). Put the group to sleep?",
        app_name(view.label),
        ", ".join(names),
    )
    button, _ = app_buttons(view, names)  # Sleep, its confirmation naming every member
    return Message(text.replace("*", ""), (Section(text, button),), private=True)
