"""Configuration: the original variables keep their meaning; every problem is told at once."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.loading import build_settings, load_settings
from bot.config.variables import VARIABLES
from bot.errors import ConfigError
from bot.store.store import Store

ROOT = Path(__file__).parents[3]

SCALINGO = {"PROVIDER_NAME": "scalingo", "PROVIDER_SCALINGO_API_TOKEN": "tk-us-secret-token-123"}


def problems(env: dict, yaml_text: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_settings(env, yaml_text)
    return [str(p) for p in caught.value.problems]


def test_the_original_environment_configures_a_scalingo_provider() -> None:
    settings = build_settings(
        {
            **SCALINGO,
            "PROVIDER_REGION": "osc-secnum-fr1",
            "PROVIDER_SCALINGO_OPERATION_TIMEOUT": "45",
            "START_AND_STOP_MAX_IDLE_TIME": "30",
            "START_AND_STOP_CHECKING_INTERVAL_CRON": "*/30 * * * * *",
            "REGISTRY_IGNORED_APPS": "paastis-proxy, foo,review-*",
            "HOOKS_AFTER_STOP": "echo stopped",
            "LOGGING_LEVEL": "debug",
        }
    )
    (spec,) = settings.providers
    assert (spec.kind, spec.name, spec.options["region"], spec.options["operation_timeout"]) == (
        "scalingo",
        "scalingo-osc-secnum-fr1",
        "osc-secnum-fr1",
        45.0,
    )
    assert settings.idle_timeout == timedelta(minutes=30)
    assert settings.sweep_cron == "*/30 * * * * *"
    assert settings.ignored_apps == ("paastis-proxy", "foo", "review-*")
    assert settings.hooks == {"after_stop": "echo stopped"}
    assert settings.log_level == "DEBUG"


def test_the_provider_defaults_to_scalingo_when_its_token_is_given_as_in_the_original() -> None:
    settings = build_settings({"PROVIDER_SCALINGO_API_TOKEN": "tk-us-x"})
    assert settings.providers[0].kind == "scalingo"


def test_idle_time_is_minutes_or_a_duration() -> None:
    assert build_settings({"PROVIDER_NAME": "fake", "START_AND_STOP_MAX_IDLE_TIME": "90s"}).idle_timeout == timedelta(
        seconds=90
    )
    assert build_settings({"PROVIDER_NAME": "fake", "START_AND_STOP_MAX_IDLE_TIME": "75"}).idle_timeout == timedelta(
        minutes=75
    )


def test_every_problem_is_reported_at_once_naming_variable_value_and_fix() -> None:
    found = problems(
        {
            "PROVIDER_NAME": "scalingo",
            "START_AND_STOP_MAX_IDLE_TIME": "soon",
            "START_AND_STOP_CHECKING_INTERVAL_CRON": "every minute",
            "PAASTIS_TIMEZONE": "Paris",
            "SLACK_BOT_TOKEN": "xoxp-user-token",
            "PAASTIS_ADMINS": "ada",
            "PORT": "http",
            "PAASTIS_DRY_RUN": "maybe",
            "LOG_FORMAT": "xml",
        }
    )
    text = "\n".join(found)
    for expected in (
        "PROVIDER_SCALINGO_API_TOKEN: is required",
        "START_AND_STOP_MAX_IDLE_TIME = 'soon'",
        "START_AND_STOP_CHECKING_INTERVAL_CRON = 'every minute'",
        "PAASTIS_TIMEZONE = 'Paris'",
        "IANA",
        "SLACK_BOT_TOKEN = '<redacted>'",
        "xoxb-",
        "PAASTIS_ADMINS = 'ada'",
        "PORT = 'http'",
        "PAASTIS_DRY_RUN = 'maybe'",
        "LOG_FORMAT = 'xml': expected text or json",
        "SLACK_SIGNING_SECRET: is required",
    ):
        assert expected in text
    assert "xoxp-user-token" not in text


def test_no_provider_at_all_says_how_to_configure_one() -> None:
    (only,) = problems({})
    assert "PROVIDER_NAME" in only
    assert "fake" in only


def test_heroku_of_the_original_is_refused_clearly() -> None:
    assert any("Heroku is not supported" in p for p in problems({"PROVIDER_NAME": "heroku"}))


def test_proxy_only_variables_of_the_original_are_ignored_with_a_warning() -> None:
    settings = build_settings({"PROVIDER_NAME": "fake", "REGISTRY_TYPE": "redis", "ROUTING_SYSTEM_API_TOKEN": "x"})
    assert any("REGISTRY_TYPE is ignored" in w for w in settings.warnings)


def test_yaml_providers_with_credentials_from_the_environment() -> None:
    yaml_text = """
