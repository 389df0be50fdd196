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

from bot.errors import ConfigError
from bot.policy.durations import parse_duration
from bot.policy.pricing import parse_prices
from bot.policy.rules import parse_rules
from bot.policy.schedules import cron_trigger, parse_holiday, parse_schedules, parse_timezone
from bot.config.settings import Permissions, Settings, SlackSettings
from bot.config.variables import ENV_OPTIONS, LEGACY_IGNORED, VARIABLES, Variable
from bot.engine.webhooks import Webhook
from providers import PROVIDERS, parse_spec, provider_type
from providers.base import ProviderSpec
from providers.options import Problem


YAML_KEYS = {
    "rules", "providers", "schedules", "holidays", "timezone", "idle_timeout", "permissions",
    "prices", "webhooks", "reports",
}  # fmt: skip
SECRET_ENV = frozenset(name for name, v in VARIABLES.items() if v.secret)
SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


__all__ = ["VARIABLES", "ConfigError", "Permissions", "Settings", "SlackSettings", "build_settings", "load_settings"]


# -- building ----------------------------------------------------------------------------


class _Collector:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, where: str, value: Any, why: str, *, secret: bool = False) -> None:
        shown = "<redacted>" if secret and value else ("" if value is None else str(value))
        self.problems.append(Problem(where, shown, why))

    def extend(self, triples: list[tuple[str, str, str]]) -> None:
        self.problems.extend(Problem(*t) for t in triples)

    def get(self, name: str) -> str | None:
        value = self.env.get(name)
        return value.strip() if value and value.strip() else None

    def convert(self, name: str, parse: Callable[[str], Any], default: Any) -> Any:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            self.add(name, raw, str(exc), secret=VARIABLES.get(name, Variable("")).secret)
            return default


def build_settings(env: Mapping[str, str], yaml_text: str | None = None, yaml_path: Path | None = None) -> Settings:
    """Settings from an environment mapping and the YAML text; raises ConfigError listing every problem."""
    c = _Collector(env)
    doc = _load_yaml(yaml_text, yaml_path, c)
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
    report_cron = _cron(c, "PAASTIS_REPORT_CRON", _yaml_report_cron(doc, c), tz)
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
    prices, price_problems = parse_prices(doc.get("prices"))
    c.extend(price_problems)
    slack = _slack(c)
    settings = Settings(
        providers=_providers(c, doc),
        idle_timeout=idle,
        sweep_cron=sweep_cron,
        ignored_apps=tuple(x.strip() for x in (c.get("REGISTRY_IGNORED_APPS") or "").split(",") if x.strip()),
        self_app=c.get("PAASTIS_SELF_APP"),
        dry_run=c.convert("PAASTIS_DRY_RUN", _flag, False),
        db_path=Path(c.get("PAASTIS_DB") or "paastis.db"),
        timezone=tz,
        report_cron=report_cron,
        hooks={event: cmd for event, var in _HOOK_VARS.items() if (cmd := c.get(var))},
        hooks_timeout=c.convert("PAASTIS_HOOKS_TIMEOUT", _positive_seconds, 60.0),
        rules=rules,
        schedules=schedules,
        prices=prices,
        webhooks=_webhooks(doc.get("webhooks"), c),
        permissions=_permissions(doc.get("permissions"), c),
        log_level=c.convert("LOG_LEVEL", _log_level, None) or c.convert("LOGGING_LEVEL", _log_level, "INFO"),
        port=c.convert("PORT", _port, None),
        slack=slack,
        config_path=yaml_path,
        warnings=tuple(c.warnings),
    )
    if c.problems:
        raise ConfigError(c.problems)
    return settings


_HOOK_VARS = {
    "before_start": "HOOKS_BEFORE_START", "after_start": "HOOKS_AFTER_START",
    "before_stop": "HOOKS_BEFORE_STOP", "after_stop": "HOOKS_AFTER_STOP",
}  # fmt: skip


def load_settings(env: Mapping[str, str], cwd: Path | None = None) -> Settings:
    """Read PAASTIS_CONFIG (or ./paastis.yml when present) and build the settings."""
    cwd = cwd or Path.cwd()
    explicit = env.get("PAASTIS_CONFIG", "").strip()
    path = Path(explicit) if explicit else cwd / "paastis.yml"
    if not path.is_absolute():
        path = cwd / path
    if not path.exists():
        if explicit:
            raise ConfigError([Problem("PAASTIS_CONFIG", explicit, "no such file: fix the path or unset PAASTIS_CONFIG")])
        return build_settings(env)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem("PAASTIS_CONFIG", str(path), f"cannot be read: {exc}")]) from None
    return build_settings(env, text, path)


