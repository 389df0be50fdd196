"""The database from a shell: check-config tells which one and its state, `db upgrade`,
`db copy --from sqlite:///…` into the PostgreSQL of DATABASE_URL; bad input told plainly."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bot.test_cli import paastis

LEGACY = Path(__file__).parent / "store" / "legacy_m004.db"
FAKE = "providers:\n  - type: fake\n"


def test_check_config_tells_the_database_masked_reachable_and_migrated(postgres, tmp_path) -> None:
    (tmp_path / "paastis.yml").write_text(FAKE)
    url = postgres.new_database().replace("postgres@", "postgres:s3cret@")
    fresh = paastis("check-config", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert "database: postgresql postgresql+psycopg://postgres:***@127.0.0.1" in fresh.stdout
    assert "reachable, migrated to empty; 6 migration(s) to apply at start" in fresh.stdout
    assert "s3cret" not in fresh.stdout + fresh.stderr

    upgraded = paastis("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert upgraded.stdout.startswith("Applied m001_initial")
    again = paastis("check-config", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert "reachable, migrated to m006_scale\n" in again.stdout


def test_a_wrong_or_unreachable_database_url_is_named_with_its_fix(postgres, tmp_path) -> None:
    (tmp_path / "paastis.yml").write_text(FAKE)
    wrong = paastis("check-config", env={"DATABASE_URL": "mysql://u:pw@db/x"}, cwd=tmp_path)
    assert wrong.returncode == 2
    assert "DATABASE_URL starts with mysql://, which Paastis cannot use" in wrong.stderr
    down = f"postgresql://postgres:pw@127.0.0.1:{postgres.port}/missing"
    unreachable = paastis("check-config", env={"DATABASE_URL": down}, cwd=tmp_path)
    assert unreachable.returncode == 0  # the configuration is valid: the database does not answer now
    assert "warning: database: postgresql" in unreachable.stdout
    assert "cannot be reached: connection failed" in unreachable.stdout
    assert "check the host, port, user, password and database name in DATABASE_URL" in unreachable.stdout
    assert "Traceback" not in unreachable.stdout + unreachable.stderr + wrong.stderr


def test_db_copy_moves_a_sqlite_file_into_postgresql_once(postgres, tmp_path) -> None:
    (tmp_path / "paastis.yml").write_text(FAKE)
    shutil.copy(LEGACY, tmp_path / "old.db")
    env = {"DATABASE_URL": postgres.new_database()}
    copied = paastis("db", "copy", "--from", f"sqlite:///{tmp_path / 'old.db'}", env=env, cwd=tmp_path)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "apps 2, activity" not in copied.stdout  # only tables with rows are listed
    assert "apps 2" in copied.stdout
    refused = paastis("db", "copy", "--from", f"sqlite:///{tmp_path / 'old.db'}", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert "already holds data" in refused.stdout
    assert "add --force" in refused.stdout
