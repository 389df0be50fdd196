"""The Clever Cloud fake as the demo and the contract suite start it: zone par, on loopback.

Apps live in the personal space, in zone `par`, with `app_<uuid>` ids; the provider
manages zone `par` and signs with PLAINTEXT (the default) with the fake's credentials.
"""

from __future__ import annotations

from typing import Any

from providers.base import Clock
from providers.clever_cloud.fake_api import serve
from providers.clever_cloud.fake_api.payloads import clever_app_id
from providers.fake.deployment import FakeDeployment
from providers.fake.simulation import SimulatedPaas

ZONE = "par"

# A redeploy takes minutes on Clever Cloud: the demo's apps boot in 150 s.
DEMO_APPS: tuple[dict[str, Any], ...] = (
    {"name": "docs-site", "formation": {"web": 1}, "boot_seconds": 150},
    {"name": "crm-staging", "formation": {"web": 1}, "running": False, "boot_seconds": 150},
    {"name": "api-pr-5", "formation": {"web": 1}, "traffic_every": 240, "boot_seconds": 150},
)


def start_fake(world: SimulatedPaas, clock: Clock) -> FakeDeployment:
    """The Clever Cloud API over `world`, on a loopback port. The provider dates the newest
    request of a window holding 100 requests or more to within 60 s (a tail probe)."""
    server = serve(world, zone=ZONE)
    return FakeDeployment(
        world,
        options=server.options(zone=ZONE),
        app_defaults={"zone": ZONE},
        app_id=clever_app_id,
        activity_resolution_seconds=60.0,
        close=server.close,
    )
