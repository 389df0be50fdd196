"""The sections of the configuration besides providers: Slack, permissions, webhooks, reports.

Each reads the environment through a `Collector` and its part of paastis.yml, adds every
problem it finds and returns plain values (`provider_specs` reads the providers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.config.collector import Collector
from bot.config.settings import Permissions, SlackSettings
from bot.engine.webhooks import Webhook

SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
DEFAULT_REPORT_CRON = "0 9 * * *"


def slack_settings(c: Collector) -> SlackSettings:
    bot = c.get("SLACK_BOT_TOKEN")
    app = c.get("SLACK_APP_TOKEN")
    secret = c.get("SLACK_SIGNING_SECRET")
    if bot and not bot.startswith("xoxb-"):
        c.add("SLACK_BOT_TOKEN", bot, "must be a bot token starting with xoxb- (OAuth & Permissions page)", secret=True)
    if app and not app.startswith("xapp-"):
        c.add(
            "SLACK_APP_TOKEN",
            app,
            "must be an app-level token starting with xapp- (Basic Information page)",
            secret=True,
        )
    if app and not bot:
        c.add("SLACK_BOT_TOKEN", None, "is required with SLACK_APP_TOKEN (Socket Mode still posts with the bot token)")
    if bot and not app and not secret:
        c.add(
            "SLACK_SIGNING_SECRET",
            None,
            "is required in HTTP mode to verify Slack's requests "
            "(Basic Information page); or set SLACK_APP_TOKEN for Socket Mode",
        )
    url = c.get("SLACK_API_URL") or "https://slack.com/api/"
    if not re.match(r"^https?://[^/\s]+", url):
        c.add("SLACK_API_URL", url, "must be an http(s) URL such as https://slack.com/api/")
    channel = c.get("PAASTIS_CHANNEL")
    if channel and not re.match(r"^(#[\w.\-]+|[CGD][A-Z0-9]{2,})$", channel):
        c.add("PAASTIS_CHANNEL", channel, "must be a channel id (C0123ABCD) or a #name")
    if bot and not channel:
        c.warnings.append("PAASTIS_CHANNEL is not set: sweep notices and reports will not be posted")
    return SlackSettings(bot, secret, app, url if url.endswith("/") else url + "/", channel)


def permissions(raw: Any, c: Collector) -> Permissions:
    admins = tuple(x.strip() for x in (c.get("PAASTIS_ADMINS") or "").split(",") if x.strip())
    for admin in admins:
        if not SLACK_ID.match(admin):
            c.add(
                "PAASTIS_ADMINS",
                admin,
                "is not a Slack user or user-group id (U…, W… or S…): copy it from the profile menu",
            )
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


def webhooks(raw: Any, c: Collector) -> tuple[Webhook, ...]:
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


def report_cron(doc: Mapping[str, Any], c: Collector) -> str:
    reports = doc.get("reports")
    if reports is None:
        return DEFAULT_REPORT_CRON
    if not isinstance(reports, Mapping) or set(reports) - {"cron"}:
        c.add("reports", repr(reports), "must be a mapping with a cron key, e.g. {cron: '0 9 * * 1-5'}")
        return DEFAULT_REPORT_CRON
    return str(reports.get("cron") or DEFAULT_REPORT_CRON)
