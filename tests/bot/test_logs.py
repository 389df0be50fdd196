from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import configure_logging, event_fields


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_event_and_its_context_as_fields(restore_logging) -> None:
    out = io.StringIO()
    configure_logging("INFO", out, fmt="json")

    logging.getLogger("bot.engine.sleeping").warning(
        "app.sleep_failed provider=%s app=%s error=%s", "scalingo-osc-fr1", "review-42", "the API answered 500: boom"
    )

    line = json.loads(out.getvalue())
    assert line["event"] == "app.sleep_failed"
    assert line["provider"] == "scalingo-osc-fr1"
    assert line["app"] == "review-42"
    assert line["error"] == "the API answered 500: boom"
    assert line["level"] == "WARNING"
    assert line["logger"] == "bot.engine.sleeping"
    assert line["message"].startswith("app.sleep_failed provider=scalingo-osc-fr1")


def test_a_library_line_stays_whole_and_a_traceback_stays_in_the_same_object(restore_logging) -> None:
    out = io.StringIO()
    configure_logging("INFO", out, fmt="json")
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("slack_bolt.App").exception("Failed to run listener function (error: bad)")

    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert "event" not in line
    assert line["message"] == "Failed to run listener function (error: bad)"
    assert "ValueError: bad" in line["exc_info"]


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (
            "paastis.started version=0.1.0 providers=fake",
            {"event": "paastis.started", "version": "0.1.0", "providers": "fake"},
        ),
        (
            "notice.logged channel=default\n💤 Put 1 app to sleep",
            {"event": "notice.logged", "channel": "default\n💤 Put 1 app to sleep"},
        ),
        ("notice channel=default", {}),
        ("app.slept level=3", {"event": "app.slept", "level_": "3"}),
        ("Started job", {}),
    ],
)
def test_event_fields(message: str, fields: dict[str, str]) -> None:
    assert event_fields(message) == fields
