"""A crash in the middle of a sleep leaves a trace: `paastis sleep` is killed (SIGKILL) right
before or right after the provider's scale-to-zero, and the next start finishes or rolls
back that sleep and tells the channel once. Real processes, real file, real Scalingo client."""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.messages import Message
from bot.config.loading import build_settings
from bot.wiring import build
from providers.base import AppState
from tests.bot.engine import processes
from tests.bot.engine.test_hooks import running

QUIET = {"START_AND_STOP_CHECKING_INTERVAL_CRON": "0 0 1 1 *"}  # no sweep of its own during the test


class Channel:
    def __init__(self) -> None:
        self.posts: list[Message] = []

    def post(self, message: Message, channel: str | None) -> None:
        self.posts.append(message)


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def restart(env: dict[str, str]) -> tuple[Channel, list, list, list]:
    """Start Paastis again on the same database: what it tells, its sleep intents, naps and slept events."""
    channel = Channel()
    paastis = build(build_settings({**env, **QUIET}), environ=env, poster=channel)
    try:
        paastis.start()
        intents = paastis.store.sleep_intents()
        naps = paastis.store.naps(paastis.clock.now() - timedelta(hours=1))
        slept = paastis.store.events(actions=("slept",))
    finally:
        paastis.close()
    return channel, intents, naps, slept


@pytest.mark.slow
def test_a_kill_right_before_the_scale_to_zero_is_rolled_back_and_told_once(tmp_path: Path) -> None:
    marker = tmp_path / "hook.pid"
    with processes.scalingo(tmp_path) as (world, _fake, env):
        world.add_app("idle", formation={"web": 2})
        env = {**env, "HOOKS_BEFORE_STOP": f"echo $$ > {marker}; sleep 60"}
        cli = processes.cli(env, "sleep", "idle")
        wait_for(marker)
        cli.send_signal(signal.SIGKILL)
        cli.communicate()

        channel, intents, naps, slept = restart(env)

        assert world.app("idle").state is AppState.RUNNING
    assert [m.text for m in channel.posts] == [
        "♻️ Paastis restarted in the middle of putting apps to sleep.\nStill up (the next sweep decides again): idle"
    ]
    assert (intents, naps, slept) == ([], [], [])
    hook, deadline = int(marker.read_text()), time.monotonic() + 5
    while running(hook) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(hook)  # the before_stop hook died with the killed process


@pytest.mark.slow
def test_a_kill_right_after_the_scale_to_zero_is_finished_nap_event_and_notice(tmp_path: Path) -> None:
    scaled, release = tmp_path / "scaled", threading.Event()

    def pause_after_scale(app):
        def wrapped(environ, start_response):
            answer = list(app(environ, start_response))  # the world has scaled to zero
            if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/scale"):
                scaled.touch()
                release.wait(30)  # the answer never reaches the killed process
            return answer

        return wrapped

    with processes.scalingo(tmp_path, pause_after_scale) as (world, _fake, env):
        world.add_app("idle", formation={"web": 2, "worker": 1})
        cli = processes.cli(env, "sleep", "idle")
        try:
            wait_for(scaled)
            cli.send_signal(signal.SIGKILL)
            cli.communicate()
        finally:
            release.set()

        channel, intents, naps, slept = restart(env)

        assert world.app("idle").state in (AppState.STOPPING, AppState.SLEEPING)
    assert [m.text for m in channel.posts] == [
        "♻️ Paastis restarted in the middle of putting apps to sleep.\nAsleep (recorded now): idle"
    ]
    assert intents == []
    (nap,) = naps
    assert nap.end is None
    assert (nap.formation.amount("web"), nap.formation.amount("worker")) == (2, 1)
    (event,) = slept
    assert event.reason.endswith("(finished after a restart)")
