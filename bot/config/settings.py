"""The resolved settings: frozen values built by `bot.config.loading`, secrets kept out of repr."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.provider_specs import default_prices
from bot.config.variables import VARIABLES
from bot.config.visits import ProxySettings, SablierSettings
from bot.engine.webhooks import Webhook
from bot.policy.pricing import Prices
from bot.policy.rules import Rule
from bot.policy.schedules import Schedule
from bot.store.files import masked_location
from providers.base import ProviderSpec


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"
    channel: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


@dataclass(frozen=True)
class Permissions:
    """Who may do what: "everyone", "admins", or admins plus listed user / user-group ids."""

    wake: str | tuple[str, ...] = "everyone"
    sleep: str | tuple[str, ...] = "admins"
    keep: str | tuple[str, ...] = "admins"
    admins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    providers: tuple[ProviderSpec, ...]
    idle_timeout: timedelta = timedelta(minutes=15)
    sweep_cron: str = "* * * * *"
    ignored_apps: tuple[str, ...] = ()
    self_app: str | None = None
    dry_run: bool | None = None  # None: the safe first run (plan, then act once started)
    db_path: Path = Path("paastis.db")
    database_url: str | None = None  # DATABASE_URL: PostgreSQL, shared by every instance (else db_path, SQLite)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    report_cron: str = "0 9 * * *"
    hooks: Mapping[str, str] = field(default_factory=dict)
    hooks_timeout: float = 60.0
    rules: tuple[Rule, ...] = ()
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    prices: Prices = field(default_factory=default_prices)
    webhooks: tuple[Webhook, ...] = ()
    permissions: Permissions = field(default_factory=Permissions)
    log_level: str = "INFO"
    log_format: str = "text"
    port: int | None = None
    slack: SlackSettings = field(default_factory=SlackSettings)
    proxy: ProxySettings = field(default_factory=ProxySettings)
    sablier: SablierSettings = field(default_factory=SablierSettings)
    config_path: Path | None = None
    warnings: tuple[str, ...] = ()
    # never handed to hooks: those declared secret, and those paastis.yml reads into secrets (loading.secret_variables)
    secret_variables: frozenset[str] = field(
        default_factory=lambda: frozenset(name for name, v in VARIABLES.items() if v.secret)
    )

    @property
    def database(self) -> Path | str:
        """Where the store lives: DATABASE_URL when set, else the SQLite file PAASTIS_DB."""
        return self.database_url or self.db_path

    def redacted(self) -> dict[str, Any]:
        """Everything resolved, secrets replaced: what check-config prints."""
        return {
            "providers": [p.redacted() for p in self.providers],
            "idle_timeout": str(self.idle_timeout),
            "sweep_cron": self.sweep_cron,
            "ignored_apps": list(self.ignored_apps),
            "self_app": self.self_app,
            "dry_run": "unset: safe first run" if self.dry_run is None else self.dry_run,
            "database": masked_location(self.database),
            "timezone": str(self.timezone),
            "report_cron": self.report_cron,
            "hooks": dict(self.hooks),
            "hooks_timeout": self.hooks_timeout,
            "rules": len(self.rules),
            "schedules": sorted(self.schedules),
            "prices": {
                "currency": self.prices.currency,
                "watts_per_container": self.prices.watts_per_container,
                "table": self.prices.dated,
            },
            "webhooks": [{"url": w.url, "secret": "<redacted>", "actions": sorted(w.actions)} for w in self.webhooks],
            "permissions": {
                "wake": self.permissions.wake,
                "sleep": self.permissions.sleep,
                "keep": self.permissions.keep,
                "admins": list(self.permissions.admins),
            },
            "log_level": self.log_level,
            "log_format": self.log_format,
            "port": self.port,
            "slack": {
                "bot_token": _shown(self.slack.bot_token),
                "signing_secret": _shown(self.slack.signing_secret),
                "app_token": _shown(self.slack.app_token),
                "api_url": self.slack.api_url,
                "channel": self.slack.channel,
                "mode": "socket" if self.slack.socket_mode else "http",
            },
            "proxy": {
                "routes": dict(self.proxy.routes),
                "listen": str(self.proxy.listen) if self.proxy.listen else None,
                "max_body": self.proxy.max_body,
                "first_requests_per_minute": self.proxy.first_requests_per_minute,
                "trust_forwarded": self.proxy.trust_forwarded,
            },
            "sablier": {
                "listen": str(self.sablier.listen) if self.sablier.listen else "off",
                "secret": _shown(self.sablier.secret),
                "requests_per_minute": self.sablier.requests_per_minute,
            },
            "config_path": str(self.config_path) if self.config_path else None,
        }


def _shown(secret: str | None) -> str | None:
    return "<redacted>" if secret else None
