"""A Scalingo provider on the Scalingo API fake in process (httpx's WSGI transport, no socket).

For the Scalingo suites, which count and break calls; the contract suite runs every type
on its fake as `providers.scalingo.fake_api.deployment` starts it (see `kits`).
"""

from __future__ import annotations

from typing import Any

import httpx

from providers.base import ProviderDeps, ProviderSpec
from providers.scalingo import PROVIDER_TYPE, ScalingoProvider
from providers.scalingo.fake_api import FakeScalingo
from tests.fakes.clock import FakeClock

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
