"""The Scalingo provider on the Scalingo API fake, in process, for the contract suite."""

from __future__ import annotations

from typing import Any

import httpx

from providers.base import ProviderDeps, ProviderSpec
from providers.fake import SimulatedPaas
from providers.scalingo import PROVIDER_TYPE, ScalingoProvider
from providers.scalingo.fake_api import FakeScalingo
from tests.fakes.clock import FakeClock
from tests.providers.kits import Kit, world_adder

API_TOKEN = "tk-us-kit-0123456789abcdef"
REGION = "osc-fr1"


def build_provider(
    fake: FakeScalingo,
    clock: FakeClock,
    region: str = REGION,
    *,
    token: str = API_TOKEN,
    transport: httpx.BaseTransport | None = None,
    **options: Any,
) -> ScalingoProvider:
    """A provider for `region` of `fake`: every request goes to the fake (or `transport`)."""
    values = {"api_token": token, "region": region, "api_url": fake.api_urls[region], "auth_url": fake.auth_url}
    spec = ProviderSpec("scalingo", f"scalingo-{region}", {**values, **options}, PROVIDER_TYPE.secrets)
    deps = ProviderDeps(clock=clock, transport=transport or fake.transport(), user_agent="paastis-tests")
    provider = PROVIDER_TYPE.build(spec, deps)
    assert isinstance(provider, ScalingoProvider)
    return provider


def make_kit(clock: FakeClock) -> Kit:
    world = SimulatedPaas(clock)
    fake = FakeScalingo({REGION: world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock)
    return Kit(
        provider=provider,
        world=world,
        clock=clock,
        add_app=world_adder(world),
        activity_resolution_seconds=60,
        close=provider.close,
    )
