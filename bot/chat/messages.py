"""Messages as plain data: what Paastis says, rendered twice — as text in the terminal
demo and the CLI (`bot.chat.plain_text`), as Block Kit in Slack — so both always say the same.

A `Message` is a fallback `text` (notifications, screen readers) and a few block kinds
that map one-to-one onto Block Kit: Header, Section (with at most one button beside it),
Actions (a row of buttons), Context (small print) and Divider. Text uses Slack's mrkdwn
subset: *bold*, _italic_, `code`, <https://url|label>.
"""

from __future__ import annotations

from dataclasses import dataclass

# action ids of the buttons; the Slack listeners and the demo handle exactly these
WAKE = "paastis.wake"
SLEEP = "paastis.sleep"
KEEP = "paastis.keep"
UNKEEP = "paastis.unkeep"
PAGE = "paastis.page"
OPEN = "paastis.open"  # a link button: Slack still reports the click, we only acknowledge it
ACTIONS = (WAKE, SLEEP, KEEP, UNKEEP, PAGE, OPEN)

MAX_BLOCKS = 50  # per message
MAX_HOME_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_LABEL = 75


@dataclass(frozen=True)
class Confirm:
    title: str
    text: str
    ok: str = "Yes"
    cancel: str = "Cancel"


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    value: str = ""
    style: str | None = None  # "primary" | "danger"
    url: str | None = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Section:
    text: str
    button: Button | None = None


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Context:
    text: str


@dataclass(frozen=True)
class Divider:
    pass


Block = Header | Section | Actions | Context | Divider


@dataclass(frozen=True)
class Message:
    text: str
    blocks: tuple[Block, ...] = ()

    def buttons(self) -> list[Button]:
        found: list[Button] = []
        for block in self.blocks:
            if isinstance(block, Section) and block.button:
                found.append(block.button)
            elif isinstance(block, Actions):
                found.extend(block.buttons)
        return found


def plain(text: str) -> Message:
    return Message(text, (Section(text),))


def fit(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split `text` on line boundaries into pieces that fit in a section: never truncated."""
    pieces, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def escape(text: str) -> str:
    """Make user-controlled text inert in mrkdwn (names can't forge links or mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