# -- pieces ------------------------------------------------------------------------------


def _load_yaml(text: str | None, path: Path | None, c: _Collector) -> dict[str, Any]:
    if not text:
        return {}
    where = str(path or "paastis.yml")
    try:
        doc = yaml.safe_load(text)
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
    return _interpolate(doc, c.env, c, where)


_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _interpolate(value: Any, env: Mapping[str, str], c: _Collector, where: str) -> Any:
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
        return {k: _interpolate(v, env, c, f"{where}.{k}" if where != "paastis.yml" else str(k)) for k, v in value.items()}
    return value


def _yaml_value(doc: Mapping[str, Any], key: str, parse: Callable[[str], Any], c: _Collector, default: Any) -> Any:
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
    return idle


def _cron(c: _Collector, name: str, default: str, tz: ZoneInfo) -> str:
    expression = c.get(name) or default
    try:
        cron_trigger(expression, tz)
    except ValueError as exc:
        c.add(name, expression, str(exc))
    return expression


def _yaml_report_cron(doc: Mapping[str, Any], c: _Collector) -> str:
    reports = doc.get("reports")
    if reports is None:
        return "0 9 * * *"
    if not isinstance(reports, Mapping) or set(reports) - {"cron"}:
        c.add("reports", repr(reports), "must be a mapping with a cron key, e.g. {cron: '0 9 * * 1-5'}")
        return "0 9 * * *"
    return str(reports.get("cron") or "0 9 * * *")


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _positive_seconds(text: str) -> float:
    seconds = parse_duration(text, bare_unit="seconds").total_seconds()
    if seconds <= 0:
        raise ValueError("must be more than zero seconds")
    return seconds


def _log_level(text: str) -> str:
    level = text.upper()
    if level == "WARN":
        level = "WARNING"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("expected a port number between 1 and 65535")
    return int(text)


def _slack(c: _Collector) -> SlackSettings:
    bot = c.get("SLACK_BOT_TOKEN")
    app = c.get("SLACK_APP_TOKEN")
    secret = c.get("SLACK_SIGNING_SECRET")
    if bot and not bot.startswith("xoxb-"):
        c.add("SLACK_BOT_TOKEN", bot, "must be a bot token starting with xoxb- (OAuth & Permissions page)", secret=True)
    if app and not app.startswith("xapp-"):
        c.add("SLACK_APP_TOKEN", app, "must be an app-level token starting with xapp- (Basic Information page)", secret=True)
    if app and not bot:
        c.add("SLACK_BOT_TOKEN", None, "is required with SLACK_APP_TOKEN (Socket Mode still posts with the bot token)")
    if bot and not app and not secret:
        c.add("SLACK_SIGNING_SECRET", None, "is required in HTTP mode to verify Slack's requests (Basic Information page); "
              "or set SLACK_APP_TOKEN for Socket Mode")  # fmt: skip
    url = c.get("SLACK_API_URL") or "https://slack.com/api/"
    if not re.match(r"^https?://[^/\s]+", url):
        c.add("SLACK_API_URL", url, "must be an http(s) URL such as https://slack.com/api/")
    channel = c.get("PAASTIS_CHANNEL")
    if channel and not re.match(r"^(#[\w.\-]+|[CGD][A-Z0-9]{2,})$", channel):
        c.add("PAASTIS_CHANNEL", channel, "must be a channel id (C0123ABCD) or a #name")
    if bot and not channel:
        c.warnings.append("PAASTIS_CHANNEL is not set: sweep notices and reports will not be posted")
    return SlackSettings(bot, secret, app, url if url.endswith("/") else url + "/", channel)


def _permissions(raw: Any, c: _Collector) -> Permissions:
    admins = tuple(x.strip() for x in (c.get("PAASTIS_ADMINS") or "").split(",") if x.strip())
    for admin in admins:
        if not SLACK_ID.match(admin):
            c.add("PAASTIS_ADMINS", admin, "is not a Slack user or user-group id (U…, W… or S…): copy it from the profile menu")
    if raw is None:
        return Permissions(admins=admins)
    if not isinstance(raw, Mapping):
        c.add("permissions", repr(raw), "must map wake, sleep and keep to everyone, admins or a list of ids")
        return Permissions(admins=admins)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in ("wake", "sleep", "keep"):
            c.add(f"permissions.{key}", "", "unknown key; known keys: keep, sleep, wake")
        elif value in ("everyone", "admins"):
            values[key] = value
        elif isinstance(value, list) and all(isinstance(v, str) and SLACK_ID.match(v) for v in value):
            values[key] = tuple(value)
        else:
            c.add(f"permissions.{key}", repr(value), "must be everyone, admins, or a list of Slack user/user-group ids")
    return Permissions(admins=admins, **values)


