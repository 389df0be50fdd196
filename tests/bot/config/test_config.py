"""Configuration: the original variables keep their meaning; every problem is told at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.loading import build_settings, load_settings
from bot.config.variables import VARIABLES
from bot.errors import ConfigError

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
