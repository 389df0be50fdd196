"""A terminal "channel": messages printed as text, buttons numbered, clicks by number.

Each message numbers its buttons from 1, and a number clicks a button of the last message
printed with buttons — never one of an older message further up.

Shared by the offline demo and the CLI, so both show what Slack would show.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TextIO

from bot.chat import plain_text
from bot.chat.messages import Button, Message


class Terminal:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._buttons: dict[int, Button] = {}  # those of the last message with buttons

    def show(self, message: Message, prefix: str = "") -> None:
        with self._lock:
            numbered: dict[int, Button] = {}

            def number(button: Button) -> int:
                numbered[len(numbered) + 1] = button
                return len(numbered)

            rendered = plain_text.render(message, number)
            if numbered:
                self._buttons = numbered
            if prefix:
                rendered = prefix + rendered.replace("\n", "\n" + " " * len(prefix))
            self.out.write(rendered + "\n")
            self.out.flush()

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def button(self, number: int) -> Button | None:
        with self._lock:
            return self._buttons.get(number)


class TerminalDestination:
    """A `Destination` that prints: the answer, then each update in place of it (as a new print)."""

    max_updates: int | None = None
    place = None  # the person at the terminal only

    def __init__(
        self, terminal: Terminal, *, min_interval: float = 2.0, context: Mapping[str, Any] | None = None
    ) -> None:
        self.terminal = terminal
        self.min_interval = min_interval
        self._context = dict(context or {"via": "terminal"})
        self.sent: list[Message] = []

    @property
    def context(self) -> Mapping[str, Any]:
        return self._context

    def send(self, message: Message) -> None:
        self.sent.append(message)
        self.terminal.show(message)

    def update(self, message: Message) -> None:
        self.sent.append(message)
        self.terminal.show(message, prefix="↻ ")


class TerminalPoster:
    """Channel notices, printed with the channel's name."""

    def __init__(self, terminal: Terminal, default_channel: str = "#paastis") -> None:
        self.terminal = terminal
        self.default_channel = default_channel

    def post(self, message: Message, channel: str | None) -> None:
        self.terminal.show(message, prefix=f"📣 {channel or self.default_channel} ▸ ")
