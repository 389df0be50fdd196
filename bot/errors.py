"""What goes wrong in a way a person must read: one tree, each message names the problem and
the fix. Nothing here carries a traceback to a user; anything else is a bug, logged as one.

    PaastisError
    ├── ConfigError          the configuration: every problem at once (field, value, why)
    ├── SlackSetupError      Slack cannot be used as configured
    ├── UsageError           a command's words (`/paastis keep app soon`)
    ├── AppLookupError       a name that finds no app, or several
    │   ├── UnknownApp       with the closest names
    │   └── AmbiguousApp     with the candidates
    └── ActionRefused        an action that cannot be done now, and why

Providers have their own tree (`providers.base.ProviderError`); the engine turns it into
per-app outcomes in batch work and lets it through for the actions people ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.options import Problem


class PaastisError(Exception):
    """An error whose message is meant for the person who caused it."""


class ConfigError(PaastisError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the configuration has {len(problems)} problem(s):\n{lines}")


class SlackSetupError(PaastisError):
    """Slack cannot be used as configured; the message says how to fix it."""


class UsageError(PaastisError, ValueError):
    """A command that cannot be understood; the message says what was expected."""


class AppLookupError(PaastisError, LookupError):
    text: str


class UnknownApp(AppLookupError):
    def __init__(self, text: str, suggestions: Sequence[str]) -> None:
        hint = f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
        super().__init__(f"No app named `{text}`.{hint}")
        self.text = text
        self.suggestions = tuple(suggestions)


class AmbiguousApp(AppLookupError):
    def __init__(self, text: str, labels: Sequence[str]) -> None:
        super().__init__(f"`{text}` names several apps: {', '.join(f'`{x}`' for x in labels)}. Say which one.")
        self.text = text
        self.labels = tuple(labels)


class ActionRefused(PaastisError):
    """A user action that cannot be done; the message says why and what to do."""
