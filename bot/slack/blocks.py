"""Messages as Block Kit: pure functions from `bot.chat.messages.Message` to Slack payloads.

Slack's limits are kept here, and nothing is cut silently:
- more than 50 blocks in a message (100 in a Home view) raises `BlockKitError` — the reply
  builders paginate, so this only fires on a bug;
- a section or context over 3000 characters becomes several, split on line boundaries
  (a section's button stays on the first piece);
- labels (headers, button texts, confirm dialogs) are shortened with "…": they name what the
  blocks say in full;
- a button value over 2000 characters (an app id of 2,000+) travels as its digest
  (`fitted_value`), which `Chatops` maps back to the app; a link button whose URL is over
  3000 characters is left out. The rest of the message is never dropped for one of them.

Within one actions block Slack wants distinct action ids, so a repeated one (◂ Previous and
Next ▸ are both PAGE) gets a `#2` suffix; `base_action` removes it.
"""

from __future__ import annotations

from typing import Any

from bot.chat.messages import (
    MAX_BLOCKS,
    MAX_BUTTON_LABEL,
    MAX_HOME_BLOCKS,
    MAX_SECTION_TEXT,
    Actions,
    Block,
    Button,
    Confirm,
    Context,
    Divider,
    Header,
    Message,
    Section,
    fit,
    fitted_value,
)

MAX_HEADER = 150
MAX_URL = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_FALLBACK = 3000  # chat.update refuses text over 4000 characters (msg_too_long)
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_METADATA = 3000

Json = dict[str, Any]


class BlockKitError(ValueError):
    """A message that cannot be shown within Slack's limits without losing something."""


def message_payload(message: Message) -> Json:
    """What chat.postMessage, chat.update, ack() and response_url take: fallback text and blocks."""
    blocks = render_blocks(message)
    if len(blocks) > MAX_BLOCKS:
        raise BlockKitError(f"{len(blocks)} blocks in one message (Slack allows {MAX_BLOCKS}): paginate it")
    return {"text": shorten(message.text or _first_text(message) or "Paastis", MAX_FALLBACK), "blocks": blocks}


def home_view(message: Message, metadata: str = "") -> Json:
    """The App Home tab as views.publish takes it; `metadata` comes back with every click in it."""
    blocks = render_blocks(message)
    if len(blocks) > MAX_HOME_BLOCKS:
        raise BlockKitError(f"{len(blocks)} blocks in the Home tab (Slack allows {MAX_HOME_BLOCKS}): paginate it")
    if len(metadata) > MAX_METADATA:
        raise BlockKitError(f"private_metadata of {len(metadata)} characters (Slack allows {MAX_METADATA})")
    return {"type": "home", "blocks": blocks, "private_metadata": metadata}


def render_blocks(message: Message) -> list[Json]:
    blocks: list[Json] = []
    for block in message.blocks:
        blocks.extend(_render(block))
    return blocks


def base_action(action_id: str) -> str:
    """The action of a rendered action id: `paastis.page#2` → `paastis.page`."""
    return action_id.partition("#")[0]


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- blocks ------------------------------------------------------------------------------


def _render(block: Block) -> list[Json]:
    if isinstance(block, Header):
        return [{"type": "header", "text": _plain(shorten(block.text, MAX_HEADER))}]
    if isinstance(block, Section):
        pieces = fit(block.text, MAX_SECTION_TEXT)
        sections = [{"type": "section", "text": _mrkdwn(piece)} for piece in pieces]
        if block.button and _fits(block.button):
            sections[0]["accessory"] = _button(block.button, block.button.action)
        return sections
    if isinstance(block, Actions):
        buttons = [b for b in block.buttons if _fits(b)]
        rows = [buttons[i : i + MAX_ACTIONS_ELEMENTS] for i in range(0, len(buttons), MAX_ACTIONS_ELEMENTS)]
        return [{"type": "actions", "elements": _row(tuple(row))} for row in rows]
    if isinstance(block, Context):
        elements = [_mrkdwn(piece) for piece in fit(block.text, MAX_SECTION_TEXT)]
        chunks = [elements[i : i + MAX_CONTEXT_ELEMENTS] for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)]
        return [{"type": "context", "elements": chunk} for chunk in chunks]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    raise BlockKitError(f"unknown block {type(block).__name__}")


def _row(buttons: tuple[Button, ...]) -> list[Json]:
    seen: dict[str, int] = {}
    elements = []
    for button in buttons:
        seen[button.action] = seen.get(button.action, 0) + 1
        count = seen[button.action]
        elements.append(_button(button, button.action if count == 1 else f"{button.action}#{count}"))
    return elements


def _fits(button: Button) -> bool:
    """False for a link Slack would refuse (its URL too long): that one button is left out."""
    return not button.url or len(button.url) <= MAX_URL


def _button(button: Button, action_id: str) -> Json:
    element: Json = {
        "type": "button",
        "text": _plain(shorten(button.label, MAX_BUTTON_LABEL)),
        "action_id": action_id,
    }
    if button.value:
        element["value"] = fitted_value(button.value)
    if button.url:
        element["url"] = button.url
    if button.style:
        element["style"] = button.style
    if button.confirm:
        element["confirm"] = _confirm(button.confirm, button.style)
    return element


def _confirm(confirm: Confirm, style: str | None) -> Json:
    dialog: Json = {
        "title": _plain(shorten(confirm.title, MAX_CONFIRM_TITLE)),
        "text": _plain(shorten(confirm.text, MAX_CONFIRM_TEXT)),
        "confirm": _plain(shorten(confirm.ok, MAX_CONFIRM_BUTTON)),
        "deny": _plain(shorten(confirm.cancel, MAX_CONFIRM_BUTTON)),
    }
    if style:
        dialog["style"] = style
    return dialog


def _plain(text: str) -> Json:
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _mrkdwn(text: str) -> Json:
    return {"type": "mrkdwn", "text": text or " "}


def _first_text(message: Message) -> str:
    for block in message.blocks:
        if isinstance(block, (Header, Section, Context)):
            return block.text
    return ""
