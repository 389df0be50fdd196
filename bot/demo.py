"""`paastis demo`: the whole bot offline, in a terminal.

Simulated PaaS with a handful of apps each (some asleep, some receiving traffic) behind
one provider of every registered type, each on its fake — the in-memory fake, and the real
Scalingo and Clever Cloud clients talking HTTP to fakes of their APIs on loopback — a
database in a temporary folder, time
running 30 times faster, and a terminal "channel": type slash commands, click buttons by
number, watch the scheduler put idle apps to sleep. With stdin
not a terminal, commands are read line by line and the demo exits 0 at the end of input,
once the wakes in flight are done: `printf '/paastis status\\n' | paastis demo`.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import yaml

from bot.clock import ScaledClock
from bot.config.loading import Settings
from bot.engine.actors import Actor
from bot.engine.jobs import JobTimes
from bot.policy.durations import format_duration, parse_duration
from bot.policy.rules import parse_rules
from bot.terminal import Terminal, TerminalDestination, TerminalPoster
from bot.wiring import Paastis, build
from providers import PROVIDERS, parse_spec, provider_type
from providers.base import Clock, ProviderDeps, ProviderSpec
from providers.fake import SimulatedPaas

log = logging.getLogger(__name__)

SPEED = 30.0
DEMO_ACTOR = Actor("U0DEMO", "you", is_admin=True, via="demo")
BANNER = """\
Paastis demo — offline, on a simulated PaaS. Time runs {speed:g}× faster ({idle} idle timeout ≈ {real} here).
Type what you would type in Slack:  /paastis status   /paastis wake shop-demo   /paastis help
Click a button of the last message by its number. Demo only: wait 20m (jump ahead) · visit hello (send traffic) · quit
The demo starts Paastis itself; a real install first posts its plan and waits for an admin's Start.
"""
DEMO_HELP = """\
Demo commands, besides every /paastis command:
  <number>          click the button with that number in the last message with buttons
  wait <duration>   let simulated time pass (wait 20m), then run a sweep (wakes in
                    flight finish first: their time is their own)
  visit <app> [n]   send n requests to an app (default 1)
  quit              leave (end of input does the same, once wakes are done)"""


DEMO_RULES = """
rules:
  - pattern: '^shop-front$'        # the shop's front reaches its back end: they wake and sleep together
    linked_apps: ['shop-back']
  - pattern: '^prod-'              # production is never put to sleep
    protect: true
  - pattern: '^docs-'
    idle_timeout: 45m
"""


@dataclass
class DemoWorlds:
    """The simulated PaaS behind each demo provider, what its provider is built with, and
    how to stop the fakes."""

    clock: Clock
    by_provider: dict[str, SimulatedPaas] = field(default_factory=dict)
    transports: dict[str, object] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def deps_for(self, spec: ProviderSpec) -> ProviderDeps:
        return ProviderDeps(clock=self.clock, transport=self.transports.get(spec.name), user_agent="paastis-demo")

    def close(self) -> None:
        for close in self.closers:
            close()


def demo_providers(clock: Clock) -> tuple[list[ProviderSpec], DemoWorlds]:
    """One provider of every registered type, over its fake (`ProviderType.fake`) started on
    a simulated PaaS of its own, holding the fake's `DEMO_APPS`."""
    worlds = DemoWorlds(clock)
    specs = []
    for kind in PROVIDERS:
        fake = importlib.import_module(provider_type(kind).fake)
        deployment = fake.start_fake(SimulatedPaas(clock), clock)
        worlds.closers.append(deployment.close)
        deployment.populate(fake.DEMO_APPS)
        spec, problems = parse_spec(kind, deployment.options, where="demo")
        assert spec is not None, problems
        assert not problems, problems
        specs.append(spec)
        worlds.by_provider[spec.name] = deployment.world
        worlds.transports[spec.name] = deployment.transport
    return specs, worlds


def demo_settings(db_path: Path, specs: list[ProviderSpec]) -> Settings:
    rules, problems, _ = parse_rules(yaml.safe_load(DEMO_RULES)["rules"])
    assert not problems, problems
    return Settings(
        providers=tuple(specs),
        idle_timeout=timedelta(minutes=15),
        sweep_cron="*/5 * * * * *",  # every 5 real seconds: 2.5 simulated minutes
        db_path=db_path,
        rules=rules,
    )