def _webhooks(raw: Any, c: _Collector) -> tuple[Webhook, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.add("webhooks", repr(raw), "must be a list of {url, secret, actions}")
        return ()
    hooks = []
    for index, entry in enumerate(raw, start=1):
        where = f"webhooks[{index}]"
        if not isinstance(entry, Mapping) or not entry.get("url") or not entry.get("secret"):
            c.add(where, "", "needs a url and a secret (write the secret as ${AN_ENV_VAR})")
            continue
        for key in set(entry) - {"url", "secret", "actions"}:
            c.add(f"{where}.{key}", "", "unknown key; known keys: actions, secret, url")
        if not re.match(r"^https?://", str(entry["url"])):
            c.add(f"{where}.url", entry["url"], "must be an http(s) URL")
            continue
        actions = entry.get("actions") or []
        if not isinstance(actions, list):
            c.add(f"{where}.actions", repr(actions), "must be a list of event actions (slept, woke, …)")
            actions = []
        hooks.append(Webhook(str(entry["url"]), str(entry["secret"]), frozenset(map(str, actions))))
    return tuple(hooks)


def _providers(c: _Collector, doc: Mapping[str, Any]) -> tuple[ProviderSpec, ...]:
    specs: list[ProviderSpec] = []
    kind = (c.get("PROVIDER_NAME") or _inferred_kind(c) or "").lower()
    if kind == "heroku":
        c.add("PROVIDER_NAME", kind, "Heroku is not supported by Paastis yet: use scalingo, clever-cloud or fake")
    elif kind:
        if kind not in PROVIDERS:
            c.add("PROVIDER_NAME", kind, f"unknown provider type; known types: {', '.join(PROVIDERS)}")
        else:
            mapping = ENV_OPTIONS.get(kind, {})
            raw = {option: c.get(var) for option, var in mapping.items() if c.get(var)}
            spec, problems = _parse(kind, raw, where="env", labels=mapping)
            c.problems.extend(problems)
            if spec:
                specs.append(spec)
    raw_list = doc.get("providers")
    if raw_list is not None and not isinstance(raw_list, list):
        c.add("providers", repr(raw_list), "must be a list of providers, each with a type")
        raw_list = []
    for index, entry in enumerate(raw_list or [], start=1):
        where = f"providers[{index}]"
        if not isinstance(entry, Mapping) or not entry.get("type"):
            c.add(where, "", f"needs a type: one of {', '.join(PROVIDERS)}")
            continue
        options = {k: v for k, v in entry.items() if k not in ("type", "name")}
        spec, problems = _parse(str(entry["type"]), options, where=where, name=entry.get("name"))
        c.problems.extend(problems)
        if spec:
            specs.append(spec)
    names = [s.name for s in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        c.add("providers", name, "two providers have this name: give each a distinct `name:`")
    if not specs and not any(p.key.startswith(("env", "PROVIDER", "providers")) for p in c.problems):
        c.add("PROVIDER_NAME", None, "no provider is configured: set PROVIDER_NAME (scalingo, clever-cloud or fake) "
              "with its credentials, or list providers in paastis.yml")  # fmt: skip
    return tuple(specs)


def _parse(kind: str, raw: Mapping[str, Any], **kw: Any) -> tuple[ProviderSpec | None, list[Problem]]:
    try:
        provider_type(kind)
    except ImportError as exc:
        return None, [Problem(kw.get("where", "providers"), kind, f"this provider type cannot be loaded: {exc}")]
    except KeyError:
        pass  # parse_spec reports unknown types
    return parse_spec(kind, raw, **kw)


def _inferred_kind(c: _Collector) -> str | None:
    """The original defaulted PROVIDER_NAME to scalingo; we infer it from the credentials given."""
    if c.get("PROVIDER_SCALINGO_API_TOKEN"):
        return "scalingo"
    if c.get("PROVIDER_CLEVER_TOKEN"):
        return "clever-cloud"
    return None


def environment_secrets(env: Mapping[str, str]) -> frozenset[str]:
    """Names of variables holding secrets, for hooks' environment (never handed to hooks)."""
    return SECRET_ENV | frozenset(k for k in env if re.search(r"(TOKEN|SECRET|PASSWORD)", k))

