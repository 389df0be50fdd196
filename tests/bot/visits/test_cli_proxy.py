"""`paastis proxy` as a user runs it: its own process, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.bot.test_cli import ROOT, paastis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_proxy_without_routes_nor_sablier_says_what_to_add(tmp_path: Path) -> None:
    result = paastis("proxy", env={"PROVIDER_NAME": "fake", "PAASTIS_DB": str(tmp_path / "p.db")}, cwd=tmp_path)
    assert result.returncode == 2
    assert "add proxy.routes or sablier.listen" in result.stderr


@pytest.mark.slow
def test_paastis_proxy_serves_the_proxy_and_the_sablier_api_then_stops_on_sigterm(tmp_path: Path) -> None:
    proxy_port, api_port = free_port(), free_port()
    (tmp_path / "paastis.yml").write_text(
        f"proxy:\n  listen: 127.0.0.1:{proxy_port}\n  routes:\n    hello.example.com: hello\n"
        f"sablier:\n  listen: 127.0.0.1:{api_port}\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PROVIDER_NAME": "fake",
        "PAASTIS_DB": str(tmp_path / "p.db"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "proxy"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        for _ in range(200):
            try:
                health = httpx.get(f"http://127.0.0.1:{api_port}/health")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert health.text == "ok"
        unknown = httpx.get(f"http://127.0.0.1:{proxy_port}/", headers={"host": "nope.example.com"})
        assert unknown.status_code == 404
        missing = httpx.get(f"http://127.0.0.1:{api_port}/api/strategies/dynamic?names=nope")
        assert missing.status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err.decode()
