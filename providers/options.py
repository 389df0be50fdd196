"""Validation of a provider's configuration options, shared by every provider type.

A provider type declares its options (`Option`); `parse_options` turns a raw mapping (from
the environment or the YAML `providers:` list) into plain values, collecting every problem
at once instead of stopping at the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Problem:
    """One configuration problem: which key, which value (redacted when secret), why."""

    key: str
    value: str
    why: str

    def __str__(self) -> str:
        shown = f" = {self.value!r}" if self.value else ""
        return f"{self.key}{shown}: {self.why}"


class InvalidOption(ValueError):
    """Raised by converters; the message says what a valid value looks like."""


@dataclass(frozen=True)
class Option:
    description: str
    convert: Callable[[Any], Any] = str
    default: Any = None
    required: bool = False
    secret: bool = False


def text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidOption("expected a single value, not a list or a mapping")
    result = str(value).strip()
    if not result:
        raise InvalidOption("is empty")
    return result


def url(value: Any) -> str:
    result = text(value).rstrip("/")
    parts = urlsplit(result)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidOption("expected an http(s) URL such as https://api.example.com")
    return result


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$")


def seconds(value: Any) -> float:
    """A number of seconds (`30`), or a duration (`90s`, `5m`, `1h`)."""
    match = _DURATION.match(str(value))
    if not match:
        raise InvalidOption("expected a number of seconds such as 30, or a duration such as 90s or 5m")
    amount, unit = float(match.group(1)), match.group(2) or "s"
    factor = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]
    result = amount * factor
    if result <= 0:
        raise InvalidOption("must be more than zero")
    return result


def positive_int(value: Any) -> int:
    try:
        result = int(str(value).strip())
    except ValueError:
        raise InvalidOption("expected a whole number such as 60") from None
    if result <= 0:
        raise InvalidOption("must be more than zero")
    return result


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidOption("expected true or false")


def one_of(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        result = text(value)
        if result not in choices:
            raise InvalidOption(f"expected one of {', '.join(choices)}")
        return result

    return convert


def parse_options(
    declared: Mapping[str, Option],
    raw: Mapping[str, Any],
    *,
    where: str,
    labels: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Validate `raw` against `declared`; unknown keys are problems too.

    Problems name a key as `where.key`, or by its label (an environment variable's name)
    when `labels` has one.
    """
    labels = labels or {}

    def label(key: str) -> str:
        return labels.get(key, f"{where}.{key}")

    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key in raw:
        if key not in declared:
            known = ", ".join(sorted(declared))
            problems.append(Problem(label(key), "", f"unknown key; known keys: {known}"))
    for key, option in declared.items():
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if option.required:
                problems.append(Problem(label(key), "", f"is required: {option.description}"))
            values[key] = option.default
            continue
        try:
            values[key] = option.convert(value)
        except InvalidOption as exc:
            shown = "<redacted>" if option.secret else str(value)
            problems.append(Problem(label(key), shown, str(exc)))
            values[key] = option.default
    return values, problems
