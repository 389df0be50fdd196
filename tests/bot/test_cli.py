"""The `paastis` command: demo, check-config and the shell actions, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def paastis(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(  # the exit status is what the tests look at
        [sys.executable, "-m", "bot", *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        timeout=timeout,
    )


@pytest.mark.slow
def test_the_scripted_demo_runs_commands_and_exits_zero_once_wakes_are_done() -> None:
    script = "/paastis status\n/paastis wake shop-demo\n/paastis keep hello for banana\nwait 20m\n/paastis log\n"
    result = paastis("demo", stdin=script)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Paastis status" in out
    assert "shop-demo · 💤 sleeping" in out
    assert "⏳ Waking shop-demo" in out
    assert "✅ shop-demo is up" in out
    assert "'banana' is not a duration" in out
    assert "Put 4 apps to sleep" in out  # shop-demo too: up before the 20 minutes, unused since
    assert "review-42" in out
    assert "blog-review-12" in out
    assert "Traceback" not in out + result.stderr


def test_check_config_lists_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    result = paastis(
        "check-config", env={"PROVIDER_NAME": "scalingo", "START_AND_STOP_MAX_IDLE_TIME": "soon"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "PROVIDER_SCALINGO_API_TOKEN: is required" in result.stderr
    assert "START_AND_STOP_MAX_IDLE_TIME = 'soon'" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_prints_the_resolved_settings_without_secrets(tmp_path: Path) -> None:
    env = {"PROVIDER_NAME": "scalingo", "PROVIDER_SCALINGO_API_TOKEN": "tk-us-do-not-print", "REGISTRY_TYPE": "redis"}
    result = paastis("check-config", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tk-us-do-not-print" not in result.stdout
    assert "REGISTRY_TYPE is ignored" in result.stdout
    settings = json.loads(result.stdout.split("redacted):\n", 1)[1])
    assert settings["providers"][0]["api_token"] == "<redacted>"


def test_serve_with_an_invalid_configuration_stops_with_the_same_message(tmp_path: Path) -> None:
    result = paastis("serve", env={"PROVIDER_NAME": "docker"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PROVIDER_NAME = 'docker': unknown provider type" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_and_wake_from_a_shell(tmp_path: Path) -> None:
    (tmp_path / "paastis.yml").write_text("providers:\n  - type: fake\n    boot_seconds: 1s\n")
    env = {"PAASTIS_DB": str(tmp_path / "p.db")}
    status = paastis("status", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "shop-demo · 💤 sleeping" in status.stdout

    wake = paastis("wake", "shop-demo", env=env, cwd=tmp_path)
    assert wake.returncode == 0, wake.stderr + wake.stdout
    assert "✅ shop-demo is up" in wake.stdout

    unknown = paastis("wake", "shop-dmo", env=env, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "No app named `shop-dmo`. Did you mean `shop-demo`?" in unknown.stdout
