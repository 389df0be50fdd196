"""A provider type's fake, running over a simulated PaaS: what the demo and the tests start.

Every provider type declares a `fake` module (`ProviderType.fake`) with::

    start_fake(world, clock) -> FakeDeployment    its fake over `world`, started
    DEMO_APPS                                     the apps the offline demo shows on it

For Scalingo and Clever Cloud that module serves a fake of their HTTP API on loopback, so
the real clients talk HTTP to it; the `fake` provider type needs no API: its provider runs
over the world itself (`start_fake` below). Either way a provider of that type is built
the ordinary way, from `options` and `ProviderDeps(transport=deployment.transport)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Clock, Formation
from providers.fake.simulation import SimulatedPaas

# The apps of the `fake` provider type, by default (`apps:`), in the demo and in Slack.
DEMO_APPS: tuple[dict[str, Any], ...] = (
    {"name": "hello", "formation": {"web": 1}, "traffic_every": 120},
    {"name": "review-42", "formation": {"web": 1}},
    {"name": "api-staging", "formation": {"web": 2, "worker": 1}},
    {"name": "shop-demo", "formation": {"web": 1}, "running": False},
    {"name": "docs-preview", "formation": {"web": 1, "clock": 1}, "running": False},
    {"name": "admin-review-7", "formation": {"web": 1}, "traffic_every": 600},
)


@dataclass
class FakeDeployment:
    """A fake of one provider type over `world`, and how a provider of that type reaches it.

    `options` configure the provider (the fake's URLs, the credentials it accepts);
    `transport` goes into `ProviderDeps.transport` (None when the fake listens on a port).
    `app_defaults` and `app_id` make apps look as that API reports them (a zone, `app_<uuid>`
    ids). `activity_resolution_seconds`: how much later than the true newest request the
    provider may date it (per-minute buckets, a tail probe), for the contract suite.
    """

    world: SimulatedPaas
    options: Mapping[str, Any] = field(default_factory=dict)
    transport: Any = None
    app_defaults: Mapping[str, Any] = field(default_factory=dict)
    app_id: Callable[[str], str] | None = None
    activity_resolution_seconds: float = 0.0
    close: Callable[[], None] = field(default=lambda: None)

    def add_app(self, name: str, formation: Formation | Mapping[str, int] | None = None, **kw: Any) -> str:
        """Add an app to the world as this API would report it; its id at the provider."""
        options = {**self.app_defaults, **kw}
        if self.app_id and "app_id" not in options:
            options["app_id"] = self.app_id(name)
        return self.world.add_app(name, formation=formation, **options).id

    def populate(self, apps: Iterable[Mapping[str, Any]], *, boot_seconds: float = 20.0) -> None:
        """Add `apps`, each a mapping as in `DEMO_APPS` (name, formation, running,
        traffic_every in seconds, boot_seconds)."""
        for entry in apps:
            self.add_app(
                entry["name"],
                entry.get("formation", {"web": 1}),
                running=bool(entry.get("running", True)),
                boot_seconds=entry.get("boot_seconds", boot_seconds),
                steady_every=entry.get("traffic_every"),
            )


def start_fake(world: SimulatedPaas, clock: Clock) -> FakeDeployment:
    """The `fake` provider type over `world`: no API in between, the world is its transport."""
    return FakeDeployment(world, transport=world)
