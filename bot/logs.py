"""Logging, configured once by the entry point.

Every line is an event with context: `app.slept provider=scalingo-osc-fr1 app=review-42`.
As text (the default): `time level logger event key=value…`. As JSON (`LOG_FORMAT=json`, for
log drains), one object a line, the event and each key=value pair as fields of their own:

    {"time": "…", "level": "INFO", "logger": "bot.engine.sleeping", "event": "app.slept",
     "provider": "scalingo-osc-fr1", "app": "review-42", "message": "app.slept provider=…"}
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("text", "json")
NOISY = ("httpx", "httpcore", "apscheduler.executors", "apscheduler.scheduler", "urllib3", "slack_bolt", "slack_sdk")
# `key=value` pairs after the event name; a value runs to the next ` key=` or the end
_PAIRS = re.compile(r"(?:^|\s)([a-z_][a-z0-9_]*)=(.*?)(?=\s[a-z_][a-z0-9_]*=|$)", re.S)
_EVENT = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
RESERVED = frozenset({"time", "level", "logger", "event", "message", "exc_info", "stack_info"})


def event_fields(message: str) -> dict[str, str]:
    """The event name and key=value context of a log message, as fields. A message that is
    not an event (a library's) gives none: it stays whole in `message`."""
    head, _, rest = message.partition(" ")
    if not _EVENT.match(head):
        return {}
    fields = {"event": head}
    for key, value in _PAIRS.findall(rest):
        fields[key if key not in RESERVED else f"{key}_"] = value.strip()
    return fields


class EventJsonFormatter(JsonFormatter):
    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record.update(event_fields(record.getMessage()))


def configure_logging(level: str = "INFO", stream: TextIO | None = None, fmt: str = "text") -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(EventJsonFormatter("%(message)s", json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
