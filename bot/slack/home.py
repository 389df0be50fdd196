"""The App Home tab: the report's summary (what slept, what it saved), then the apps with the
same buttons as `/paastis status`, paginated within the Home tab's 100 blocks.

The page shown travels in the view's private_metadata as `number|filter`, the same form as
the value of the page buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.chat import answers
from bot.chat.messages import MAX_HOME_BLOCKS, Divider, Message
from bot.policy.catalog import AppsPage, AppView
from bot.slack.blocks import render_blocks


def parse_page(value: str | None) -> tuple[int, str]:
    """`2|review` → (2, "review"); anything else → the first page."""
    number, _, text_filter = (value or "").partition("|")
    return (int(number) if number.isdigit() and int(number) > 0 else 1), text_filter


def page_value(number: int, text_filter: str) -> str:
    return f"{number}|{text_filter}"


PageOf = Callable[[int, int, int], AppsPage | None]  # number, size, max blocks → a page (bot.engine.fleet)


def home_message(
    views: Sequence[AppView] | Callable[[], Sequence[AppView]],
    report: Message,
    now: datetime,
    tz: ZoneInfo,
    *,
    number: int = 1,
    text_filter: str = "",
    budgets: answers.Budgets | None = None,
    page_of: PageOf | None = None,
) -> Message:
    """The dashboard: the report's blocks, a divider, a page of apps. `views`: the apps
    listed, or how to read them; `page_of`: how to read one page of every app alone (used
    when no filter is set), so that the tab does not decide every app."""
    head = (*report.blocks, Divider())
    room = MAX_HOME_BLOCKS - len(render_blocks(Message("", head)))
    listing = page_of(number, answers.HOME_PAGE_SIZE, room - 4) if page_of and not text_filter else None
    if listing is not None:  # without its groups, as the Home tab has always shown apps
        listing = replace(listing, catalog=None)
        status = answers.status_page(listing, now, tz, budgets=budgets, title="Apps", max_blocks=room)
    else:
        page = answers.Page(number, answers.HOME_PAGE_SIZE, text_filter)
        apps = views() if callable(views) else views
        status = answers.status(apps, now, tz, page=page, budgets=budgets, title="Apps", max_blocks=room)
    return Message(f"Paastis · {status.text}", (*head, *status.blocks))
