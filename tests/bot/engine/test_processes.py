"""Several `paastis` processes on one SQLite file: `serve` and `paastis wake` beside it.

Real processes, a real file, the real Scalingo client against the Scalingo API fake on
loopback: a wake claims the app in the database, so however many processes ask, the
provider is asked once; the others follow that wake to its end.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.config.loading import build_settings
from bot.engine.actors import Actor
from bot.engine.wake_jobs import Phase
from bot.wiring import build
from providers.base import AppState
from tests.bot.engine import processes


@pytest.fixture
def scalingo(tmp_path: Path):
    with processes.scalingo(tmp_path) as (world, fake, env):
        world.add_app("sleepy", running=False, boot_seconds=6)
        yield world, fake, env


@pytest.mark.slow
def test_three_cli_wakes_and_a_click_on_one_database_make_one_scale_up(scalingo) -> None:
    world, fake, env = scalingo
    paastis = build(build_settings(env), environ=env)  # what `serve` runs, in this process
    try:
        paastis.engine.discover()
        clis = [processes.cli(env, "wake", "sleepy") for _ in range(3)]
        time.sleep(1.5)  # the CLIs start, discover and claim meanwhile
        ticket = paastis.engine.wake(paastis.engine.find("sleepy"), Actor("U0ADA", "Ada"))  # the Slack click
        results = [p.communicate(timeout=120) for p in clis]
        progress = ticket.wait(timeout=60)
    finally:
        paastis.close()

    for process, (out, err) in zip(clis, results, strict=True):
        assert process.returncode == 0, out + err
        assert "✅ sleepy is up" in out, out + err
        assert "Traceback" not in err
        assert "locked" not in out + err
    assert progress.phase is Phase.UP
    scale_ups = [r for r in fake.received if r.method == "POST" and r.path.endswith("/scale")]
    assert len(scale_ups) == 1, scale_ups  # one scale-up, no 409
    assert world.app("sleepy").state is AppState.RUNNING
    assert len(paastis.store.events(actions=("woke",))) == 1
