"""Provider kits: a provider under test, wired to a simulated world the test can steer.

A kit is what the contract suite needs to run against one provider type: the provider,
the `SimulatedPaas` behind it (directly for `fake`, behind a fake HTTP API for the real
provider types) and the clock both follow. Every registered type has one: its fake
(`ProviderType.fake`) is started over a new world, and the provider is built from the
registry with the options and transport the fake gives.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from providers import build_provider, parse_spec, provider_type
from providers.base import Provider, ProviderDeps
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from tests.fakes.clock import FakeClock


@dataclass
class Kit:
    provider: Provider
    world: SimulatedPaas
    clock: FakeClock
    # add_app(name, formation=..., running=..., boot_seconds=...) -> the provider's app id
    add_app: Callable[..., str]
    # how precisely the provider reports the time of the last request (Scalingo: 1-minute buckets)
    activity_resolution_seconds: float = 0.0
    close: Callable[[], None] = field(default=lambda: None)


def start_fake(kind: str, world: SimulatedPaas, clock: FakeClock) -> FakeDeployment:
    """The fake of provider type `kind`, started over `world`."""
    return importlib.import_module(provider_type(kind).fake).start_fake(world, clock)


def make_kit(kind: str, clock: FakeClock) -> Kit:
    """A provider of type `kind` over its fake, on a new world."""
    deployment = start_fake(kind, SimulatedPaas(clock), clock)
    spec, problems = parse_spec(kind, deployment.options, where="kit")
    assert spec is not None, problems
    assert not problems, problems
    deps = ProviderDeps(clock=clock, transport=deployment.transport, user_agent="paastis-tests")
    provider = build_provider(spec, deps)

    def close() -> None:
        if hasattr(provider, "close"):
            provider.close()
        deployment.close()

    return Kit(
        provider=provider,
        world=deployment.world,
        clock=clock,
        add_app=deployment.add_app,
        activity_resolution_seconds=deployment.activity_resolution_seconds,
        close=close,
    )
