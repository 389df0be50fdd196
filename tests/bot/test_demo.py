"""The demo's time: `wait` jumps simulated time, and a wake in flight reports how long it
really took in simulated time — never the jump (issue 11, item 4)."""

from __future__ import annotations

import io
import re

from bot.demo import run


def test_a_wake_started_before_wait_reports_its_simulated_duration_not_the_jump() -> None:
    out = io.StringIO()
    assert run(["/paastis wake shop-demo", "wait 20m", "/paastis log shop-demo"], out, interactive=False) == 0
    text = out.getvalue()
    (up,) = re.findall(r"✅ shop-demo is up in ([^\n·]+?)\s*(?:\[|\n|$)", text)
    assert up.endswith(" s"), text  # seconds, as the simulated boot takes — not "20 min"
    assert int(up.removesuffix(" s")) <= 60
    assert "⏩ 20 min later…" in text
    assert re.search(r"shop-demo\* woke by you in \d+ s|shop-demo woke by you in \d+ s", text), text


def test_a_button_number_clicks_a_button_of_the_last_message_not_an_older_one() -> None:
    """Issue 12, item 4: after a status (buttons 1…n), `1` clicks the button of the prompt just
    printed — here, putting the shop's group to sleep — not the status's first Sleep."""
    out = io.StringIO()
    assert run(["/paastis status", "/paastis sleep shop-back", "1"], out, interactive=False) == 0
    prompt = out.getvalue().split("> /paastis sleep shop-back\n", 1)[1]
    assert "Put the group to sleep?   [1] Sleep" in prompt
    after = prompt.split("> 1\n", 1)[1]
    assert after.startswith("🌙 Putting shop-back, shop-front to sleep…"), after
    assert "api-pr-5" not in after  # the status's [1] (api-pr-5's Sleep) was not clicked


def minutes_in(shown: str) -> float:
    """`1 h 05 min` → 65, `36 s` → 0.6, `just now` → 0: a duration as status writes it."""
    units = {"d": 1440, "h": 60, "min": 1, "s": 1 / 60}
    return sum(int(n) * units[unit] for n, unit in re.findall(r"(\d+) (d|h|min|s)\b", shown))


def test_a_status_line_whose_sleep_is_not_counted_from_its_own_activity_says_from_what() -> None:
    """Issue 11, item 4: "last activity 1 h ago · sleeps in 14 min" must explain itself — its
    group was used, or Paastis has watched it only since then — at the start and after time
    passes, on every provider of the demo."""
    out = io.StringIO()
    assert (
        run(["/paastis status", "wait 20m", "/paastis status", "wait 50m", "/paastis status"], out, interactive=False)
        == 0
    )
    lines = [line for line in out.getvalue().splitlines() if "last activity" in line and "sleeps in" in line]
    assert len(lines) >= 10
    unexplained = []
    for line in lines:
        idle_timeout = 45 if line.startswith("docs-") else 15  # the demo's rules
        ago = minutes_in(re.search(r"last activity ([^·]+)", line)[1])
        left = minutes_in(re.search(r"sleeps in ([^·\[]+)", line)[1])
        if ago + left > idle_timeout + 1 and not re.search(r"its group was used|watched since", line):
            unexplained.append(line)
    assert not unexplained, unexplained
    assert any("last activity 1 h" in line and "its group was used" in line for line in lines), lines
