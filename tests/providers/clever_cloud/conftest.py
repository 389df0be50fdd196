from __future__ import annotations

import pytest

from providers.clever_cloud import CleverCloudProvider
from providers.clever_cloud.fake_api import FakeCleverCloudServer, serve
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.providers.clever_cloud.kit import ORG, ZONE, make_provider


@pytest.fixture
def fake(world: SimulatedPaas):
    with serve(world, zone=ZONE, heartbeat_seconds=0.05, organisations={ORG: "Acme"}) as server:
        yield server


@pytest.fixture
def provider(fake: FakeCleverCloudServer, clock: FakeClock) -> CleverCloudProvider:
    return make_provider(fake, clock)
