"""The `fake` provider: the `Provider` protocol over a simulated PaaS (`providers.fake.simulation`).

`PROVIDER_NAME=fake` selects it like any real provider: the offline demo, trying Paastis in
Slack before connecting a PaaS, and the tests run the whole bot on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from providers.base import (
    Activity,
    AppState,
    BudgetSnapshot,
    Formation,
    PaasApp,
    Process,
    ProviderDeps,
    ProviderSpec,
    ProviderType,
)
from providers.budget import CallBudget
from providers.fake.deployment import DEMO_APPS, FakeDeployment
from providers.fake.simulation import (
    DEFAULT_FORMATION,
    Call,
    SimApp,
    SimOperation,
    SimulatedPaas,
    scaled_to_zero,
)
from providers.options import InvalidOption, Option, positive_int, seconds

# -- the provider ------------------------------------------------------------------------


__all__ = ["PROVIDER_TYPE", "Call", "FakeProvider", "SimApp", "SimOperation", "SimulatedPaas"]


class FakeProvider:
    """The `Provider` protocol over a `SimulatedPaas`."""

    kind = "fake"

    def __init__(
        self,
        world: SimulatedPaas,
        *,
        name: str = "fake",
        poll_interval: float = 1.0,
        wake_timeout: float = 120.0,
        budget: CallBudget | None = None,
    ) -> None:
        self.world = world
        self.name = name
        self.poll_interval = poll_interval
        self.wake_timeout = wake_timeout
        self._budget = budget

    def list_apps(self) -> list[PaasApp]:
        self._call("list")
        return [self._view(a) for a in self.world.apps()]

    def get_app(self, app_id: str) -> PaasApp:
        self._call("get", app_id)
        return self._view(self.world.app(app_id))

    def activity(self, app: PaasApp, since: datetime) -> Activity:
        self._call("activity", app.id)
        now = self.world.clock.now()
        count, last = self.world.requests_between(app.id, since, now)
        deployed = self.world.app(app.id).deployed_at
        return Activity(since=since, until=now, requests=count, last_request_at=last, last_deploy_at=deployed)

    def sleep(self, app: PaasApp) -> Formation:
        self._call("sleep", app.id)
        current = self.world.app(app.id)
        if not current.formation.running:
            return current.formation
        return self.world.scale(app.id, scaled_to_zero(current.formation)).before

    def wake(self, app: PaasApp, formation: Formation | None) -> None:
        self._call("wake", app.id)
        current = self.world.app(app.id)
        if current.state is AppState.RUNNING:
            return
        target = formation if formation and formation.running else None
        if target is None:
            names = list(current.formation.processes)
            target = (
                Formation(tuple(Process(p.name, 1 if p.name == "web" else 0, p.size) for p in names))
                if any(p.name == "web" for p in names)
                else DEFAULT_FORMATION
            )
        self.world.scale(app.id, target)

    def budget(self) -> BudgetSnapshot | None:
        return self._budget.snapshot() if self._budget else None

    def _call(self, operation: str, app_id: str | None = None) -> None:
        if self._budget:
            self._budget.spend(operation)
        self.world.record(operation, app_id)

    def _view(self, app: SimApp) -> PaasApp:
        return PaasApp(
            provider=self.name,
            id=app.id,
            name=app.name,
            state=app.state,
            url=app.url,
            formation=app.formation,
            last_deployed_at=app.deployed_at,
            problem=app.problem,
        )


# -- configuration -----------------------------------------------------------------------


def apps_option(value: Any) -> tuple[dict[str, Any], ...]:
    """`apps:` of a fake provider: names, or mappings with name, formation, running, traffic_every."""
    if not isinstance(value, list) or not value:
        raise InvalidOption("expected a list of app names or mappings (name, formation, running, traffic_every)")
    apps = []
    for item in value:
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InvalidOption(f"each app needs a name; got {item!r}")
        unknown = set(entry) - {"name", "formation", "running", "traffic_every"}
        if unknown:
            raise InvalidOption(f"unknown key(s) {', '.join(sorted(unknown))} in app {entry['name']!r}")
        formation = entry.get("formation", {"web": 1})
        if not isinstance(formation, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in formation.items()
        ):
            raise InvalidOption(f"formation of {entry['name']!r} must map process types to amounts")
        apps.append(dict(entry))
    return tuple(apps)


OPTIONS = {
    "apps": Option("the simulated apps (default: a demo set)", apps_option, default=DEMO_APPS),
    "boot_seconds": Option("how long a simulated app takes to boot", seconds, default=20.0),
    "latency": Option("delay added to every simulated API call, in seconds", seconds, default=0.0),
    "wake_timeout": Option("how long a wake may take before it fails", seconds, default=120.0),
    "rate_limit": Option("simulated API calls allowed per minute (default: unlimited)", positive_int),
}


def build(spec: ProviderSpec, deps: ProviderDeps) -> FakeProvider:
    """A fake provider over a new world of `apps`; or over the world given as `deps.transport`
    (the demo's and the tests', see `start_fake`), whose apps are then the caller's."""
    options = spec.options
    if isinstance(deps.transport, SimulatedPaas):
        world = deps.transport
    else:
        world = SimulatedPaas(deps.clock, latency=options.get("latency") or 0.0)
        apps = options.get("apps") or DEMO_APPS
        FakeDeployment(world).populate(apps, boot_seconds=options.get("boot_seconds") or 20.0)
    limit = options.get("rate_limit")
    budget = CallBudget(deps.clock, limit=limit, reserve=max(1, limit // 5)) if limit and limit > 1 else None
    return FakeProvider(world, name=spec.name, wake_timeout=options.get("wake_timeout") or 120.0, budget=budget)


PROVIDER_TYPE = ProviderType(
    kind="fake",
    summary="a simulated PaaS in memory: the offline demo, and trying Paastis in Slack",
    options=OPTIONS,
    build=build,
    fake="providers.fake.deployment",
    default_name=lambda values: "fake",
    prices={"*": 0.02},
)
