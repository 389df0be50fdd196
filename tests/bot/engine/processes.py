"""Paastis processes on one SQLite file, against the Scalingo API fake on loopback (real
client, real processes): what the tests of several processes and of crashes drive."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from providers.fake import SimulatedPaas
from providers.loopback import LoopbackServer
from providers.scalingo.fake_api import FakeScalingo

ROOT = Path(__file__).parents[3]
TOKEN = "tk-us-processes-0123456789"


@contextmanager
def scalingo(
    tmp_path: Path, wrap: Callable[[Any], Any] = lambda app: app
) -> Iterator[tuple[SimulatedPaas, FakeScalingo, dict[str, str]]]:
    """A world, the Scalingo API fake serving it on loopback (its regional API through
    `wrap`), and the environment that points `paastis` at both and at one database file."""
    clock = SystemClock()
    world = SimulatedPaas(clock)
    fake = FakeScalingo({"osc-fr1": world}, [TOKEN], clock, rate_limit=10_000)
    auth, region = LoopbackServer(fake.auth_app), LoopbackServer(wrap(fake.regions["osc-fr1"]))
    env = {
        "PROVIDER_NAME": "scalingo",
        "PROVIDER_SCALINGO_API_TOKEN": TOKEN,
        "PROVIDER_SCALINGO_API_URL": region.url,
        "PROVIDER_SCALINGO_AUTH_URL": auth.url,
        "PROVIDER_SCALINGO_OPERATION_TIMEOUT": "60",
        "PAASTIS_DB": str(tmp_path / "paastis.db"),
        "LOG_LEVEL": "WARNING",
    }
    try:
        yield world, fake, env
    finally:
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