def seed_history(app: Paastis, worlds: DemoWorlds) -> None:
    """Give the simulated apps a past, so some fall asleep a little after the start."""
    now = app.clock.now()
    history = {
        "review-42": 11,
        "api-staging": 13,
        "shop-front": 1,
        "prod-api": 1,
        "blog-review-12": 14,
        "docs-site": 20,
        "api-pr-5": 2,
        "hello": 1,
        "admin-review-7": 3,
    }
    for world in worlds.by_provider.values():
        for sim in world.apps():
            if sim.name in history:
                world.hit(sim.id, 3, at=now - timedelta(minutes=history[sim.name]))


class Demo:
    def __init__(self, out: TextIO, *, speed: float = SPEED, workdir: Path | None = None) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="paastis-demo-")
        self.workdir = workdir or Path(self._tmp.name)
        self.terminal = Terminal(out)
        self.clock = ScaledClock(speed)
        specs, self.worlds = demo_providers(self.clock)
        settings = demo_settings(self.workdir / "paastis.db", specs)
        poster = TerminalPoster(self.terminal)
        self.app = build(settings, clock=self.clock, deps_for=self.worlds.deps_for, poster=poster)
        seed_history(self.app, self.worlds)
        self.speed = speed
        self.settings = settings

    def start(self) -> None:
        real = timedelta(seconds=self.settings.idle_timeout.total_seconds() / self.speed)
        self.terminal.say(
            BANNER.format(
                speed=self.speed, idle=format_duration(self.settings.idle_timeout), real=format_duration(real)
            )
        )
        self.app.engine.start(DEMO_ACTOR)  # no plan to approve here: sleeps are what the demo shows
        fast = timedelta(seconds=5)
        self.app.start(JobTimes(discover=fast, observe=fast, schedules=fast))

    def handle(self, line: str) -> bool:
        """Run one line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit", "q"):
            return False
        if word == "help" and not rest:
            self.terminal.say(DEMO_HELP)
        elif line.startswith("/"):
            if not line.lower().startswith("/paastis"):
                self.terminal.say(f"Only /paastis exists here; try /paastis help. (got {line.split()[0]})")
            else:
                self.app.chatops.command(line, DEMO_ACTOR, TerminalDestination(self.terminal))
        elif word.isdigit() or (word == "click" and rest.strip().isdigit()):
            self._click(int(word if word.isdigit() else rest.strip()))
        elif word == "wait":
            self._wait(rest)
        elif word == "visit":
            self._visit(rest)
        else:
            self.terminal.say(f"Unknown input {line!r}: type /paastis help, help, or a button number.")
        return True

    def _click(self, number: int) -> None:
        button = self.terminal.button(number)
        if button is None:
            self.terminal.say(f"There is no button [{number}] in the last message with buttons.")
            return
        if button.url:
            self.terminal.say(f"(opens {button.url} in a browser)")
            return
        self.app.chatops.click(button.action, button.value, DEMO_ACTOR, TerminalDestination(self.terminal))

    def _wait(self, text: str) -> None:
        try:
            delta = parse_duration(text or "15m", bare_unit="minutes")
        except ValueError as exc:
            self.terminal.say(str(exc))
            return
        # wakes in flight end first, at their simulated pace: a jump must not count as boot time
        self.app.engine.wait_idle(timeout=60)
        self.clock.advance(delta)
        self.terminal.say(f"⏩ {format_duration(delta)} later…")
        self.app.engine.discover()
        self.app.engine.sweep()

    def _visit(self, text: str) -> None:
        name, _, count = text.strip().partition(" ")
        try:
            view = self.app.engine.find(name)
        except LookupError as exc:
            self.terminal.say(str(exc))
            return
        world = self.worlds.by_provider.get(view.row.provider)
        if world is None:
            self.terminal.say(f"{view.label} is not on a simulated PaaS.")
            return
        n = int(count) if count.strip().isdigit() else 1
        world.hit(view.row.app_id, n)
        self.terminal.say(f"🌐 {n} request{'s' * (n != 1)} reached {view.label}.")

    def close(self) -> None:
        self.app.engine.wait_idle(timeout=60)
        self.app.close()
        self.worlds.close()
        if self._tmp:
            self._tmp.cleanup()


def run(lines: Iterable[str], out: TextIO, *, interactive: bool, speed: float = SPEED) -> int:
    demo = Demo(out, speed=speed)
    try:
        demo.start()
        for line in lines:
            if not interactive:
                demo.terminal.say(f"> {line.rstrip()}")
            if not demo.handle(line):
                break
        return 0
    finally:
        demo.close()