providers:
  - type: scalingo
    region: osc-fr1
    api_token: ${SCALINGO_TOKEN_A}
  - type: scalingo
    name: scalingo-secnum
    region: osc-secnum-fr1
    api_token: ${SCALINGO_TOKEN_B}
  - type: fake
"""
    settings = build_settings({"SCALINGO_TOKEN_A": "tk-a", "SCALINGO_TOKEN_B": "tk-b"}, yaml_text)
    assert [p.name for p in settings.providers] == ["scalingo-osc-fr1", "scalingo-secnum", "fake"]
    assert settings.providers[1].options["api_token"] == "tk-b"
    assert "tk-a" not in repr(settings)
    assert "tk-b" not in str(settings.redacted())


def test_yaml_problems_are_reported_with_the_env_ones() -> None:
    yaml_text = """
rules:
  - pattern: 'x'
    schedule: office
providers:
  - type: scalingo
    api_token: ${MISSING_TOKEN}
    regoin: osc-fr1
  - type: docker
schedules:
  nights:
    asleep: "Mon-Fri 20:00-07:00"
prices:
  per_hour: {scalingo: {M: -1}}
webhooks:
  - url: ftp://example.com
    secret: s
colour: blue
"""
    text = "\n".join(problems({"START_AND_STOP_MAX_IDLE_TIME": "0"}, yaml_text))
    for expected in (
        "rules[1].schedule = 'office': no such schedule (known: nights)",
        "MISSING_TOKEN}, which is not set",
        "providers[1].regoin: unknown key",
        "providers[2].type = 'docker': unknown provider type",
        "prices.per_hour.scalingo.M",
        "webhooks[1].url",
        "colour: unknown key",
        "START_AND_STOP_MAX_IDLE_TIME = '0'",
    ):
        assert expected in text


def test_invalid_yaml_names_the_line() -> None:
    (only,) = problems({"PROVIDER_NAME": "fake"}, "rules:\n  - pattern: 'x\n    app_name: y\n")
    assert "not valid YAML" in only
    assert "line" in only


def test_the_yaml_file_is_found_next_to_the_process_or_named(tmp_path: Path) -> None:
    (tmp_path / "paastis.yml").write_text("rules:\n  - pattern: 'x'\n    protect: true\n")
    assert len(load_settings({"PROVIDER_NAME": "fake"}, tmp_path).rules) == 1
    with pytest.raises(ConfigError, match="no such file"):
        load_settings({"PROVIDER_NAME": "fake", "PAASTIS_CONFIG": "nope.yml"}, tmp_path)


def test_redacted_settings_show_no_secret() -> None:
    settings = build_settings(
        {
            **SCALINGO,
            "SLACK_BOT_TOKEN": "xoxb-very-secret",
            "SLACK_SIGNING_SECRET": "signing-very-secret",
        }
    )
    shown = str(settings.redacted()) + repr(settings)
    for secret in ("tk-us-secret-token-123", "xoxb-very-secret", "signing-very-secret"):
        assert secret not in shown
    assert "<redacted>" in shown


def test_every_variable_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    missing = [name for name in VARIABLES if f"`{name}`" not in readme]
    assert missing == []


def test_the_region_of_the_original_sample_env_still_works() -> None:
    settings = build_settings({**SCALINGO, "PROVIDER_REGION": "osc-fr-1"})
    assert settings.providers[0].options["region"] == "osc-fr1"


@pytest.mark.parametrize(
    ("env", "yaml_text", "expected"),
    [
        ({"START_AND_STOP_MAX_IDLE_TIME": "1s"}, None, "START_AND_STOP_MAX_IDLE_TIME = '1s': 1 s is too short"),
        ({"START_AND_STOP_MAX_IDLE_TIME": "99999999999"}, None, "START_AND_STOP_MAX_IDLE_TIME = '99999999999'"),
        ({}, "idle_timeout: 99999999999999m\n", "idle_timeout = '99999999999999m'"),
        ({}, "rules:\n  - pattern: x\n    idle_timeout: 45d\n", "at most 30 days"),
        ({"START_AND_STOP_CHECKING_INTERVAL_CRON": "0 0 31 2 *"}, None, "never fires"),
        ({"PAASTIS_HOOKS_TIMEOUT": "1e300"}, None, "PAASTIS_HOOKS_TIMEOUT"),
        ({}, "rules:\n  - pattern: '(a)\\1'\n", "backreferences"),
    ],
)
def test_values_out_of_bounds_are_problems_not_tracebacks(env: dict, yaml_text: str | None, expected: str) -> None:
    assert expected in "\n".join(problems({"PROVIDER_NAME": "fake", **env}, yaml_text))


def test_a_pathological_rule_pattern_matches_in_linear_time() -> None:
    from bot.policy.rules import parse_rules, resolve

    rules, found, _ = parse_rules([{"pattern": "(a+)+$", "protect": True}])
    assert not found
    started = time.monotonic()
    resolved = resolve(rules, "a" * 50_000 + "!", provider_name="f", provider_kind="fake", default_idle=timedelta(1))
    assert not resolved.protected
    assert time.monotonic() - started < 1  # a backtracking engine takes years on this name


def test_a_yaml_alias_bomb_is_refused_at_once() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    started = time.monotonic()
    (only,) = problems({"PROVIDER_NAME": "fake"}, "\n".join(lines))
    assert "aliases" in only
    assert time.monotonic() - started < 5


def test_a_config_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="larger than 1024 KiB"):
        load_settings({"PROVIDER_NAME": "fake", "PAASTIS_CONFIG": "/dev/zero"}, tmp_path)


def test_an_unusable_database_is_a_problem_check_config_tells(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    (tmp_path / "notes.db").write_text("not a database")
    for name, why in (("folder.db", "is a directory"), ("notes.db", "is not a SQLite database")):
        with pytest.raises(ConfigError, match=why):
            load_settings({"PROVIDER_NAME": "fake", "PAASTIS_DB": str(tmp_path / name)}, tmp_path)
    assert load_settings({"PROVIDER_NAME": "fake", "PAASTIS_DB": str(tmp_path / "new" / "p.db")}, tmp_path)
    assert not (tmp_path / "new").exists()  # checking writes nothing


@pytest.mark.skipif(os.geteuid() != 0, reason="runs check-config as another user, which needs root")
def test_a_database_paastis_cannot_read_is_told_by_check_config_not_a_traceback_at_serve() -> None:
    folder = Path(tempfile.mkdtemp(prefix="paastis-"))
    try:
        folder.chmod(0o755)
        db = folder / "p.db"
        Store(db).close()
        db.chmod(0o000)
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "PROVIDER_NAME": "fake", "PAASTIS_DB": str(db)}
        if not os.access(sys.executable, os.X_OK, effective_ids=False) or "/root/" in os.path.realpath(sys.executable):
            pytest.skip("this Python cannot be run by another user here")
        for command in ("check-config", "serve"):
            result = subprocess.run(  # as nobody: root reads any file
                [sys.executable, "-m", "bot", command],
                env=env,
                cwd=folder,
                user=65534,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 2, result.stderr
            assert "PAASTIS_DB" in result.stderr
            assert "cannot be read and written" in result.stderr
            assert "Traceback" not in result.stderr
    finally:
        shutil.rmtree(folder)


def test_a_new_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    Store(tmp_path / "p.db").close()
    assert stat.S_IMODE((tmp_path / "p.db").stat().st_mode) == 0o600


def test_paastis_dry_run_has_three_values_and_unset_is_the_safe_first_run() -> None:
    assert build_settings({"PROVIDER_NAME": "fake"}).dry_run is None
    assert build_settings({"PROVIDER_NAME": "fake", "PAASTIS_DRY_RUN": "false"}).dry_run is False
    assert build_settings({"PROVIDER_NAME": "fake", "PAASTIS_DRY_RUN": "true"}).dry_run is True
