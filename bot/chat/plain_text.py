"""Messages rendered as terminal text, with buttons numbered so they can be "clicked"."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.chat.messages import Actions, Button, Context, Divider, Header, Message, Section

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_TOKEN = re.compile(r"<![^|>]*\|([^>]*)>")  # a date token: its fallback, the team's time and zone
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])")


def inline(text: str) -> str:
    """mrkdwn → plain text: links as `label (url)`, date tokens as their fallback, bold and
    escapes removed."""
    text = _TOKEN.sub(r"\1", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BOLD.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(message: Message, number: Callable[[Button], int]) -> str:
    """The message as lines of text; `number(button)` gives each button its number."""
    lines: list[str] = []

    def label(button: Button) -> str:
        link = f" → {button.url}" if button.url else ""
        return f"[{number(button)}] {button.label}{link}"

    for block in message.blocks:
        if isinstance(block, Header):
            lines.append(f"━━ {inline(block.text)} ━━")
        elif isinstance(block, Section):
            text = inline(block.text)
            if block.button:
                text += f"   {label(block.button)}"
            lines.append(text)
        elif isinstance(block, Actions):
            lines.append("    " + "  ".join(label(b) for b in block.buttons))
        elif isinstance(block, Context):
            lines.append("    " + inline(block.text).replace("\n", "\n    "))
        elif isinstance(block, Divider):
            lines.append("─" * 40)
    if not message.blocks:
        lines.append(inline(message.text))
    return "\n".join(lines)
