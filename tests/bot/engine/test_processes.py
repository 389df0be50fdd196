"""Several `paastis` processes on one SQLite file: `serve` and `paastis wake` beside it.

Real processes, a real file, the real Scalingo client against the Scalingo API fake on
loopback: a wake claims the app in the database, so however many processes ask, the
provider is asked once; the others follow that wake to its end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.config.loading import build_settings
from bot.engine.actors import Actor
from bot.engine.wake_jobs import Phase
from bot.wiring import build
from providers.base import AppState
from providers.fake import SimulatedPaas
from providers.loopback import LoopbackServer
from providers.scalingo.fake_api import FakeScalingo

ROOT = Path(__file__).parents[3]
TOKEN = "tk-us-processes-0123456789"


@pytest.fixture
def scalingo(tmp_path: Path):
    """A world with a sleeping app, the Scalingo API fake serving it on loopback, and the
    environment that points `paastis` at both and at one database file."""
    clock = SystemClock()
    world = SimulatedPaas(clock)
    world.add_app("sleepy", running=False, boot_seconds=6)
    fake = FakeScalingo({"osc-fr1": world}, [TOKEN], clock, rate_limit=10_000)
    auth, region = LoopbackServer(fake.auth_app), LoopbackServer(fake.regions["osc-fr1"])
    env = {
        "PROVIDER_NAME": "scalingo",
        "PROVIDER_SCALINGO_API_TOKEN": TOKEN,
        "PROVIDER_SCALINGO_API_URL": region.url,
        "PROVIDER_SCALINGO_AUTH_URL": auth.url,
        "PROVIDER_SCALINGO_OPERATION_TIMEOUT": "60",
        "PAASTIS_DB": str(tmp_path / "paastis.db"),
        "LOG_LEVEL": "WARNING",
    }
    yield world, fake, env
    auth.close()
    region.close()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        cwd=env["PAASTIS_DB"].rpartition("/")[0],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_three_cli_wakes_and_a_click_on_one_database_make_one_scale_up(scalingo) -> None:
    world, fake, env = scalingo
    paastis = build(build_settings(env), environ=env)  # what `serve` runs, in this process
    try:
        paastis.engine.discover()
        clis = [cli(env, "wake", "sleepy") for _ in range(3)]
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
