"""Every environment variable Paastis reads, documented once (the README table is checked
against `VARIABLES`).

The bot's own variables are listed here; each provider type declares the PROVIDER_*
variables that configure it (`ProviderType.environment`) and they are read from the
registry. A variable several types read (PROVIDER_REGION: a Scalingo region, a Clever Cloud
zone) is documented once, with each type's meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers import known_types, provider_types


@dataclass(frozen=True)
class Variable:
    description: str
    default: str = ""
    secret: bool = False
    origin: str = "new"  # "paastis" for the original's variables


def _provider_variables() -> dict[str, Variable]:
    read_by: dict[str, list[Variable]] = {}
    for ptype in provider_types():
        for name, variable in ptype.environment.items():
            secret = ptype.options[variable.option].secret
            documented = Variable(variable.description, variable.default, secret, variable.origin)
            read_by.setdefault(name, []).append(documented)
    return {
        name: Variable(
            " or ".join(v.description for v in variables),
            " / ".join(v.default for v in variables if v.default),
            any(v.secret for v in variables),
            "paastis" if any(v.origin == "paastis" for v in variables) else "new",
        )
        for name, variables in read_by.items()
    }


VARIABLES: dict[str, Variable] = {
    "PROVIDER_NAME": Variable(
        f"Provider type of the single provider configured by environment: {known_types()}", "", origin="paastis"
    ),
    **_provider_variables(),
    "START_AND_STOP_MAX_IDLE_TIME": Variable(
        "Idle time before an app is put to sleep: minutes, or a duration such as 90s or 2h", "15", origin="paastis"
    ),
    "START_AND_STOP_CHECKING_INTERVAL_CRON": Variable(
        "When the sweep runs: cron with 5 fields, or 6 with seconds first", "* * * * *", origin="paastis"
    ),
    "REGISTRY_IGNORED_APPS": Variable(
        "Apps never managed, comma-separated names or globs (review-*)", "", origin="paastis"
    ),
    "HOOKS_BEFORE_START": Variable("Shell command run before an app is woken", "", origin="paastis"),
    "HOOKS_AFTER_START": Variable("Shell command run after an app is up", "", origin="paastis"),
    "HOOKS_BEFORE_STOP": Variable(
        "Shell command run before an app is put to sleep (failing cancels that sleep)", "", origin="paastis"
    ),
    "HOOKS_AFTER_STOP": Variable("Shell command run after an app is put to sleep", "", origin="paastis"),
    "PAASTIS_HOOKS_TIMEOUT": Variable("Seconds a hook may run before it is killed", "60"),
    "LOG_LEVEL": Variable(
        "DEBUG, INFO, WARNING or ERROR (LOGGING_LEVEL of the original also works)", "INFO", origin="paastis"
    ),
    "LOG_FORMAT": Variable("text, or json: one JSON object a line (for log drains)", "text"),
    "SLACK_BOT_TOKEN": Variable("Slack bot token (xoxb-…); without it, serve runs the engine only", "", True),
    "SLACK_SIGNING_SECRET": Variable("Slack signing secret, to verify requests in HTTP mode", "", True),
    "SLACK_APP_TOKEN": Variable("Slack app-level token (xapp-…): turns Socket Mode on", "", True),
    "SLACK_API_URL": Variable(
        "Base URL of the Slack Web API (GovSlack: https://slack-gov.com/api/)", "https://slack.com/api/"
    ),
    "PAASTIS_CHANNEL": Variable("Channel for notices and reports (an id such as C0123, or #name)", ""),
    "PAASTIS_ADMINS": Variable(
        "Slack user or user-group ids allowed to sleep, keep and unkeep, besides workspace admins", ""
    ),
    "PAASTIS_DB": Variable("SQLite database path (when DATABASE_URL is not set)", "./paastis.db"),
    "DATABASE_URL": Variable(
        "PostgreSQL URL (postgresql://user:password@host:5432/name, as add-ons set it): several instances share it",
        "unset: SQLite in PAASTIS_DB",
        True,
    ),
    "PAASTIS_TIMEZONE": Variable("The team's time zone (reports, keep until 18:00, schedules)", "UTC"),
    "PAASTIS_REPORT_CRON": Variable("When the report is posted, in PAASTIS_TIMEZONE", "0 9 * * *"),
    "PAASTIS_CONFIG": Variable("Path of the YAML configuration", "./paastis.yml when present"),
    "PAASTIS_SELF_APP": Variable("Name of the app Paastis runs as: never put to sleep", ""),
    "PAASTIS_DRY_RUN": Variable(
        "true: decide and report, put nothing to sleep; false: act from the first sweep",
        "unset: post a plan, act once an admin starts Paastis",
    ),
    "PORT": Variable("HTTP port for /slack/events and /healthz (set by the PaaS)", "3000 in HTTP mode"),
}

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
