"""Clever Cloud as a provider type: its options, and how one provider is built from them.

One provider manages one OAuth 1 identity in one zone (`clever-par`, `clever-rbx`…), or in
every zone (`clever-cloud`) when `zone` is empty. The provider itself is in `provider`, the
HTTP client in `client`; the fake API, for tests and the demo, in `fake_api`.
"""

from __future__ import annotations

from typing import Any

from providers.base import EnvVariable, ProviderDeps, ProviderSpec, ProviderType
from providers.budget import CallBudget
from providers.clever_cloud.client import CleverCloudClient
from providers.clever_cloud.provider import OPERATION_TIMEOUT, CleverCloudProvider
from providers.clever_cloud.signing import DEFAULT_SIGNATURE, SIGNATURE_METHODS, Credentials
from providers.options import InvalidOption, Option, one_of, positive_int, seconds, text, url

__all__ = ["OPTIONS", "PROVIDER_TYPE", "CleverCloudProvider", "build"]

ZONE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def zone_code(value: Any) -> str:
    """A zone code as the API reports it (par, rbx, rbxhds, mtl, sgp, syd, wsw, …)."""
    code = text(value).lower()
    if not set(code) <= ZONE_CHARS:
        raise InvalidOption("expected a Clever Cloud zone code such as par, rbx, mtl or sgp")
    return code


OPTIONS = {
    "api_host": Option("the Clever Cloud API base URL", url, default="https://api.clever-cloud.com"),
    "consumer_key": Option("the OAuth consumer key", text, required=True, secret=True),
    "consumer_secret": Option("the OAuth consumer secret", text, required=True, secret=True),
    "token": Option("the user's OAuth token (clever login)", text, required=True, secret=True),
    "secret": Option("the user's OAuth token secret", text, required=True, secret=True),
    "zone": Option("the zone whose apps are managed (par, rbx, mtl, …; empty: every zone)", zone_code, default=""),
    "operation_timeout": Option("how long a wake (redeploy) may take", seconds, default=OPERATION_TIMEOUT),
    "signature_method": Option(
        "how requests are signed (PLAINTEXT, as Clever Cloud's own clients sign; HMAC-SHA512 or HMAC-SHA1)",
        one_of(*SIGNATURE_METHODS),
        default=DEFAULT_SIGNATURE,
    ),
    "rate_limit": Option("API calls a minute Paastis allows itself (none is documented)", positive_int, default=120),
}


ENVIRONMENT = {
    "PROVIDER_CLEVER_API_HOST": EnvVariable(
        "api_host", "Clever Cloud API base URL", OPTIONS["api_host"].default, origin="paastis"
    ),
    "PROVIDER_CLEVER_OAUTH_CONSUMER_KEY": EnvVariable(
        "consumer_key", "Clever Cloud OAuth consumer key", origin="paastis"
    ),
    "PROVIDER_CLEVER_OAUTH_CONSUMER_SECRET": EnvVariable(
        "consumer_secret", "Clever Cloud OAuth consumer secret", origin="paastis"
    ),
    "PROVIDER_CLEVER_TOKEN": EnvVariable("token", "Clever Cloud OAuth user token", origin="paastis", selects=True),
    "PROVIDER_CLEVER_SECRET": EnvVariable("secret", "Clever Cloud OAuth user token secret", origin="paastis"),
    "PROVIDER_CLEVER_OPERATION_TIMEOUT": EnvVariable(
        "operation_timeout",
        "Seconds a Clever Cloud wake (a redeploy) may take",
        f"{OPERATION_TIMEOUT:g}",
        origin="paastis",
    ),
    "PROVIDER_REGION": EnvVariable("zone", "Clever Cloud zone (par, rbx…; empty: all zones)", "all", origin="paastis"),
}

# Estimated EUR per container-hour by runtime flavor (see bot.policy.pricing).
PRICES = {"pico": 0.006, "nano": 0.009, "XS": 0.02, "S": 0.04, "M": 0.08, "L": 0.16, "XL": 0.32, "*": 0.02}


def build(spec: ProviderSpec, deps: ProviderDeps) -> CleverCloudProvider:
    options = {key: option.default for key, option in OPTIONS.items()} | dict(spec.options)
    limit = options["rate_limit"]
    client = CleverCloudClient(
        api_host=options["api_host"],
        credentials=Credentials(
            options["consumer_key"], options["consumer_secret"], options["token"], options["secret"]
        ),
        signature_method=options["signature_method"],
        clock=deps.clock,
        budget=CallBudget(deps.clock, limit=limit, reserve=limit // 5),
        provider=spec.name,
        transport=deps.transport,
        user_agent=deps.user_agent,
        ca_bundle=deps.ca_bundle,
    )
    return CleverCloudProvider(
        name=spec.name,
        client=client,
        clock=deps.clock,
        zone=options["zone"] or "",
        wake_timeout=options["operation_timeout"],
    )


PROVIDER_TYPE = ProviderType(
    kind="clever-cloud",
    summary="Clever Cloud applications of one zone (personal space and organisations), over OAuth 1",
    options=OPTIONS,
    build=build,
    fake=f"{__name__}.fake_api.deployment",
    environment=ENVIRONMENT,
    prices=PRICES,
    default_name=lambda values: f"clever-{values['zone']}" if values.get("zone") else "clever-cloud",
    location=lambda values: values.get("zone") or "",
)
