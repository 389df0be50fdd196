"""End to end: `paastis serve` configured only through the original paastis variables
(plus the API URLs that point it at our fake of the Scalingo API on loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.clock import SystemClock
from providers.base import AppState
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import serve_fake_scalingo

ROOT = Path(__file__).parents[1]
TOKEN = "tk-us-end-to-end-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_serve_on_the_original_variables_sleeps_the_idle_app_and_keeps_the_busy_one(tmp_path: Path) -> None:
    clock = SystemClock()
    world = SimulatedPaas(clock)
    world.add_app("busy-front", formation={"web": 2}, steady_every=5)
    world.hit("busy-front", 3)  # in use when Paastis starts
    world.add_app("idle-review", formation={"web": 1, "worker": 1})
    world.add_app("paastis-proxy", formation={"web": 1})
    api_urls, auth_url, close = serve_fake_scalingo({"osc-fr1": world}, [TOKEN], clock)
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "PROVIDER_NAME": "scalingo",
        "PROVIDER_REGION": "osc-fr1",
        "PROVIDER_SCALINGO_API_TOKEN": TOKEN,
        "PROVIDER_SCALINGO_OPERATION_TIMEOUT": "30",
        "START_AND_STOP_MAX_IDLE_TIME": "1",
        "START_AND_STOP_CHECKING_INTERVAL_CRON": "*/2 * * * * *",
        "REGISTRY_IGNORED_APPS": "paastis-proxy",
        "LOG_LEVEL": "info",
        "PROVIDER_SCALINGO_API_URL": api_urls["osc-fr1"],
        "PROVIDER_SCALINGO_AUTH_URL": auth_url,
        "PAASTIS_DB": str(tmp_path / "p.db"),
        "PAASTIS_DRY_RUN": "false",  # act from the first sweep, as the original did
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(lambda: world.app("idle-review").state in (AppState.STOPPING, AppState.SLEEPING), 20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        time.sleep(4)  # two more sweeps
        assert world.app("busy-front").state is AppState.RUNNING
        assert world.app("paastis-proxy").state is AppState.RUNNING
        assert world.app("idle-review").operations[-1].before.amount("worker") == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        close()
    assert process.returncode == 0, output
    assert "app.slept provider=scalingo-osc-fr1 app=idle-review" in output
    assert TOKEN not in output
    assert "Traceback" not in output
