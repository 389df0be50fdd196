"""The README's examples are real: its paastis.yml blocks pass check-config."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config.loading import build_settings

README = (Path(__file__).parents[1] / "README.md").read_text()
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.S)


def test_the_readme_shows_the_original_rules_and_a_full_file() -> None:
    assert len(YAML_BLOCKS) >= 2


def test_the_original_example_is_valid() -> None:
    settings = build_settings({"PROVIDER_NAME": "fake"}, YAML_BLOCKS[0])
    assert len(settings.rules) == 4
    assert any("read as 1 minute" in w for w in settings.warnings)


def test_the_full_example_is_valid_with_its_environment() -> None:
    env = dict.fromkeys(re.findall(r"\$\{([A-Z_]+)\}", YAML_BLOCKS[1]), "secret-value")
    settings = build_settings(env, YAML_BLOCKS[1])
    assert [p.name for p in settings.providers] == ["scalingo-osc-fr1", "scalingo-secnum", "clever-par"]
    assert set(settings.schedules) == {"office-hours", "nights-and-weekends", "kube-green-style"}
    assert settings.permissions.keep == ("U012ABCDEF", "S0PLATFORM")
    assert settings.report_cron == "0 9 * * 1-5"
