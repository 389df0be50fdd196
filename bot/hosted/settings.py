"""The hosted edition's settings, from the environment (pure: `bot.__main__` reads it).

`paastis serve` runs the hosted edition when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set
and SLACK_BOT_TOKEN is not (`is_hosted`). Every problem is listed at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.errors import ConfigError
from bot.store.database import EXAMPLE_URL, locate
from bot.store.files import StoreUnusable, masked_location
from providers import PROVIDERS, known_types, provider_types
from providers.options import Problem

# the bot scopes of manifest.yml (tests/bot/hosted checks they agree)
SCOPES = ("commands", "chat:write", "chat:write.public", "users:read", "usergroups:read")
DEFAULT_GRACE = timedelta(days=7)


def is_hosted(env: Mapping[str, str]) -> bool:
    return bool(env.get("SLACK_CLIENT_ID") and env.get("SLACK_CLIENT_SECRET") and not env.get("SLACK_BOT_TOKEN"))


def with_credentials() -> tuple[str, ...]:
    """The provider types that take credentials (the simulated PaaS takes none: it is offered
    only when PAASTIS_HOSTED_PROVIDERS names it, for demos)."""
    return tuple(p.kind for p in provider_types() if any(o.secret for o in p.options.values()))


@dataclass(frozen=True)
class HostedSettings:
    client_id: str
    client_secret: str = field(repr=False)
    signing_secret: str = field(repr=False)
    secret_key: str = field(repr=False)
    api_url: str = "https://slack.com/api/"
    data_dir: Path = Path("paastis-data")
    port: int = 3000
    grace: timedelta = DEFAULT_GRACE  # how long an uninstalled workspace's data is kept
    offered: tuple[str, ...] = field(default_factory=with_credentials)  # the types a workspace may connect
    app_labels: bool = False  # app names as labels of /metrics
    log_level: str = "INFO"
    database_url: str | None = field(default=None, repr=False)  # DATABASE_URL: PostgreSQL, for several instances

    @property
    def registry_path(self) -> Path | str:
        """Where the registry lives: the PostgreSQL of DATABASE_URL, else a SQLite file."""
        return self.database_url or self.data_dir / "registry.db"

    def workspace_db(self, team_id: str) -> Path | str:
        """Where a workspace's store lives: its own schema of DATABASE_URL's PostgreSQL
        (`ws_<team id>`), else its own SQLite file."""
        if self.database_url:
            return f"{self.database_url}{'&' if '?' in self.database_url else '?'}schema={workspace_schema(team_id)}"
        return self.data_dir / "workspaces" / f"{team_id}.db"


def workspace_schema(team_id: str) -> str:
    return f"ws_{team_id.lower()}"


def hosted_settings(env: Mapping[str, str]) -> HostedSettings:
    problems: list[Problem] = []
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET"):
        if not env.get(name):
            problems.append(Problem(name, None, "is required by the hosted edition (Basic Information page)"))
    if not env.get("PAASTIS_SECRET_KEY"):
        problems.append(
            Problem(
                "PAASTIS_SECRET_KEY",
                None,
                "is required by the hosted edition to encrypt tokens and credentials; make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
            )
        )
    url = env.get("SLACK_API_URL") or "https://slack.com/api/"
    if not re.match(r"^https?://[^/\s]+", url):
        problems.append(Problem("SLACK_API_URL", url, "must be an http(s) URL such as https://slack.com/api/"))
    port = env.get("PORT") or "3000"
    if not port.isdigit() or not 0 < int(port) < 65536:
        problems.append(Problem("PORT", port, "must be a port number"))
    grace = env.get("PAASTIS_PURGE_AFTER_DAYS") or str(DEFAULT_GRACE.days)
    if not grace.isdigit():
        problems.append(Problem("PAASTIS_PURGE_AFTER_DAYS", grace, "must be a whole number of days (0: at once)"))
    database_url = (env.get("DATABASE_URL") or "").strip() or None
    if database_url:
        try:
            if locate(database_url).kind != "postgresql":
                raise StoreUnusable(f"must be a PostgreSQL URL ({EXAMPLE_URL}); unset, the hosted edition uses SQLite")
        except StoreUnusable as exc:
            problems.append(Problem("DATABASE_URL", masked_location(database_url), str(exc)))
    offered = tuple(k.strip() for k in (env.get("PAASTIS_HOSTED_PROVIDERS") or "").split(",") if k.strip())
    offered = offered or with_credentials()
    for kind in offered:
        if kind not in PROVIDERS:
            problems.append(Problem("PAASTIS_HOSTED_PROVIDERS", kind, f"unknown provider type; known: {known_types()}"))
    if problems:
        raise ConfigError(problems)
    return HostedSettings(
        client_id=env["SLACK_CLIENT_ID"],
        client_secret=env["SLACK_CLIENT_SECRET"],
        signing_secret=env["SLACK_SIGNING_SECRET"],
        secret_key=env["PAASTIS_SECRET_KEY"],
        api_url=url if url.endswith("/") else url + "/",
        data_dir=Path(env.get("PAASTIS_DATA_DIR") or "paastis-data"),
        port=int(port),
        grace=timedelta(days=int(grace)),
        offered=offered,
        app_labels=_flag(env.get("PAASTIS_METRICS_APP_LABELS")),
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        database_url=database_url,
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
