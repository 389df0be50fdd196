"""Provider kits: a provider under test, wired to a simulated world the test can steer.

A kit is what the contract suite needs to run against one provider type: the provider,
the `SimulatedPaas` behind it (directly for `fake`, behind a fake HTTP API for the real
provider types) and the clock both follow. Each provider type adds a `make_kit` in
`tests/providers/kit_<type>.py`; the contract suite runs over every kit it finds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Formation, Provider
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock

KIT_MODULES = {
    "fake": "tests.providers.kit_fake",
    "scalingo": "tests.providers.kit_scalingo",
    "clever-cloud": "tests.providers.kit_clever_cloud",
}


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


def load_kit(kind: str, clock: FakeClock) -> Kit | None:
    """The kit of provider type `kind`, or None while that type has none yet."""
    try:
        module = importlib.import_module(KIT_MODULES[kind])
    except ModuleNotFoundError as exc:
        if exc.name == KIT_MODULES[kind]:
            return None
        raise
    return module.make_kit(clock)


def world_adder(world: SimulatedPaas, **defaults: Any) -> Callable[..., str]:
    """An `add_app` that creates the app in `world`, with per-provider defaults (ids, owners)."""

    def add(name: str, formation: Formation | Mapping[str, int] | None = None, **kw: Any) -> str:
        options = {**defaults, **kw}
        id_for = options.pop("id_for", None)
        if id_for:
            options["app_id"] = id_for(name)
        return world.add_app(name, formation=formation, **options).id

    return add
