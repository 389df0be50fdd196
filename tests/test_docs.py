"""The README's examples are real: its paastis.yml blocks pass check-config, and the commands
of its set-up sections that can run offline run through the real CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.config.loading import build_settings
from tests.bot.test_cli import paastis  # the real CLI: this venv's Python, `-m bot`

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


# -- the README's commands run --------------------------------------------------------------
# Every command of the README's shell blocks (and its scripted demo) is run through the real
# CLI when it can run offline and cheaply, else skipped for a reason said here. A command the
# README gains must be sorted into one or the other: `test_every_documented_command_is_run_or_skipped`.

ROOT = Path(__file__).parents[1]
SKIPPED = {
    "make test": "the test suite itself: this test is part of it",
    "scalingo ": "needs a Scalingo account and the network; the variables it sets pass check-config below",
    "clever ": "needs a Clever Cloud account and the network; the variables it sets pass check-config below",
    "git push ": "deploys to a platform",
    ".venv/bin/paastis serve": "connects to Slack: its configuration passes check-config below, its command --help",
    "export ": "sets the environment of the next command: checked with check-config below",
}
RUN = ("make demo", "printf ")


def documented_commands() -> list[str]:
    """Each command of the README's ```sh blocks (lines joined at `\\`, split at `&&`,
    comments dropped), and its inline scripted demo."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.sub(r"\s+#.*", "", line).strip()
            commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands + re.findall(r"`(printf [^`]+)`", README)


def example(value: str) -> str:
    """A documented placeholder (`xoxb-…`, `…`) made a value of the same shape."""
    return value.replace("…", "0000example") if value != "…" else "example-secret"


def documented_environment(platform: str) -> dict[str, str]:
    """The variables the README sets: `export` (the Socket Mode try-out), `scalingo env-set`, `clever env set`."""
    env: dict[str, str] = {}
    for command in documented_commands():
        words = shlex.split(command)
        if platform == "export" and words[:1] == ["export"]:
            pairs = [w.split("=", 1) for w in words[1:]]
        elif platform == "scalingo" and words[:2] == ["scalingo", "env-set"]:
            pairs = [w.split("=", 1) for w in words[2:]]
        elif platform == "clever" and words[:3] == ["clever", "env", "set"]:
            pairs = [words[3:5]]
        else:
            continue
        env.update({name: example(value) for name, value in pairs})
    return env


def test_every_documented_command_is_run_or_skipped_for_a_reason() -> None:
    commands = documented_commands()
    assert "make demo" in commands
    assert any(c.startswith("printf ") for c in commands)
    unsorted = [c for c in commands if not c.startswith(RUN) and not c.startswith(tuple(SKIPPED))]
    assert not unsorted, f"README commands neither run nor skipped here: {unsorted}"
    skipped = sorted({prefix for c in commands for prefix in SKIPPED if c.startswith(prefix)})
    print("\nSkipped README commands:\n" + "\n".join(f"  {p.strip()}: {SKIPPED[p]}" for p in skipped))


def test_the_scripted_demo_of_the_readme_exits_zero() -> None:
    (scripted,) = [c for c in documented_commands() if c.startswith("printf ")]
    script, command = (part.strip() for part in scripted.split("|"))
    assert command == ".venv/bin/paastis demo"
    result = paastis("demo", stdin=shlex.split(script)[1].replace("\\n", "\n"))
    assert result.returncode == 0, result.stderr
    assert "Paastis status" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_make_demo_runs_the_demo_and_help_lists_every_documented_command() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:.*\n\t\$\(BIN\)/paastis demo$", makefile, re.M)
    result = paastis("--help")
    assert result.returncode == 0, result.stderr
    section = README[README.index("## Command line") : README.index("## Configuration")]
    verbs = set(re.findall(r"^paastis ([a-z-]+)", section, re.M)) | set(re.findall(r"· paastis ([a-z-]+)", section))
    assert {"demo", "serve", "status", "wake", "sleep", "keep", "log", "report", "check-config"} <= verbs
    missing = [v for v in verbs if not re.search(rf"^\s+{v}\b", result.stdout, re.M)]
    assert not missing, (missing, result.stdout)


def test_the_run_commands_of_the_procfile_and_clever_cloud_start_paastis() -> None:
    processes = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    clever = documented_environment("clever")["CC_RUN_COMMAND"]
    assert processes == {"web": "paastis serve", "proxy": "paastis proxy"}
    assert clever == "paastis serve"
    for command in processes.values():
        verb = command.split()[1]
        result = paastis(verb, "--help")
        assert result.returncode == 0, result.stderr
        assert f"usage: paastis {verb}" in result.stdout


@pytest.mark.parametrize("platform", ["export", "scalingo", "clever"])
def test_the_documented_environment_of_each_setup_passes_check_config(platform: str, tmp_path: Path) -> None:
    env = documented_environment(platform)
    assert "SLACK_BOT_TOKEN" in env
    result = paastis("check-config", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "The configuration is valid" in result.stdout
