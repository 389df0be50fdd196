"""What the builders of the settings share: the environment, and every problem found so far.

Each part of the configuration is read by a function taking a `Collector`: it reads
variables through it and adds problems (never raising), so `build_settings` reports them
all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.config.variables import VARIABLES, Variable
from providers.options import Problem


class Collector:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, where: str, value: Any, why: str, *, secret: bool = False) -> None:
        shown = "<redacted>" if secret and value else ("" if value is None else str(value))
        self.problems.append(Problem(where, shown, why))

    def extend(self, triples: list[tuple[str, str, str]]) -> None:
        self.problems.extend(Problem(*t) for t in triples)

    def get(self, name: str) -> str | None:
        value = self.env.get(name)
        return value.strip() if value and value.strip() else None

    def convert(self, name: str, parse: Callable[[str], Any], default: Any) -> Any:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            self.add(name, raw, str(exc), secret=VARIABLES.get(name, Variable("")).secret)
            return default
