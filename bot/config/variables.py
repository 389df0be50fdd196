"""Every environment variable Paastis reads, documented once (the README table is checked
against `VARIABLES`), and how the original paastis variables map onto provider options."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    description: str
    default: str = ""
    secret: bool = False
    origin: str = "new"  # "paastis" for the original's variables


VARIABLES: dict[str, Variable] = {
    "PROVIDER_NAME": Variable("Provider type of the single provider configured by environment: scalingo, clever-cloud or fake", "", origin="paastis"),
    "PROVIDER_REGION": Variable("Scalingo region (osc-fr1, osc-secnum-fr1) or Clever Cloud zone (par, rbx…; empty: all zones)", "osc-fr1 / all", origin="paastis"),
    "PROVIDER_SCALINGO_API_TOKEN": Variable("Scalingo API token (tk-us-…)", "", True, "paastis"),
    "PROVIDER_SCALINGO_OPERATION_TIMEOUT": Variable("Seconds a Scalingo wake may take before it is reported failed", "180", origin="paastis"),
    "PROVIDER_SCALINGO_API_URL": Variable("Scalingo regional API base URL, without /v1", "https://api.<region>.scalingo.com"),
    "PROVIDER_SCALINGO_AUTH_URL": Variable("Scalingo auth service base URL, without /v1", "https://auth.scalingo.com"),
    "PROVIDER_CLEVER_API_HOST": Variable("Clever Cloud API base URL", "https://api.clever-cloud.com", origin="paastis"),
    "PROVIDER_CLEVER_OAUTH_CONSUMER_KEY": Variable("Clever Cloud OAuth consumer key", "", True, "paastis"),
    "PROVIDER_CLEVER_OAUTH_CONSUMER_SECRET": Variable("Clever Cloud OAuth consumer secret", "", True, "paastis"),
    "PROVIDER_CLEVER_TOKEN": Variable("Clever Cloud OAuth user token", "", True, "paastis"),
    "PROVIDER_CLEVER_SECRET": Variable("Clever Cloud OAuth user token secret", "", True, "paastis"),
    "PROVIDER_CLEVER_OPERATION_TIMEOUT": Variable("Seconds a Clever Cloud wake (a redeploy) may take", "900", origin="paastis"),
    "START_AND_STOP_MAX_IDLE_TIME": Variable("Idle time before an app is put to sleep: minutes, or a duration such as 90s or 2h", "15", origin="paastis"),
    "START_AND_STOP_CHECKING_INTERVAL_CRON": Variable("When the sweep runs: cron with 5 fields, or 6 with seconds first", "* * * * *", origin="paastis"),
    "REGISTRY_IGNORED_APPS": Variable("Apps never managed, comma-separated names or globs (review-*)", "", origin="paastis"),
    "HOOKS_BEFORE_START": Variable("Shell command run before an app is woken", "", origin="paastis"),
    "HOOKS_AFTER_START": Variable("Shell command run after an app is up", "", origin="paastis"),
    "HOOKS_BEFORE_STOP": Variable("Shell command run before an app is put to sleep (failing cancels that sleep)", "", origin="paastis"),
    "HOOKS_AFTER_STOP": Variable("Shell command run after an app is put to sleep", "", origin="paastis"),
    "PAASTIS_HOOKS_TIMEOUT": Variable("Seconds a hook may run before it is killed", "60"),
    "LOG_LEVEL": Variable("DEBUG, INFO, WARNING or ERROR (LOGGING_LEVEL of the original also works)", "INFO", origin="paastis"),
    "SLACK_BOT_TOKEN": Variable("Slack bot token (xoxb-…); without it, serve runs the engine only", "", True),
    "SLACK_SIGNING_SECRET": Variable("Slack signing secret, to verify requests in HTTP mode", "", True),
    "SLACK_APP_TOKEN": Variable("Slack app-level token (xapp-…): turns Socket Mode on", "", True),
    "SLACK_API_URL": Variable("Base URL of the Slack Web API (GovSlack: https://slack-gov.com/api/)", "https://slack.com/api/"),
    "PAASTIS_CHANNEL": Variable("Channel for notices and reports (an id such as C0123, or #name)", ""),
    "PAASTIS_ADMINS": Variable("Slack user or user-group ids allowed to sleep, keep and unkeep, besides workspace admins", ""),
    "PAASTIS_DB": Variable("SQLite database path", "./paastis.db"),
    "PAASTIS_TIMEZONE": Variable("The team's time zone (reports, keep until 18:00, schedules)", "UTC"),
    "PAASTIS_REPORT_CRON": Variable("When the report is posted, in PAASTIS_TIMEZONE", "0 9 * * *"),
    "PAASTIS_CONFIG": Variable("Path of the YAML configuration", "./paastis.yml when present"),
    "PAASTIS_SELF_APP": Variable("Name of the app Paastis runs as: never put to sleep", ""),
    "PAASTIS_DRY_RUN": Variable("true: decide and report, put nothing to sleep", "false"),
    "PORT": Variable("HTTP port for /slack/events and /healthz (set by the PaaS)", "3000 in HTTP mode"),
}  # fmt: skip

# variables of the original proxy that mean nothing for a bot: accepted, ignored, reported
LEGACY_IGNORED = {
    "REGISTRY_TYPE": "Paastis keeps its registry in SQLite (PAASTIS_DB)",
    "REGISTRY_REDIS_URL": "Paastis keeps its registry in SQLite (PAASTIS_DB)",
    "EVENTS_STORE_TYPE": "events are stored in SQLite (PAASTIS_DB)",
    "ROUTING_SYSTEM_API_ENABLED": "the proxy's system API is replaced by /paastis commands in Slack",
    "ROUTING_SYSTEM_API_TOKEN": "the proxy's system API is replaced by /paastis commands in Slack",
    "PROVIDER_HEROKU_API_TOKEN": "Heroku is not supported yet",
    "PROVIDER_HEROKU_OPERATION_TIMEOUT": "Heroku is not supported yet",
}

# how the original environment maps onto provider options
ENV_OPTIONS: dict[str, dict[str, str]] = {
    "scalingo": {
        "api_token": "PROVIDER_SCALINGO_API_TOKEN", "region": "PROVIDER_REGION",
        "api_url": "PROVIDER_SCALINGO_API_URL", "auth_url": "PROVIDER_SCALINGO_AUTH_URL",
        "operation_timeout": "PROVIDER_SCALINGO_OPERATION_TIMEOUT",
    },
    "clever-cloud": {
        "api_host": "PROVIDER_CLEVER_API_HOST", "consumer_key": "PROVIDER_CLEVER_OAUTH_CONSUMER_KEY",
        "consumer_secret": "PROVIDER_CLEVER_OAUTH_CONSUMER_SECRET", "token": "PROVIDER_CLEVER_TOKEN",
        "secret": "PROVIDER_CLEVER_SECRET", "operation_timeout": "PROVIDER_CLEVER_OPERATION_TIMEOUT",
        "zone": "PROVIDER_REGION",
    },
    "fake": {},
}  # fmt: skip
