"""Settings: built by one function from the environment and paastis.yml, every problem at once.

`load_settings(env, read_text)` reads the YAML file (PAASTIS_CONFIG, else ./paastis.yml when
present) and calls `build_settings`, which is pure. Problems name the variable or key, the
value (redacted when secret) and why; `ConfigError` carries all of them. The original
paastis variables keep their meaning; `VARIABLES` documents every variable (the README
table is checked against it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.config import sections
from bot.config.collector import Collector
from bot.config.provider_specs import price_table, provider_specs
from bot.config.settings import Permissions, Settings, SlackSettings
from bot.config.variables import LEGACY_IGNORED, VARIABLES
from bot.config.visits import proxy_settings, sablier_settings
from bot.config.yaml_file import YamlRefused, parse_yaml, read_config
from bot.errors import ConfigError
from bot.logs import FORMATS
from bot.policy.durations import check_idle_timeout, parse_duration
from bot.policy.pricing import parse_prices
from bot.policy.rules import parse_rules
from bot.policy.schedules import cron_trigger, parse_holiday, parse_schedules, parse_timezone
from bot.store.database import locate
from bot.store.files import StoreUnusable, masked_location, unusable
from providers import PROVIDERS, provider_type
from providers.options import Problem

YAML_KEYS = {
    "rules",
    "providers",
    "schedules",
    "holidays",
    "timezone",
    "idle_timeout",
    "permissions",
    "prices",
    "webhooks",
    "reports",
    "proxy",
    "sablier",
}
SECRET_ENV = frozenset(name for name, v in VARIABLES.items() if v.secret)

# Settings and its parts are imported from here by the rest of the bot
__all__ = [
    "ConfigError",
    "Permissions",
    "Settings",
    "SlackSettings",
    "build_settings",
    "load_settings",
    "secret_variables",
]


# -- building ----------------------------------------------------------------------------


def build_settings(env: Mapping[str, str], yaml_text: str | None = None, yaml_path: Path | None = None) -> Settings:
    """Settings from an environment mapping and the YAML text; raises ConfigError listing every problem."""
    c = Collector(env)
    raw = _load_yaml(yaml_text, yaml_path, c)
    doc = _interpolate(raw, c.env, c, str(yaml_path or "paastis.yml")) if raw else {}
    for name, why in LEGACY_IGNORED.items():
        if c.get(name):
            c.warnings.append(f"{name} is ignored: {why}")
    tz = c.convert("PAASTIS_TIMEZONE", parse_timezone, None)
    if tz is None:
        tz = _yaml_value(doc, "timezone", parse_timezone, c, ZoneInfo("UTC"))
    idle = c.convert("START_AND_STOP_MAX_IDLE_TIME", _idle_time, None)
    if idle is None:
        idle = _yaml_value(doc, "idle_timeout", _idle_time, c, timedelta(minutes=15))
    sweep_cron = _cron(c, "START_AND_STOP_CHECKING_INTERVAL_CRON", "* * * * *", tz)
    report_cron = _cron(c, "PAASTIS_REPORT_CRON", sections.report_cron(doc, c), tz)
    rules, rule_problems, rule_warnings = parse_rules(doc.get("rules"))
    c.extend(rule_problems)
    c.warnings.extend(rule_warnings)
    holidays = []
    for index, text in enumerate(doc.get("holidays") or []):
        try:
            holidays.append(parse_holiday(text))
        except ValueError as exc:
            c.add(f"holidays[{index + 1}]", text, str(exc))
    schedules, schedule_problems = parse_schedules(doc.get("schedules"), tz, holidays)
    c.extend(schedule_problems)
    for rule in rules:
        if rule.schedule and rule.schedule not in schedules:
            known = ", ".join(sorted(schedules)) or "none defined"
            c.add(f"rules[{rule.index}].schedule", rule.schedule, f"no such schedule (known: {known})")
    prices, price_problems = parse_prices(doc.get("prices"), price_table())
    c.extend(price_problems)
    slack = sections.slack_settings(c)
    settings = Settings(
        providers=provider_specs(c, doc),
        idle_timeout=idle,
        sweep_cron=sweep_cron,
        ignored_apps=tuple(x.strip() for x in (c.get("REGISTRY_IGNORED_APPS") or "").split(",") if x.strip()),
        self_app=c.get("PAASTIS_SELF_APP"),
        dry_run=c.convert("PAASTIS_DRY_RUN", _flag, None),  # unset: the safe first run
        db_path=Path(c.get("PAASTIS_DB") or "paastis.db"),
        database_url=(c.get("DATABASE_URL") or "").strip() or None,
        timezone=tz,
        report_cron=report_cron,
        hooks={event: cmd for event, var in _HOOK_VARS.items() if (cmd := c.get(var))},
        hooks_timeout=c.convert("PAASTIS_HOOKS_TIMEOUT", _hook_timeout, 60.0),
        rules=rules,
        schedules=schedules,
        prices=prices,
        webhooks=sections.webhooks(doc.get("webhooks"), c),
        permissions=sections.permissions(doc.get("permissions"), c),
        log_level=c.convert("LOG_LEVEL", _log_level, None) or c.convert("LOGGING_LEVEL", _log_level, "INFO"),
        log_format=c.convert("LOG_FORMAT", _log_format, "text"),
        port=c.convert("PORT", _port, None),
        slack=slack,
        proxy=proxy_settings(doc.get("proxy"), c),
        sablier=sablier_settings(doc.get("sablier"), c),
        config_path=yaml_path,
        warnings=tuple(c.warnings),
        secret_variables=secret_variables(raw),
    )
    if c.problems:
        raise ConfigError(c.problems)
    return settings


_HOOK_VARS = {
    "before_start": "HOOKS_BEFORE_START",
    "after_start": "HOOKS_AFTER_START",
    "before_stop": "HOOKS_BEFORE_STOP",
    "after_stop": "HOOKS_AFTER_STOP",
}


def load_settings(env: Mapping[str, str], cwd: Path | None = None) -> Settings:
    """Read PAASTIS_CONFIG (or ./paastis.yml when present) and build the settings; the
    database file must be usable too (nothing is written to find out)."""
    cwd = cwd or Path.cwd()
    try:
        settings = _load(env, cwd)
    except ConfigError as exc:
        raise ConfigError([*exc.problems, *_database_problems(env, cwd)]) from None
    problems = _database_problems(env, cwd)
    if problems:
        raise ConfigError(problems)
    return settings


def _database_problems(env: Mapping[str, str], cwd: Path) -> list[Problem]:
    url = (env.get("DATABASE_URL") or "").strip()
    if url:
        try:
            locate(url)
        except StoreUnusable as exc:
            return [Problem("DATABASE_URL", masked_location(url), str(exc))]
        return []
    raw = (env.get("PAASTIS_DB") or "").strip() or "paastis.db"
    path = Path(raw) if Path(raw).is_absolute() else cwd / raw
    why = unusable(path)
    return [Problem("PAASTIS_DB", raw, why)] if why else []


def _load(env: Mapping[str, str], cwd: Path) -> Settings:
    explicit = env.get("PAASTIS_CONFIG", "").strip()
    path = Path(explicit) if explicit else cwd / "paastis.yml"
    if not path.is_absolute():
        path = cwd / path
    if not path.exists():
        if explicit:
            raise ConfigError(
                [Problem("PAASTIS_CONFIG", explicit, "no such file: fix the path or unset PAASTIS_CONFIG")]
            )
        return build_settings(env)
    try:
        text = read_config(path)
    except YamlRefused as exc:
        raise ConfigError([Problem("PAASTIS_CONFIG", str(path), str(exc))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("PAASTIS_CONFIG", str(path), f"cannot be read: {exc}")]) from None
    return build_settings(env, text, path)


# -- pieces ------------------------------------------------------------------------------


def _load_yaml(text: str | None, path: Path | None, c: Collector) -> dict[str, Any]:
    if not text:
        return {}
    where = str(path or "paastis.yml")
    try:
        doc = parse_yaml(text)
    except YamlRefused as exc:
        c.add(where, "", str(exc))
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        c.add(where, "", f"is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}")
        return {}
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        c.add(where, "", "must be a mapping at the top level (rules:, providers:, schedules:…)")
        return {}
    for key in set(doc) - YAML_KEYS:
        c.add(f"{where}: {key}", "", f"unknown key; known keys: {', '.join(sorted(YAML_KEYS))}")
    return doc


_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _interpolate(value: Any, env: Mapping[str, str], c: Collector, where: str) -> Any:
    """Replace ${VAR} in YAML strings by the environment's values (for credentials)."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                c.add(where, match.group(0), f"refers to ${{{name}}}, which is not set in the environment")
                return ""
            return env[name]

        return _REF.sub(sub, value)
    if isinstance(value, list):
        return [_interpolate(v, env, c, f"{where}[{i + 1}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: _interpolate(v, env, c, f"{where}.{k}" if where != "paastis.yml" else str(k)) for k, v in value.items()
        }
    return value


def _yaml_value(doc: Mapping[str, Any], key: str, parse: Callable[[str], Any], c: Collector, default: Any) -> Any:
    if doc.get(key) is None:
        return default
    try:
        return parse(str(doc[key]))
    except ValueError as exc:
        c.add(key, doc[key], str(exc))
        return default


def _idle_time(text: str) -> timedelta:
    idle = parse_duration(text, bare_unit="minutes")
    if idle <= timedelta(0):
        raise ValueError("must be more than zero: 15 (minutes) or a duration such as 90s")
    return check_idle_timeout(idle)


def _cron(c: Collector, name: str, default: str, tz: ZoneInfo) -> str:
    expression = c.get(name) or default
    try:
        cron_trigger(expression, tz)
    except ValueError as exc:
        c.add(name, expression, str(exc))
    return expression


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _hook_timeout(text: str) -> float:
    seconds = parse_duration(text, bare_unit="seconds").total_seconds()
    if not 0 < seconds <= 3600:
        raise ValueError("must be between 1 second and 1 hour (a hook holds a sleep or a wake until it ends)")
    return seconds


def _log_level(text: str) -> str:
    level = text.upper()
    if level == "WARN":
        level = "WARNING"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


def _log_format(text: str) -> str:
    if text.lower() not in FORMATS:
        raise ValueError(f"expected {' or '.join(FORMATS)}")
    return text.lower()


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("expected a port number between 1 and 65535")
    return int(text)


def secret_variables(raw: Mapping[str, Any]) -> frozenset[str]:
    """The variables holding Paastis's secrets, never handed to hooks: those declared secret
    (Slack's tokens; each provider type's, from the registry), and those paastis.yml reads
    (`${NAME}`) into a provider's secret option or a webhook's secret. Declared, not guessed
    from the name: CLEVER_CONSUMER_KEY holds no TOKEN nor SECRET."""
    names = set(SECRET_ENV)
    providers, webhooks = raw.get("providers"), raw.get("webhooks")
    for entry in providers if isinstance(providers, list) else []:
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind in PROVIDERS:
            for option in provider_type(kind).secrets:
                names.update(_REF.findall(str(entry.get(option, ""))))
    for entry in webhooks if isinstance(webhooks, list) else []:
        if isinstance(entry, Mapping):
            names.update(_REF.findall(str(entry.get("secret", ""))))
    sablier = raw.get("sablier")
    if isinstance(sablier, Mapping):
        names.update(_REF.findall(str(sablier.get("secret", ""))))
    return frozenset(names)
