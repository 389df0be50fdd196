"""`paastis demo`: the whole bot offline, in a terminal.

A simulated PaaS with a handful of apps (some asleep, some receiving traffic), a database in
a temporary folder, time running 30 times faster, and a terminal "channel": type slash
commands, click buttons by number, watch the scheduler put idle apps to sleep. With stdin
not a terminal, commands are read line by line and the demo exits 0 at the end of input,
once the wakes in flight are done: `printf '/paastis status\\n' | paastis demo`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.clock import ScaledClock
from bot.config import Settings
from bot.durations import format_duration, parse_duration
from bot.engine import Actor
from bot.jobs import JobTimes
from bot.terminal import Terminal, TerminalPoster, TerminalReply
from bot.wiring import Paastis, build
from providers import parse_spec
from providers.fake import FakeProvider

log = logging.getLogger(__name__)

SPEED = 30.0
DEMO_ACTOR = Actor("U0DEMO", "you", is_admin=True, via="demo")
BANNER = """\
Paastis demo — offline, on a simulated PaaS. Time runs {speed:g}× faster ({idle} idle timeout ≈ {real} here).
Type what you would type in Slack:  /paastis status   /paastis wake shop-demo   /paastis help
Click a button by typing its number. Demo only:  wait 20m (jump ahead)  ·  visit hello (send traffic)  ·  quit
"""
DEMO_HELP = """\
Demo commands, besides every /paastis command:
  <number>          click the button with that number
  wait <duration>   let simulated time pass (wait 20m), then run a sweep
  visit <app> [n]   send n requests to an app (default 1)
  quit              leave (end of input does the same, once wakes are done)"""


def demo_settings(db_path: Path) -> Settings:
    spec, problems = parse_spec("fake", {"boot_seconds": "30s"}, where="demo")
    assert spec is not None and not problems, problems
    return Settings(
        providers=(spec,),
        idle_timeout=timedelta(minutes=15),
        sweep_cron="*/5 * * * * *",  # every 5 real seconds: 2.5 simulated minutes
        db_path=db_path,
        self_app=None,
    )


def seed_history(app: Paastis) -> None:
    """Give the simulated apps a past, so they fall asleep a little after the start."""
    now = app.clock.now()
    for provider in app.providers.values():
        if isinstance(provider, FakeProvider):
            world = provider.world
            for name, minutes_ago in (("review-42", 11), ("api-staging", 13)):
                if any(a.id == name for a in world.apps()):
                    world.hit(name, 3, at=now - timedelta(minutes=minutes_ago))


class Demo:
    def __init__(self, out: TextIO, *, speed: float = SPEED, workdir: Path | None = None) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="paastis-demo-")
        self.workdir = workdir or Path(self._tmp.name)
        self.terminal = Terminal(out)
        self.clock = ScaledClock(speed)
        settings = demo_settings(self.workdir / "paastis.db")
        self.app = build(settings, clock=self.clock, poster=TerminalPoster(self.terminal))
        self.app.engine.resumed_wake = lambda ticket, wake: None
        seed_history(self.app)
        self.speed = speed
        self.settings = settings

    def start(self) -> None:
        real = timedelta(seconds=self.settings.idle_timeout.total_seconds() / self.speed)
        self.terminal.say(BANNER.format(speed=self.speed, idle=format_duration(self.settings.idle_timeout),
                                        real=format_duration(real)))  # fmt: skip
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
                self.app.chatops.command(line, DEMO_ACTOR, TerminalReply(self.terminal))
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
            self.terminal.say(f"There is no button [{number}].")
            return
        if button.url:
            self.terminal.say(f"(opens {button.url} in a browser)")
            return
        self.app.chatops.click(button.action, button.value, DEMO_ACTOR, TerminalReply(self.terminal))

    def _wait(self, text: str) -> None:
        try:
            delta = parse_duration(text or "15m", bare_unit="minutes")
        except ValueError as exc:
            self.terminal.say(str(exc))
            return
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
        provider = self.app.providers.get(view.row.provider)
        if not isinstance(provider, FakeProvider):
            self.terminal.say("Traffic can only be simulated on the fake provider's apps.")
            return
        n = int(count) if count.strip().isdigit() else 1
        provider.world.hit(view.row.app_id, n)
        self.terminal.say(f"🌐 {n} request{'s' * (n != 1)} reached {view.label}.")

    def close(self) -> None:
        self.app.engine.wait_idle(timeout=60)
        self.app.close()
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

