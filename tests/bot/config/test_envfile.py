"""The original paastis read ./.env: so does Paastis, the environment winning."""

from __future__ import annotations

from pathlib import Path

from bot.config.envfile import parse_env_file
from tests.bot.test_cli import paastis

SAMPLE = Path(__file__).parent / "samples" / "original-sample.env"


def test_the_original_sample_env_parses() -> None:
    values, problems = parse_env_file(SAMPLE.read_text())
    assert problems == []
    assert values["REGISTRY_IGNORED_APPS"] == "paastis-proxy, foo, bar"
    assert values["START_AND_STOP_CHECKING_INTERVAL_CRON"] == "* * * * *"
    assert values["PROVIDER_CLEVER_OAUTH_CONSUMER_KEY"] == ""


def test_quotes_comments_and_export() -> None:
    values, problems = parse_env_file('export A="x y"\nB=\'$HOME\'\nC=plain # note\nD="a\\nb"\nnot a line\n')
    assert values == {"A": "x y", "B": "$HOME", "C": "plain", "D": "a\nb"}
    assert problems == [".env line 5: expected KEY=VALUE"]


def test_a_quoted_value_followed_by_a_comment_loses_its_quotes() -> None:
    """The hand-written parser kept them: `"#ops"` with its quotes, then a misleading Slack error."""
    values, problems = parse_env_file("PAASTIS_CHANNEL=\"#ops\" # the team channel\nSLACK_BOT_TOKEN='xoxb-1'  # bot\n")
    assert values == {"PAASTIS_CHANNEL": "#ops", "SLACK_BOT_TOKEN": "xoxb-1"}
    assert problems == []


def test_check_config_reads_dot_env_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "PROVIDER_NAME=scalingo\nPROVIDER_SCALINGO_API_TOKEN=tk-us-from-file\nSTART_AND_STOP_MAX_IDLE_TIME=20\n"
    )
    result = paastis("check-config", env={"START_AND_STOP_MAX_IDLE_TIME": "45"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"idle_timeout": "0:45:00"' in result.stdout
    assert "tk-us-from-file" not in result.stdout


def test_the_original_sample_env_passes_check_config_as_it_is(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(SAMPLE.read_text())
    result = paastis("check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "REGISTRY_TYPE is ignored" in result.stdout
    assert "ROUTING_SYSTEM_API_ENABLED is ignored" in result.stdout
    assert '"name": "scalingo-osc-fr1"' in result.stdout
    assert '"idle_timeout": "0:01:00"' in result.stdout  # START_AND_STOP_MAX_IDLE_TIME=1: minutes, as before
