"""Who asks Paastis to act, and how an action is refused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who asks: a Slack user, someone at the CLI, or Paastis's own jobs."""

    id: str
    name: str
    is_admin: bool = False
    via: str = "slack"


SCHEDULER = Actor("paastis", "Paastis", is_admin=True, via="scheduler")


class ActionRefused(Exception):
    """A user action that cannot be done; the message says why and what to do."""
