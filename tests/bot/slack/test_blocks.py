"""Block Kit rendering: Slack's limits kept without cutting anything silently, and golden
files of what users see (`pytest tests/bot/slack --update-goldens` rewrites them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import answers
from bot.chat.messages import (
    OPEN,
    PAGE,
    SLEEP,
    WAKE,
    Actions,
    Button,
    Confirm,
    Context,
    Header,
    Message,
    Section,
    fitted_value,
)
from bot.chat.report import ProviderCounts, Report, report_message
from bot.engine.wake_jobs import JobStatus, Phase, TicketProgress
from bot.slack.blocks import (
    BlockKitError,
    base_action,
    home_view,
    message_payload,
    render_blocks,
)
from bot.slack.home import home_message
from tests.bot.slack.conftest import Rig
from tests.fakes.slack_api import block_errors

GOLDEN = Path(__file__).parent / "golden"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    update = request.config.getoption("--update-goldens", default=False)

    def check(name: str, payload: dict) -> None:
        path = GOLDEN / f"{name}.json"
        text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if update:
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"{path.name} is missing: run `pytest tests/bot/slack --update-goldens` and review it"
        assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review, then --update-goldens"
        limit = 100 if payload.get("type") == "home" else 50
        assert block_errors(payload["blocks"], limit) == []  # what real Slack would refuse

    return check


# -- limits --------------------------------------------------------------------------------


def test_a_long_section_becomes_several_sections_and_nothing_is_lost() -> None:
    lines = [f"line {i:04d} " + "x" * 90 for i in range(100)]  # 10,000 characters
    payload = message_payload(Message("log", (Section("\n".join(lines), Button("Wake", WAKE, "fake:a")),)))
    texts = [b["text"]["text"] for b in payload["blocks"]]
    assert len(texts) == 4
    assert all(len(t) <= 3000 for t in texts)
    assert "\n".join(texts).split("\n") == lines
    assert payload["blocks"][0]["accessory"]["action_id"] == WAKE
    assert block_errors(payload["blocks"], 50) == []


def test_more_than_50_blocks_is_refused_not_truncated() -> None:
    message = Message("many", tuple(Section(f"app {i}") for i in range(51)))
    with pytest.raises(BlockKitError, match="51 blocks"):
        message_payload(message)
    assert len(home_view(message)["blocks"]) == 51  # the Home tab takes up to 100
    with pytest.raises(BlockKitError, match="101 blocks"):
        home_view(Message("many", tuple(Section(f"app {i}") for i in range(101))))


def test_labels_are_shortened_with_an_ellipsis_and_values_never_cut() -> None:
    long = "review-" + "a" * 400
    confirm = Confirm("Put " + long + " to sleep?", f"Put {long} to sleep now?", "Sleep " + long)
    payload = message_payload(
        Message("t", (Header("Recent events of " + long), Section("x", Button(long, SLEEP, "v", confirm=confirm))))
    )
    header, section = payload["blocks"]
    assert len(header["text"]["text"]) == 150
    assert header["text"]["text"].endswith("…")
    button = section["accessory"]
    assert len(button["text"]["text"]) == 75
    assert button["text"]["text"].endswith("…")
    assert [len(button["confirm"][k]["text"]) for k in ("title", "text", "confirm")] == [100, 300, 30]
    assert block_errors(payload["blocks"], 50) == []


def test_a_value_too_long_for_slack_travels_as_its_digest_and_a_too_long_link_is_left_out() -> None:
    """An app id of 2,000+ characters: its buttons still work (Chatops maps the digest back),
    and nothing else in the message is lost."""
    value = "fake:" + "x" * 2100
    message = Message(
        "t",
        (
            Section("long", Button("Wake", WAKE, value)),
            Actions((Button("Open", OPEN, "fake:a", url="https://a.test/" + "p" * 3000), Button("Keep", PAGE, "v"))),
            Section("short", Button("Wake", WAKE, "fake:short")),
        ),
    )
    payload = message_payload(message)
    long, row, short = payload["blocks"]
    assert long["accessory"]["value"] == fitted_value(value)
    assert long["accessory"]["value"].startswith("#")
    assert len(long["accessory"]["value"]) == 65
    assert [e["text"]["text"] for e in row["elements"]] == ["Keep"]
    assert short["accessory"]["value"] == "fake:short"
    assert block_errors(payload["blocks"], 50) == []


def test_buttons_keep_style_url_confirm_and_fallback_text() -> None:
    message = answers.wake_progress(_progress(Phase.UP), "fake:review-42")
    payload = message_payload(message)
    assert payload["text"] == "✅ review-42 is up in 23 s"
    button = payload["blocks"][0]["accessory"]
    assert button == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open", "emoji": True},
        "action_id": OPEN,
        "value": "fake:review-42",
        "url": "https://review-42.fake-paas.test",
    }
    sleep = Button("Sleep", SLEEP, "fake:a", "danger", confirm=Confirm("Put to sleep?", "Put a to sleep now?", "Sleep"))
    rendered = render_blocks(Message("t", (Section("a", sleep),)))[0]["accessory"]
    assert rendered["style"] == "danger"
    assert rendered["confirm"]["style"] == "danger"
    assert rendered["confirm"]["deny"]["text"] == "Cancel"


def test_repeated_action_ids_in_one_row_are_told_apart_and_map_back() -> None:
    row = Actions((Button("◂ Previous", PAGE, "1|"), Button("Next ▸", PAGE, "3|")))
    ids = [e["action_id"] for e in render_blocks(Message("t", (row,)))[0]["elements"]]
    assert ids == [PAGE, f"{PAGE}#2"]
    assert [base_action(i) for i in ids] == [PAGE, PAGE]
    assert block_errors(render_blocks(Message("t", (row,))), 50) == []


def test_empty_texts_still_render_as_valid_blocks() -> None:
    payload = message_payload(Message("", (Section(""), Context(""))))
    assert payload["text"] == "Paastis"
    assert block_errors(payload["blocks"], 50) == []


# -- golden files --------------------------------------------------------------------------


def test_status_pages(rig_many: Rig, golden) -> None:
    chatops = rig_many.paastis.chatops
    views = rig_many.paastis.engine.catalog().search(None)
    pages = [
        answers.status(views, chatops.now, PARIS, page=answers.Page(n, answers.STATUS_PAGE_SIZE)) for n in (1, 2, 3)
    ]
    for number, message in enumerate(pages, start=1):
        golden(f"status_page_{number}", message_payload(message))
    footer = [b for b in message_payload(pages[1])["blocks"] if b["type"] == "context"][-1]["elements"][0]["text"]
    assert footer == "Page 2 of 3 · apps 21–40 of 45"
    assert sum(len(m.buttons()) for m in pages) > 45  # every app has its buttons, on some page


def test_wake_progress(golden) -> None:
    for phase in (Phase.WAKING, Phase.UP, Phase.FAILED):
        golden(f"wake_{phase.value}", message_payload(answers.wake_progress(_progress(phase), "fake:review-42")))


def test_sweep_notice(golden) -> None:
    slept = [
        answers.SleptApp("review-42", "fake:review-42", "idle for 20 min (timeout 15 min)", "web×1"),
        answers.SleptApp("api-staging", "fake:api-staging", "idle for 2 h (timeout 1 h)", "web×2, worker×1"),
    ]
    (notice,) = answers.sweep_notice(slept, dry_run=False)
    golden("sweep_notice", message_payload(notice))


def test_a_sweep_that_slept_nothing_posts_nothing() -> None:
    assert answers.sweep_notice([], dry_run=False) == []
    assert answers.sweep_notice([], dry_run=True) == []


def test_a_dry_run_notice_names_only_the_apps_newly_idle_and_counts_all() -> None:
    new = [answers.SleptApp("review-7", "fake:review-7", "idle for 16 min (timeout 15 min)", "web×1")]
    (notice,) = answers.sweep_notice(new, dry_run=True, would_sleep=3)
    assert notice.text == "🧪 Dry run: 1 more app would be put to sleep (3 in all)"
    assert "review-7" in message_payload(notice)["blocks"][1]["text"]["text"]
    assert not notice.buttons()  # nothing slept: nothing to wake


def test_report(golden) -> None:
    golden("report", message_payload(report_message(_report(), PARIS)))


def test_help(golden) -> None:
    golden("help", message_payload(answers.help_message("Unknown command `sleeep`.")))


def test_home_view(rig_many: Rig, golden) -> None:
    chatops = rig_many.paastis.chatops
    views = rig_many.paastis.engine.catalog().search(None)
    message = home_message(views, report_message(_report(), PARIS), chatops.now, PARIS, number=1)
    view = home_view(message, "1|")
    golden("home", view)
    assert view["blocks"][0]["text"]["text"].startswith("Paastis report")
    footer = [b for b in view["blocks"] if b["type"] == "context"][-1]["elements"][0]["text"]
    assert footer == "Page 1 of 2 · apps 1–40 of 45"  # 40 apps fit in the Home tab's 100 blocks
    assert sum(1 for b in view["blocks"] if b.get("accessory", {}).get("action_id") in (WAKE, SLEEP)) == 40


# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def rig_many(tmp_path, clock, slack):
    apps = [{"name": f"review-{i:02d}", "formation": {"web": 1}, "running": i % 3 != 0} for i in range(45)]
    rig = Rig(tmp_path, clock, slack, apps=apps)
    yield rig
    rig.close()


def _progress(phase: Phase) -> TicketProgress:
    started = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    elapsed = timedelta(seconds=12 if phase is Phase.WAKING else 23)
    reason = "the app crashed while booting" if phase is Phase.FAILED else None
    main = JobStatus(
        ("fake", "review-42"), "review-42", phase, started, elapsed, "https://review-42.fake-paas.test", reason
    )
    linked = (JobStatus(("fake", "review-42-db"), "review-42-db", Phase.UP, started, timedelta(seconds=8)),)
    return TicketProgress(main, linked if phase is Phase.WAKING else (), joined=phase is Phase.WAKING, slow=False)


def _report() -> Report:
    end = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    return Report(
        start=end - timedelta(days=1),
        end=end,
        counts={
            "fake": ProviderCounts(awake=3, asleep=12),
            "scalingo-osc-fr1": ProviderCounts(awake=2, asleep=5, other=1),
        },
        hours_slept=301.5,
        money_saved=12.34,
        kwh_saved=6.1,
        slept_apps=17,
        woke=4,
        wake_failures=(),
        unused=("old-demo", "review-7"),
        problems=("provider scalingo-osc-fr1 failing since 07:40: HTTP 503",),
        currency="EUR",
        prices_dated="2026-06",
        watts=20.0,
    )
