"""Messages as plain data: what Paastis says, rendered twice — as text in the terminal
demo and the CLI (`bot.chat.plain_text`), as Block Kit in Slack — so both always say the same.

A `Message` is a fallback `text` (notifications, screen readers) and a few block kinds
that map one-to-one onto Block Kit: Header, Section (with at most one button beside it),
Actions (a row of buttons), Context (small print) and Divider. Text uses Slack's mrkdwn
subset: *bold*, _italic_, `code`, and date tokens (`at`). A `private` message is for
whoever asked only (a refusal, "already up"): Slack answers it ephemerally.

Escaping, in one place and by construction: the text of a message, a section or a context
is a `Mrkdwn`, a string that can only be built escaped — `<`, `>` and `&` of any name or
reason become entities, so an app called `<!channel>` is shown, never broadcast. A plain
`str` given to them is escaped on the way in (escaping is idempotent: text a builder
escaped already stays as it is); `md()` composes; `at()` is the one kind of markup Paastis
writes itself, a Slack date token.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.policy.durations import format_moment

# action ids of the buttons; the Slack listeners and the demo handle exactly these
WAKE = "paastis.wake"
SLEEP = "paastis.sleep"
KEEP = "paastis.keep"
UNKEEP = "paastis.unkeep"
PAGE = "paastis.page"
OPEN = "paastis.open"  # a link button: Slack still reports the click, we only acknowledge it
START = "paastis.start"  # the first run's plan: begin the sweeps
ACTIONS = (WAKE, SLEEP, KEEP, UNKEEP, PAGE, OPEN, START)

MAX_BLOCKS = 50  # per message
MAX_HOME_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_NAME = 100  # an app's name in a sentence: longer ones are shortened with "…"


# -- mrkdwn, escaped by construction -------------------------------------------------------

_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")


class Mrkdwn(str):
    """Text safe to show as mrkdwn: whatever came from people or providers is escaped.

    `Mrkdwn(text)` escapes; `md(template, *parts)` escapes the template and every part
    that is not already Mrkdwn; `+` keeps it Mrkdwn. Only `at()` writes markup."""

    __slots__ = ()

    def __new__(cls, text: object = "") -> Mrkdwn:
        if isinstance(text, Mrkdwn):
            return text
        raw = str(text)
        return str.__new__(cls, _BARE_AMPERSAND.sub("&amp;", raw).replace("<", "&lt;").replace(">", "&gt;"))

    @classmethod
    def _markup(cls, text: str) -> Mrkdwn:  # Slack markup written by this module, never from outside
        return str.__new__(cls, text)

    def __add__(self, other: object) -> Mrkdwn:
        return Mrkdwn._markup(str.__add__(self, Mrkdwn(other)))

    def __radd__(self, other: object) -> Mrkdwn:
        return Mrkdwn._markup(str.__add__(Mrkdwn(other), self))

    def join(self, parts: Iterable[object]) -> Mrkdwn:  # type: ignore[override]
        return Mrkdwn._markup(str.join(self, [Mrkdwn(p) for p in parts]))

    def replace(self, old: str, new: str, count: int = -1) -> Mrkdwn:  # type: ignore[override]
        return Mrkdwn._markup(str.replace(self, old, Mrkdwn(new), count))


def escape(text: object) -> Mrkdwn:
    """Make user- or provider-supplied text inert in mrkdwn (names can't forge links or mentions)."""
    return Mrkdwn(text)


def md(template: str, *parts: object) -> Mrkdwn:
    """`template` with `{}` filled by `parts`, each escaped unless it is Mrkdwn already."""
    return Mrkdwn._markup(str.format(Mrkdwn(template), *(Mrkdwn(p) for p in parts)))


def app_name(label: str) -> Mrkdwn:
    """An app's name in a sentence: escaped, and shortened past `MAX_NAME` characters."""
    return Mrkdwn(label if len(label) <= MAX_NAME else label[: MAX_NAME - 1] + "…")


def at(moment: datetime, now: datetime, tz: ZoneInfo) -> Mrkdwn:
    """A moment with its time zone: Slack shows a date token in each reader's own zone; the
    fallback (the terminal, notifications) is the team's time and zone: `18:00 CET`."""
    local = moment.astimezone(tz)
    shown = f"{format_moment(moment, now, tz)} {local.tzname() or tz.key}"
    same_day = local.date() == now.astimezone(tz).date()
    token = "{time}" if same_day else "{date_short_pretty} {time}"
    return Mrkdwn._markup(f"<!date^{int(moment.timestamp())}^{token}|{Mrkdwn(shown)}>")


def fitted_value(value: str) -> str:
    """A button's value within Slack's 2000 characters: itself, or `#` and its digest
    (`Chatops` finds the app whose value has that digest)."""
    if len(value) <= MAX_BUTTON_VALUE:
        return value
    return "#" + hashlib.sha256(value.encode()).hexdigest()


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
    text: str  # mrkdwn: a plain str is escaped on the way in
    button: Button | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", Mrkdwn(self.text))


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Context:
    text: str  # mrkdwn: a plain str is escaped on the way in

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", Mrkdwn(self.text))


@dataclass(frozen=True)
class Divider:
    pass


Block = Header | Section | Actions | Context | Divider


@dataclass(frozen=True)
class Message:
    text: str  # the fallback, mrkdwn too: escaped on the way in
    blocks: tuple[Block, ...] = ()
    private: bool = False  # for whoever asked only

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", Mrkdwn(self.text))

    def buttons(self) -> list[Button]:
        found: list[Button] = []
        for block in self.blocks:
            if isinstance(block, Section) and block.button:
                found.append(block.button)
            elif isinstance(block, Actions):
                found.extend(block.buttons)
        return found


class Destination(Protocol):
    """Where an answer goes: `send()` once, then `update()` to change it in place. `context`
    finds a wake's message again after a restart; `place` is None for what only the asker
    sees, else a key of the place others see it in (a channel thread)."""

    max_updates: int | None  # Slack's response_url: 5 uses in 30 minutes
    min_interval: float  # seconds between two progress updates

    def send(self, message: Message) -> None: ...

    def update(self, message: Message) -> None: ...

    @property
    def context(self) -> Mapping[str, Any]: ...

    @property
    def place(self) -> str | None: ...


def plain(text: str) -> Message:
    return Message(text, (Section(text),))


def fit(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Split `text` on line boundaries into pieces that fit in a section: never truncated.
    Mrkdwn stays Mrkdwn (its date tokens intact)."""
    kind = Mrkdwn._markup if isinstance(text, Mrkdwn) else str
    pieces: list[str] = []
    current = ""
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
    return [kind(piece) for piece in pieces]
