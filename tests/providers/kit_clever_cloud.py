"""The Clever Cloud provider type's kit: the real client, signing with HMAC-SHA512 (the
default), talking over loopback HTTP to the fake Clever Cloud API over the shared world.

Apps live in the personal space, in zone `par`, with `app_<uuid>` ids; the provider
manages zone `par`. The provider dates the newest request of a window holding 100 requests
or more to within 60 s (a tail probe), exactly otherwise.
"""

from __future__ import annotations

from providers import parse_spec
from providers.base import ProviderDeps
from providers.clever_cloud import build
from providers.clever_cloud.fake_api import serve
from providers.clever_cloud.fake_api.payloads import clever_app_id
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.providers.kits import Kit, world_adder

ZONE = "par"


def make_kit(clock: FakeClock) -> Kit:
    world = SimulatedPaas(clock)
    server = serve(world, zone=ZONE, heartbeat_seconds=0.05)
    spec, problems = parse_spec("clever-cloud", server.options(zone=ZONE), where="kit")
    assert spec is not None and not problems, problems
    return Kit(
        provider=build(spec, ProviderDeps(clock=clock)),
        world=world,
        clock=clock,
        add_app=world_adder(world, id_for=clever_app_id, zone=ZONE),
        activity_resolution_seconds=60.0,
        close=server.close,
    )
