"""PaaS providers: the protocol, the provider types and how one is built from configuration.

`PROVIDERS` maps a provider type (the `PROVIDER_NAME` of the original paastis, or `type:`
in a `providers:` entry of paastis.yml) to the package that implements it. Each package
exposes `PROVIDER_TYPE` (`providers.base.ProviderType`): its options and `build`, the
environment variables that configure it, its default prices and where its fake is. The bot,
the demo and the contract suite read all of it from here. Nothing is discovered by plugin
magic: adding a provider type is its folder and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from providers.base import Provider, ProviderDeps, ProviderSpec, ProviderType
from providers.options import Problem, parse_options

PROVIDERS: dict[str, str] = {
    "scalingo": "providers.scalingo",
    "clever-cloud": "providers.clever_cloud",
    "fake": "providers.fake",
}


def provider_type(kind: str) -> ProviderType:
    """The provider type registered as `kind`; KeyError names the known ones."""
    if kind not in PROVIDERS:
        raise KeyError(f"unknown provider type {kind!r}; known types: {', '.join(PROVIDERS)}")
    module = importlib.import_module(PROVIDERS[kind])
    return module.PROVIDER_TYPE


def provider_types() -> list[ProviderType]:
    """Every registered provider type, in registry order."""
    return [provider_type(kind) for kind in PROVIDERS]


def known_types() -> str:
    """The registered types in words, for messages: "scalingo, clever-cloud or fake"."""
    *most, last = PROVIDERS
    return f"{', '.join(most)} or {last}" if most else last


def parse_spec(
    kind: str,
    raw: Mapping[str, Any],
    *,
    where: str,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[ProviderSpec | None, list[Problem]]:
    """Validate one provider's options; every problem is returned, none raised."""
    try:
        ptype = provider_type(kind)
    except KeyError as exc:
        return None, [Problem(f"{where}.type", kind, str(exc.args[0]))]
    values, problems = parse_options(ptype.options, raw, where=where, labels=labels)
    spec = ProviderSpec(
        kind=kind,
        name=name or ptype.default_name(values) or kind,
        options=values,
        secrets=ptype.secrets,
    )
    return spec, problems


def build_provider(spec: ProviderSpec, deps: ProviderDeps) -> Provider:
    return provider_type(spec.kind).build(spec, deps)
