"""Issue 12: worker apps (no web process) opted in by `manage_workers` sleep by schedule only —
CPU is no proof of idleness and router traffic says nothing of them (ACTIVITY.md). A rule that
opts them in with an idle timeout but no schedule is refused by `paastis check-config`, naming
the rule and the fix."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import paastis

WORKERS_WITH_IDLE_TIMEOUT = """
rules:
  - pattern: '^web-'
    idle_timeout: 30m
  - pattern: '-worker$'
    manage_workers: true
    idle_timeout: 45m
"""

WORKERS_WITH_SCHEDULE = """
schedules:
  nights:
    asleep: daily 20:00-07:00
rules:
  - pattern: '-worker$'
    manage_workers: true
    schedule: nights
    idle_timeout: 45m      # for those of its apps that have a web process
  - pattern: '-clock$'
    manage_workers: true   # no idle timeout of its own: sleeps when asked (or by a later schedule)
"""


def check_config(tmp_path: Path, yaml_text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "paastis.yml").write_text(yaml_text)
    return paastis("check-config", env={"PROVIDER_NAME": "fake"}, cwd=tmp_path)


def test_a_rule_putting_worker_apps_to_sleep_on_an_idle_timeout_is_refused_naming_rule_and_fix(tmp_path: Path) -> None:
    result = check_config(tmp_path, WORKERS_WITH_IDLE_TIMEOUT)

    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "manage_workers" in line]
    assert "rules[2].idle_timeout" in line  # the rule, not the first one
    assert "45m" in line
    assert "add `schedule: " in line
    assert "or remove manage_workers" in line
    assert "rules[1]" not in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_rules_with_a_schedule_or_without_an_idle_timeout_pass(tmp_path: Path) -> None:
    result = check_config(tmp_path, WORKERS_WITH_SCHEDULE)

    assert result.returncode == 0, result.stderr
