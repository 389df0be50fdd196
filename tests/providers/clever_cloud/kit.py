"""A Clever Cloud provider on the fake Clever Cloud API over loopback, and helpers to steer it."""

from __future__ import annotations

from typing import Any

from providers import parse_spec
from providers.base import PaasApp, ProviderDeps
from providers.budget import CallBudget
from providers.clever_cloud import CleverCloudProvider, build
from providers.clever_cloud.client import CleverCloudClient
from providers.clever_cloud.fake_api import FakeCleverCloudServer
from providers.clever_cloud.fake_api.payloads import clever_app_id
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock

ZONE = "par"
ORG = "orga_3b6c7a52-0f7e-4c0b-9d55-acme00000001"


def make_provider(fake: FakeCleverCloudServer, clock: FakeClock, **options: object) -> CleverCloudProvider:
    spec, problems = parse_spec("clever-cloud", fake.options(**{"zone": ZONE, **options}), where="test")
    assert spec is not None, problems
    assert not problems, problems
    return build(spec, ProviderDeps(clock=clock))


def make_client(fake: FakeCleverCloudServer, clock: FakeClock, **settings: Any) -> CleverCloudClient:
    """A client of the fake with a budget of its own; `settings` such as `silence_timeout`."""
    return CleverCloudClient(
        api_host=fake.url,
        credentials=fake.api.credentials,
        signature_method="PLAINTEXT",
        clock=clock,
        budget=CallBudget(clock, limit=120, reserve=24),
        provider="clever-par",
        **settings,
    )


def add(world: SimulatedPaas, name: str, **kw: object) -> str:
    return world.add_app(name, app_id=clever_app_id(name), **{"zone": ZONE, **kw}).id


def calls_since(fake: FakeCleverCloudServer, mark: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.api.requests[mark:]]


def settle(provider: CleverCloudProvider, clock: FakeClock, app_id: str) -> PaasApp:
    """Follow get_app like the bot does, until the app is neither waking nor stopping."""
    app = provider.get_app(app_id)
    for _ in range(1000):
        if not app.state.busy:
            break
        clock.advance(seconds=provider.poll_interval)
        app = provider.get_app(app_id)
    return app
