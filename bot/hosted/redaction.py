"""No secret in any log, at any level: slack_sdk logs response bodies at DEBUG (an
oauth.v2.access answer holds the bot token) and Bolt logs a request body in one warning
path (a view submission holds what was typed). `Redactor` rewrites every record a handler
emits, masking Slack tokens, Scalingo tokens, Fernet values, *_token / *secret fields, whatever
was typed in a modal, and request bodies (`payload=…`).
"""

from __future__ import annotations

import logging
import re

PATTERNS = (
    re.compile(r"xox[a-z]-[\w.-]+|xoxe[\w.-]*"),  # Slack bot, user, app, refresh tokens
    re.compile(r"tk-us-[\w-]+"),  # Scalingo API tokens
    re.compile(r"gAAAAA[\w=-]{20,}"),  # Fernet values
    re.compile(r"""(["']?\w*(?:token|secret)["']?\s*[:=]\s*["'])[^"']+(["'])""", re.IGNORECASE),
    re.compile(r"(payload=)[^\s&'\"]+()"),  # a request body as Slack sends it (url-encoded JSON)
    re.compile(r"""("type"\s*:\s*"plain_text_input"\s*,\s*"value"\s*:\s*")[^"]*(")"""),  # typed in a modal
)
MASK = "[redacted]"


def redact(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}" if m.groups() else MASK, text)
    return text


class Redactor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install(logger: logging.Logger | None = None) -> Redactor:
    """On every handler of `logger` (the root logger): what they emit is redacted."""
    redactor = Redactor()
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redactor)
    return redactor
