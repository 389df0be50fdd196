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


def start_proxy(folder: Path, *options: str) -> subprocess.Popen:
    """`paastis proxy` in its own process, on the fake provider, in `folder` (its paastis.yml)."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PROVIDER_NAME": "fake",
        "PAASTIS_DB": str(folder / "p.db"),
    }
    command = [sys.executable, "-m", "bot", "proxy", *options]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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
    process = start_proxy(tmp_path)
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


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts worker processes in /proc")
def test_paastis_proxy_with_workers_serves_from_each_on_one_address_then_stops_them_all(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "paastis.yml").write_text(f"proxy:\n  listen: 127.0.0.1:{port}\n  routes:\n    a.example.com: a\n")
    process = start_proxy(tmp_path, "--workers", "3")
    try:
        for _ in range(400):
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": "b.example.com"})
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert first.status_code == 404
        answers = [httpx.get(f"http://127.0.0.1:{port}/", headers={"host": "b.example.com"}) for _ in range(30)]
        assert {a.status_code for a in answers} == {404}
        workers = [pid for pid in children(process.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) >= 3
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=40)
    assert process.returncode == 0, err
    assert "Traceback" not in err.decode()
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_number_of_workers_out_of_range_is_refused_clearly(tmp_path: Path) -> None:
    result = paastis("proxy", "--workers", "0", env={"PROVIDER_NAME": "fake"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "'0' is not a number of processes from 1 to 64" in result.stderr
