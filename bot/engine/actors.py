"""Who asks Paastis to act: a person (from Slack, the CLI, the demo) or Paastis itself."""

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

VISIT = "visit"  # `via` of a wake started by an HTTP request (the proxy, the Sablier API)


def visitor(where: str) -> Actor:
    """Who wakes an app on its first request: `where` is the domain visited (or the API)."""
    return Actor(f"{VISIT}:{where}", f"a visit to {where}", via=VISIT)
