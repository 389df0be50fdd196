"""An engine on a simulated PaaS, a real SQLite file and a fake clock: what engine tests drive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.actors import Actor
from bot.engine.audit import Audit
from bot.engine.engine import Engine, EngineOptions
from bot.engine.fleet import Fleet
from bot.engine.hooks import Hooks
from bot.engine.notices import Notice
from bot.engine.outcomes import SweepReport
from bot.engine.wake_jobs import TicketProgress
from bot.policy.catalog import AppView, CatalogInputs, ProviderInfo
from bot.policy.rules import Rule, parse_rules
from bot.policy.schedules import Schedules, parse_schedules
from bot.store.store import Store
from providers.base import AppState, Provider
from providers.budget import CallBudget
from providers.fake import FakeProvider, SimulatedPaas
from tests.fakes.clock import FakeClock

ADA = Actor("U0ADA", "Ada", is_admin=True)


class Harness:
    def __init__(
        self,
        path: Path,
        clock: FakeClock,
        *,
        rules: Sequence[dict[str, Any]] = (),
        idle: timedelta = timedelta(minutes=15),
        ignored: Sequence[str] = (),
        self_app: str | None = None,
        dry_run: bool | None = False,  # None: the safe first run (PAASTIS_DRY_RUN unset)
        rate_limit: int | None = None,
        schedules: dict[str, Any] | None = None,
        world: SimulatedPaas | None = None,
        provider: Provider | None = None,
        hooks: Hooks | None = None,
        on_event: Callable[[dict], None] | None = None,
        on_notice: Callable[[Notice], None] | None = None,
    ) -> None:
        self.path = path
        self.clock = clock
        self.world = world or SimulatedPaas(clock)
        budget = CallBudget(clock, limit=rate_limit, reserve=max(1, rate_limit // 5)) if rate_limit else None
        self.provider = provider or FakeProvider(
            self.world, name="fake", poll_interval=2.0, wake_timeout=120.0, budget=budget
        )
        parsed, problems, _ = parse_rules(list(rules))
        assert not problems, problems
        self.rules: tuple[Rule, ...] = parsed
        zone = ZoneInfo("Europe/Paris")
        parsed_schedules, schedule_problems = parse_schedules(schedules, zone)
        assert not schedule_problems, schedule_problems
        self.schedules = Schedules(parsed_schedules, zone)
        self.inputs = CatalogInputs(
            providers={self.provider.name: ProviderInfo(self.provider.name, self.provider.kind)},
            rules=self.rules,
            default_idle=idle,
            ignored_apps=tuple(ignored),
            self_app=self_app,
            schedule_of=self.schedules.state,
        )
        self.options = EngineOptions(dry_run=dry_run)
        self.hooks = hooks
        self.on_event = on_event
        self.on_notice = on_notice  # e.g. a ChannelNotifier, to see what the channel gets
        self.notices: list[Notice] = []
        self.events: list[dict] = []
        self.engine = self._engine()

    def _engine(self) -> Engine:
        store = Store(self.path)
        fleet = Fleet({self.provider.name: self.provider}, store, self.clock, self.inputs)
        audit = Audit(store, self.clock, self._event)
        return Engine(fleet, audit, hooks=self.hooks, notify=self._notice, options=self.options)

    def _notice(self, notice: Notice) -> None:
        self.notices.append(notice)
        if self.on_notice:
            self.on_notice(notice)

    def _event(self, event: dict) -> None:
        self.events.append(event)
        if self.on_event:
            self.on_event(event)

    def restart(self) -> None:
        """Stop the engine and start a new one on the same database: what a deploy does."""
        self.engine.shutdown()
        self.engine.store.close()
        self.engine = self._engine()

    def add(self, name: str, formation: dict[str, int] | None = None, **kw: Any) -> str:
        return self.world.add_app(name, formation=formation or {"web": 1}, **kw).id

    def discover(self) -> dict[str, str]:
        return self.engine.discover()

    def sweep(self) -> SweepReport:
        return self.engine.sweep()

    def view(self, name: str) -> AppView:
        return self.engine.find(name)

    def state(self, name: str) -> AppState:
        return self.world.app(name).state

    def wake(self, name: str, actor: Actor = ADA) -> TicketProgress:
        ticket = self.engine.wake(self.view(name), actor)
        return ticket.wait(timeout=10)

    def calls(self, operation: str, app: str | None = None) -> int:
        return sum(1 for c in self.world.calls if c.operation == operation and app in (None, c.app))

    def events_of(self, action: str) -> list[dict]:
        return [e for e in self.events if e["action"] == action]
