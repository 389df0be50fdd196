"""`serve` as built in Slack, on a real provider client (Scalingo, Clever Cloud) talking HTTP to
that provider's fake API, over a simulated world the test steers — against the fake Slack Web
API, which rate-limits chat.postMessage per channel like Slack."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.slack.app import SlackParts, SlackSide, connect, slack_side
from bot.wiring import Paastis, build
from providers import parse_spec
from providers.base import ProviderDeps
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from tests.bot.slack.conftest import CHANNEL, Rig, settings_for
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack
from tests.providers.kits import start_fake


class ProviderRig(Rig):
    """The Slack rig on a provider of type `kind` over its fake API (served on loopback)."""

    def __init__(
        self,
        tmp_path: Path,
        clock: FakeClock,
        slack: FakeSlack,
        kind: str,
        *,
        rules: list[dict[str, Any]] | None = None,
        start: Callable[[SimulatedPaas], FakeDeployment] | None = None,
    ) -> None:
        """`start`: how the fake API is started over the world (default: as the demo starts it)."""
        self.clock, self.slack = clock, slack
        self.world = SimulatedPaas(clock)
        self.deployment = start(self.world) if start else start_fake(kind, self.world, clock)
        spec, problems = parse_spec(kind, self.deployment.options, where="test")
        assert spec is not None, problems
        self.provider_name = spec.name
        self.settings = dataclasses.replace(settings_for(tmp_path, slack, rules=rules), providers=(spec,))
        self.side: SlackSide = slack_side(self.settings, clock)
        deps = ProviderDeps(clock=clock, transport=self.deployment.transport, user_agent="paastis-tests")
        self.paastis: Paastis = build(
            self.settings,
            clock=clock,
            deps_for=lambda spec: deps,
            poster=self.side.poster,
            groups_of=self.side.directory.groups_of,
        )
        self.parts: SlackParts = connect(self.paastis, self.side, self.settings.slack)
        self.bolt = self.parts.bolt
        self._keys = 0

    def add_app(self, name: str, formation: dict[str, int] | None = None, **kw: Any) -> str:
        """An app as the provider's API reports it (its zone, its kind of id); its id."""
        return self.deployment.add_app(name, formation or {"web": 1}, **kw)

    def ref(self, app_id: str) -> str:
        """What a button carries to name the app: `provider:app id`."""
        return f"{self.provider_name}:{app_id}"

    def sweeps(self, every: float, count: int) -> None:
        """What the scheduler does: discovery and a sweep every `every` seconds."""
        for _ in range(count):
            self.clock.advance(seconds=every)
            self.paastis.engine.discover()
            self.paastis.engine.sweep()

    def channel(self) -> list[str]:
        """The texts of the channel's top-level messages, once every post went out."""
        assert self.side.poster.flush(timeout=20)
        return [m.text for m in self.slack.messages if m.channel == CHANNEL and m.thread_ts is None]

    @contextmanager
    def held_scales(self) -> Iterator[threading.Event]:
        """The fake API holds its answer to every scale (wake or sleep) until the returned event
        is set (or the block ends): with a fake clock a wake is otherwise over before Slack
        even gets the click's acknowledgement."""
        gate = threading.Event()
        original = self.world.scale

        def scale(app_id: str, formation: Any) -> Any:
            assert gate.wait(10), "a held scale was never released"
            return original(app_id, formation)

        self.world.scale = scale  # type: ignore[method-assign]
        try:
            yield gate
        finally:
            gate.set()
            del self.world.scale

    def close(self) -> None:
        super().close()
        self.deployment.close()
