"""The hosted edition's settings: refused without a key, with every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from bot.__main__ import main
from bot.errors import ConfigError
from bot.hosted.crypto import SealBroken, Sealer, SecretKeyError
from bot.hosted.settings import SCOPES, hosted_settings, is_hosted

ROOT = Path(__file__).parents[3]
ENV = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}


def test_client_id_and_secret_without_a_bot_token_mean_the_hosted_edition() -> None:
    assert is_hosted(ENV)
    assert not is_hosted({**ENV, "SLACK_BOT_TOKEN": "xoxb-1"})
    assert not is_hosted({"SLACK_BOT_TOKEN": "xoxb-1"})


def test_starting_without_a_key_is_refused_with_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("PAASTIS_SECRET_KEY", raising=False)

    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "PAASTIS_SECRET_KEY: is required by the hosted edition" in err
    assert "Fernet.generate_key().decode()" in err


def test_a_key_that_is_not_a_fernet_key_is_refused() -> None:
    with pytest.raises(SecretKeyError, match="key 2 of 2 is not a Fernet key"):
        Sealer(f"{Fernet.generate_key().decode()},not-a-key")


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        hosted_settings({"PORT": "http", "PAASTIS_HOSTED_PROVIDERS": "heroku"})
    keys = [p.key for p in raised.value.problems]
    assert keys == [
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_SIGNING_SECRET",
        "PAASTIS_SECRET_KEY",
        "PORT",
        "PAASTIS_HOSTED_PROVIDERS",
    ]


def test_the_simulated_paas_is_offered_only_when_named() -> None:
    key = {"PAASTIS_SECRET_KEY": Fernet.generate_key().decode()}
    assert "fake" not in hosted_settings({**ENV, **key}).offered
    assert hosted_settings({**ENV, **key, "PAASTIS_HOSTED_PROVIDERS": "fake"}).offered == ("fake",)


def test_a_sealed_value_opens_only_for_its_team_and_survives_a_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Sealer(old).seal("T0ACME", {"api_token": "tk-us-secret"})

    assert Sealer(old).open("T0ACME", sealed) == {"api_token": "tk-us-secret"}
    with pytest.raises(SealBroken):
        Sealer(old).open("T0BETA", sealed)
    rotated = Sealer(f"{new},{old}").rotate(sealed)
    assert Sealer(new).open("T0ACME", rotated) == {"api_token": "tk-us-secret"}
    with pytest.raises(SealBroken):
        Sealer(new).open("T0ACME", sealed)


def test_the_scopes_asked_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u:hunter2@db/paastis", "mysql://, which Paastis cannot use"),
        ("sqlite:///registry.db", "must be a PostgreSQL URL"),
        ("postgresql://u:hunter2@db:5432/", "names no database"),
        ("postgresql://u:hunter2@db:5432/p?schema=Bad-Name", "one lowercase name"),
    ],
)
def test_a_database_url_the_hosted_edition_cannot_use_is_named_with_the_fix_and_no_password(
    url: str, said: str
) -> None:
    env = {**ENV, "PAASTIS_SECRET_KEY": Fernet.generate_key().decode(), "DATABASE_URL": url}
    with pytest.raises(ConfigError) as refused:
        hosted_settings(env)
    text = str(refused.value)
    assert "DATABASE_URL" in text
    assert said in text
    assert "hunter2" not in text


def test_with_a_database_url_the_registry_and_each_workspace_live_in_postgresql() -> None:
    env = {**ENV, "PAASTIS_SECRET_KEY": Fernet.generate_key().decode(), "DATABASE_URL": "postgres://u:p@db/paastis"}
    hosted = hosted_settings(env)
    assert hosted.registry_path == "postgres://u:p@db/paastis"
    assert hosted.workspace_db("T0ACME") == "postgres://u:p@db/paastis?schema=ws_t0acme"
    assert "p@db" not in repr(hosted)
