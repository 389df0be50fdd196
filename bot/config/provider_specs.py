"""The providers Paastis manages, from the environment and paastis.yml, by the registry.

Nothing here names a provider type: each one declares in its own package which variables
configure it (`ProviderType.environment`), which of them gives its type away when
PROVIDER_NAME is unset, and its default prices; `providers.PROVIDERS` lists the types.

    PROVIDER_NAME (or inferred) + its PROVIDER_* variables   one provider, named by its type
    providers: [{type, name, …options}] in paastis.yml       any number, of any types
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.collector import Collector
from bot.policy.pricing import Prices
from providers import PROVIDERS, known_types, parse_spec, provider_type, provider_types
from providers.base import ProviderSpec


def provider_specs(c: Collector, doc: Mapping[str, Any]) -> tuple[ProviderSpec, ...]:
    """The provider configured by environment, then those of `providers:`; problems go to `c`."""
    specs: list[ProviderSpec] = []
    kind = (c.get("PROVIDER_NAME") or inferred_kind(c) or "").lower()
    if kind == "heroku":
        c.add("PROVIDER_NAME", kind, f"Heroku is not supported by Paastis yet: use {known_types()}")
    elif kind:
        if kind not in PROVIDERS:
            c.add("PROVIDER_NAME", kind, f"unknown provider type; known types: {', '.join(PROVIDERS)}")
        else:
            labels = {v.option: name for name, v in provider_type(kind).environment.items()}
            raw = {option: c.get(name) for option, name in labels.items() if c.get(name)}
            spec, problems = parse_spec(kind, raw, where="env", labels=labels)
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
        spec, problems = parse_spec(str(entry["type"]), options, where=where, name=entry.get("name"))
        c.problems.extend(problems)
        if spec:
            specs.append(spec)
    names = [s.name for s in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        c.add("providers", name, "two providers have this name: give each a distinct `name:`")
    if not specs and not any(p.key.startswith(("env", "PROVIDER", "providers")) for p in c.problems):
        c.add(
            "PROVIDER_NAME",
            None,
            f"no provider is configured: set PROVIDER_NAME ({known_types()}) "
            "with its credentials, or list providers in paastis.yml",
        )
    return tuple(specs)


def inferred_kind(c: Collector) -> str | None:
    """The original defaulted PROVIDER_NAME to scalingo; we infer it from the credentials
    given: the first type (in registry order) one of whose `selects` variables is set."""
    for ptype in provider_types():
        if any(v.selects and c.get(name) for name, v in ptype.environment.items()):
            return ptype.kind
    return None


def price_table() -> dict[str, dict[str, float]]:
    """The built-in price table: each provider type's `prices`, by type."""
    return {ptype.kind: dict(ptype.prices) for ptype in provider_types()}


def default_prices() -> Prices:
    return Prices(table=price_table())
