"""The Scalingo provider type: its options, its default name, and `build`.

`PROVIDERS["scalingo"]` points here. One provider is one API token in one region; the
region is configuration (any name: regions are data), never a method argument. Each built
provider has its own HTTP client, bearer cache, call budget and memory of operations, so
several regions or accounts in one process share nothing by accident. The provider itself
is `providers.scalingo.provider.ScalingoProvider`; its calls per action are listed there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from providers.base import EnvVariable, ProviderDeps, ProviderSpec, ProviderType
from providers.budget import CallBudget
from providers.options import InvalidOption, Option, positive_int, seconds, text, url
from providers.scalingo.auth import ScalingoTokens
from providers.scalingo.client import ScalingoClient, make_http
from providers.scalingo.provider import ScalingoProvider

__all__ = ["PROVIDER_TYPE", "ScalingoProvider", "build"]

DEFAULT_REGION = "osc-fr1"
DEFAULT_AUTH_URL = "https://auth.scalingo.com"
# A wake is a scale: containers are scheduled, started, and must bind $PORT. Scalingo gives
# a container up to 60 s to bind before it counts the boot as failed (doc.scalingo.com,
# container management), and scheduling plus image pull add seconds to tens of seconds.
# 180 s lets a slow but healthy boot finish, one 60 s boot failure plus a retry included,
# and still reports a stuck wake within minutes. (The original's 30 s failed slow apps.)
DEFAULT_OPERATION_TIMEOUT = 180.0
_REGION = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# the original paastis' sample.env wrote "osc-fr-1" (it ignored PROVIDER_REGION for Scalingo,
# so the typo never showed): configurations copied from it keep working
REGION_ALIASES = {"osc-fr-1": "osc-fr1", "osc-secnum-fr-1": "osc-secnum-fr1"}


def region_name(value: Any) -> str:
    """Any Scalingo region (regions are data, not code): a host name part such as osc-fr1."""
    result = text(value).lower()
    result = REGION_ALIASES.get(result, result)
    if not _REGION.match(result):
        raise InvalidOption("expected a Scalingo region name such as osc-fr1 or osc-secnum-fr1")
    return result


OPTIONS = {
    "api_token": Option(
        "Scalingo API token (tk-us-…), from the dashboard's Profile > API tokens", text, required=True, secret=True
    ),
    "region": Option(
        "Scalingo region of the apps, such as osc-fr1 or osc-secnum-fr1", region_name, default=DEFAULT_REGION
    ),
    "api_url": Option("regional API base URL without /v1 (default: https://api.<region>.scalingo.com)", url),
    "auth_url": Option("authentication API base URL without /v1", url, default=DEFAULT_AUTH_URL),
    "operation_timeout": Option(
        "how long a wake may take before it is reported as failed", seconds, default=DEFAULT_OPERATION_TIMEOUT
    ),
    "rate_limit": Option("API calls allowed per minute for this token", positive_int, default=60),
}


ENVIRONMENT = {
    "PROVIDER_SCALINGO_API_TOKEN": EnvVariable(
        "api_token", "Scalingo API token (tk-us-…)", origin="paastis", selects=True
    ),
    "PROVIDER_REGION": EnvVariable(
        "region", "Scalingo region (osc-fr1, osc-secnum-fr1)", DEFAULT_REGION, origin="paastis"
    ),
    "PROVIDER_SCALINGO_OPERATION_TIMEOUT": EnvVariable(
        "operation_timeout",
        "Seconds a Scalingo wake may take before it is reported failed",
        f"{DEFAULT_OPERATION_TIMEOUT:g}",
        origin="paastis",
    ),
    "PROVIDER_SCALINGO_API_URL": EnvVariable(
        "api_url", "Scalingo regional API base URL, without /v1", "https://api.<region>.scalingo.com"
    ),
    "PROVIDER_SCALINGO_AUTH_URL": EnvVariable(
        "auth_url", "Scalingo auth service base URL, without /v1", DEFAULT_AUTH_URL
    ),
}

# Estimated EUR per container-hour by size, S 256 MB … 2XL 4 GB (see bot.policy.pricing).
PRICES = {"S": 0.01, "M": 0.02, "L": 0.04, "XL": 0.08, "2XL": 0.16, "*": 0.02}


def default_name(values: Mapping[str, Any]) -> str:
    return f"scalingo-{values.get('region') or DEFAULT_REGION}"


def build(spec: ProviderSpec, deps: ProviderDeps) -> ScalingoProvider:
    """A provider with its own HTTP client, bearer cache, call budget and operations."""
    options = spec.options
    token = options.get("api_token")
    if not token:
        raise ValueError(f"{spec.name}: api_token is required")
    region = options.get("region") or DEFAULT_REGION
    limit = options.get("rate_limit") or 60
    http = make_http(deps)
    auth_url = options.get("auth_url") or DEFAULT_AUTH_URL
    tokens = ScalingoTokens(http, api_token=token, auth_url=auth_url, clock=deps.clock, provider=spec.name)
    client = ScalingoClient(
        http,
        tokens=tokens,
        budget=CallBudget(deps.clock, limit=limit, reserve=limit // 5),
        clock=deps.clock,
        api_url=options.get("api_url") or f"https://api.{region}.scalingo.com",
        provider=spec.name,
    )
    timeout = options.get("operation_timeout") or DEFAULT_OPERATION_TIMEOUT
    return ScalingoProvider(client, name=spec.name, region=region, clock=deps.clock, wake_timeout=timeout)


PROVIDER_TYPE = ProviderType(
    kind="scalingo",
    summary="Scalingo: one API token in one region (osc-fr1, osc-secnum-fr1, …)",
    options=OPTIONS,
    build=build,
    fake=f"{__name__}.fake_api.deployment",
    default_name=default_name,
    location=lambda values: values.get("region") or DEFAULT_REGION,
    environment=ENVIRONMENT,
    prices=PRICES,
)
