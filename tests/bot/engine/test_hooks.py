"""Hooks run with their context, are killed at their timeout, and follow the failure policy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config.loading import build_settings
from bot.engine.hooks import ShellHooks, hook_environment, run_shell
from bot.engine.notices import Failing, Recovered
from bot.errors import ActionRefused
from tests.bot.engine.harness import ADA, Harness

ROOT = Path(__file__).parents[3]


def test_a_hook_gets_the_app_and_the_reason_in_its_environment(tmp_path, clock) -> None:
    out = tmp_path / "hook.txt"
    hooks = ShellHooks(
        {"after_stop": f'echo "$PAASTIS_EVENT $PAASTIS_APP $PAASTIS_PROVIDER $PAASTIS_REASON" > {out}'},
        {"PATH": os.environ["PATH"]},
    )
    h = Harness(tmp_path / "p.db", clock, hooks=hooks)
    h.add("review-7")
    h.discover()
    h.engine.sleep(h.view("review-7"), ADA)

    assert out.read_text().strip() == "after_stop review-7 fake asked by Ada"


def test_a_hook_that_hangs_is_killed_at_its_timeout_with_its_children() -> None:
    started = time.monotonic()
    result = run_shell("echo started; sleep 30 & sleep 30", {"PATH": os.environ["PATH"]}, timeout=0.5)
    assert result.returncode is None
    assert "started" in result.output
    assert time.monotonic() - started < 5


def test_a_failing_before_stop_hook_cancels_that_sleep_and_is_recorded(tmp_path, clock) -> None:
    failures = []
    hooks = ShellHooks(
        {"before_stop": "exit 3"},
        {"PATH": os.environ["PATH"]},
        on_failure=lambda event, view, why: failures.append(why),
    )
    h = Harness(tmp_path / "p.db", clock, hooks=hooks)
    h.add("db-backed")
    h.discover()
    h.clock.advance(minutes=30)

    report = h.sweep()

    assert [o.label for o in report.of("sleep_failed")] == ["db-backed"]
    assert "exited with status 3" in report.of("sleep_failed")[0].reason
    assert failures
    assert h.state("db-backed").value == "running"
    with pytest.raises(ActionRefused, match="stays up"):
        h.engine.sleep(h.view("db-backed"), ADA)


def test_a_failing_start_hook_never_stops_a_wake(tmp_path, clock) -> None:
    hooks = ShellHooks({"before_start": "exit 1", "after_start": "exit 1"}, {"PATH": os.environ["PATH"]})
    h = Harness(tmp_path / "p.db", clock, hooks=hooks)
    h.add("demo", running=False)
    h.discover()

    assert h.wake("demo").phase.value == "up"


def test_hooks_never_see_paastis_secrets_declared_or_read_by_paastis_yml() -> None:
    env = {
        "PATH": "/bin",
        "HOME": "/h",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sig",
        "PROVIDER_SCALINGO_API_TOKEN": "tk",
        "PROVIDER_CLEVER_OAUTH_CONSUMER_KEY": "ck-env",
        "CLEVER_CONSUMER_KEY": "ck",
        "CLEVER_CONSUMER_SECRET": "cs",
        "CLEVER_TOKEN": "t",
        "CLEVER_SECRET": "s",
        "HOOK_SIGNING": "w",
        "DEPLOY_NOTE": "the hook's own",
    }
    yaml_text = """
providers:
  - type: clever-cloud
    consumer_key: ${CLEVER_CONSUMER_KEY}
    consumer_secret: ${CLEVER_CONSUMER_SECRET}
    token: ${CLEVER_TOKEN}
    secret: ${CLEVER_SECRET}
webhooks:
  - url: https://hooks.example.com/paastis
    secret: ${HOOK_SIGNING}
"""
    settings = build_settings(env, yaml_text)

    assert hook_environment(env, settings.secret_variables) == {
        "PATH": "/bin",
        "HOME": "/h",
        "DEPLOY_NOTE": "the hook's own",
    }


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_hook_dies_with_paastis_even_killed_by_sigkill(tmp_path) -> None:
    pids = tmp_path / "pids"
    code = (
        "import os; from bot.engine.hooks import run_shell; "
        f"run_shell('echo $$ > {pids}; sleep 60 & echo $! >> {pids}; wait', {{'PATH': os.environ['PATH']}}, 120)"
    )
    paastis = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 20
    while len(pids.read_text().split() if pids.exists() else []) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    hook = [int(p) for p in pids.read_text().split()]
    assert all(running(p) for p in hook)

    paastis.send_signal(signal.SIGKILL)
    paastis.wait()

    deadline = time.monotonic() + 5
    while any(running(p) for p in hook) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(p) for p in hook)  # the shell and what it started


def test_what_a_hook_leaves_in_the_background_when_it_ends_is_left_alone(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    result = run_shell(f"sleep 30 >/dev/null 2>&1 & echo $! > {pid_file}", {"PATH": os.environ["PATH"]}, timeout=5)
    assert result.returncode == 0
    pid = int(pid_file.read_text())
    try:
        time.sleep(0.2)
        assert running(pid)
    finally:
        os.kill(pid, signal.SIGKILL)


def test_a_hook_that_keeps_failing_is_told_once_then_when_it_runs_fine(tmp_path, clock) -> None:
    flag = tmp_path / "hook-fails"
    flag.write_text("yes")
    hooks = ShellHooks({"after_start": f"test ! -e {flag}"}, {"PATH": os.environ["PATH"]})
    h = Harness(tmp_path / "p.db", clock, hooks=hooks)
    h.add("demo", running=False)
    h.discover()

    for _ in range(3):
        assert h.wake("demo").phase.value == "up"  # a failing after_start hook never fails the wake
        h.engine.sleep(h.view("demo"), ADA)
        h.clock.advance(minutes=10)
    told = [n for n in h.notices if isinstance(n, Failing)]
    assert [(n.kind, n.count) for n in told] == [("hook:after_start", 1)]
    assert "exited with status 1" in told[0].reason

    flag.unlink()
    assert h.wake("demo").phase.value == "up"
    recovered = [n for n in h.notices if isinstance(n, Recovered)]
    assert [(n.kind, n.failures) for n in recovered] == [("hook:after_start", 3)]
