"""Who asked for a wake, as its one message in a channel thread says it."""

from __future__ import annotations

import pytest

from bot.chat.following import asked_by


@pytest.mark.parametrize(
    ("names", "said"),
    [
        (["Alice"], "Asked by Alice"),
        (["Alice", "Bob"], "Asked by Alice and Bob"),
        (["Alice", "Bob", "Carol"], "Asked by Alice, Bob and Carol"),
        (["Alice", "Bob", "Carol", "Dan"], "Asked by Alice, Bob and 2 others"),
        ([f"U{i}" for i in range(20)], "Asked by U0, U1 and 18 others"),
        (["<!channel>"], "Asked by &lt;!channel&gt;"),
    ],
)
def test_who_asked_is_named_briefly(names: list[str], said: str) -> None:
    assert asked_by(names) == said
