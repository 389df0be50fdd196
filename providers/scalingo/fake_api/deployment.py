"""The Scalingo fake as the demo and the contract suite start it: one region, on loopback.

`start_fake` serves the auth service and the osc-fr1 API over a world (`serve_fake_scalingo`)
and gives the options of a provider that reaches them, with the one API token they accept.
"""

from __future__ import annotations

from typing import Any

from providers.base import Clock
from providers.fake.deployment import FakeDeployment
from providers.fake.simulation import SimulatedPaas
from providers.scalingo.fake_api import serve_fake_scalingo

TOKEN = "tk-us-demo-0000000000000000"
REGION = "osc-fr1"

DEMO_APPS: tuple[dict[str, Any], ...] = (
    {"name": "shop-front", "formation": {"web": 2}, "traffic_every": 300, "boot_seconds": 40},
    {"name": "shop-back", "formation": {"web": 1, "worker": 1}, "boot_seconds": 40},
    {"name": "prod-api", "formation": {"web": 3}, "traffic_every": 30},
    {"name": "blog-review-12", "formation": {"web": 1}, "boot_seconds": 40},
    {"name": "legacy-cms", "formation": {"web": 1}, "running": False, "boot_seconds": 40},
)


def start_fake(world: SimulatedPaas, clock: Clock) -> FakeDeployment:
    """The Scalingo API of region osc-fr1 over `world`. The provider reads router metrics in
    one-minute buckets: it may date the newest request up to a minute late."""
    api_urls, auth_url, close = serve_fake_scalingo({REGION: world}, [TOKEN], clock)
    options = {"api_token": TOKEN, "region": REGION, "api_url": api_urls[REGION], "auth_url": auth_url}
    return FakeDeployment(world, options=options, activity_resolution_seconds=60.0, close=close)
