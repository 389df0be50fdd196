"""The `proxy:` and `sablier:` sections of paastis.yml: waking apps on their first request.

    proxy:                              # `paastis proxy`: the built-in proxy for apps on a PaaS
      listen: 0.0.0.0:8080              # default: 0.0.0.0:$PORT (8080 without PORT)
      max_body: 10MB                    # larger request bodies get 413
      first_requests_per_minute: 30     # per client, to a sleeping app (more: 429)
      trust_forwarded: false            # true behind a router that sets X-Forwarded-* (a PaaS)
      routes:
        review-42.example.com: review-42          # a custom domain → the app (name, or provider:app)
        "*.review.example.com": "{}"              # pr-7.review.example.com → the app pr-7
    sablier:                            # the Sablier-compatible API for reverse-proxy plugins
      listen: 127.0.0.1:10000           # off unless set
      secret: ${PAASTIS_SABLIER_SECRET} # optional: X-Paastis-Secret header, or /<secret>/api/… in the URL
      requests_per_minute: 120          # per client (more: 429)

Every problem is added to the `Collector`, like the rest of bot/config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.config.collector import Collector

HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
SIZE = re.compile(r"^(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?$", re.IGNORECASE)
UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}
PROXY_KEYS = {"listen", "max_body", "first_requests_per_minute", "trust_forwarded", "routes"}
SABLIER_KEYS = {"listen", "secret", "requests_per_minute"}


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ProxySettings:
    routes: Mapping[str, str] = field(default_factory=dict)  # host (lowercase, no port, or *.domain) → app
    listen: Address | None = None  # None: 0.0.0.0:$PORT
    max_body: int = 10 * 1000**2
    first_requests_per_minute: int = 30
    trust_forwarded: bool = False
    client_timeout: float = 30.0  # seconds a client may take over its headers, a body chunk, or reading the answer


@dataclass(frozen=True)
class SablierSettings:
    listen: Address | None = None  # None: off
    secret: str | None = field(default=None, repr=False)
    requests_per_minute: int = 120


def proxy_settings(raw: Any, c: Collector) -> ProxySettings:
    if raw is None:
        return ProxySettings()
    if not _mapping(raw, "proxy", PROXY_KEYS, c):
        return ProxySettings()
    routes: dict[str, str] = {}
    raw_routes = raw.get("routes") or {}
    if not isinstance(raw_routes, Mapping):
        c.add("proxy.routes", repr(raw_routes), "must map each domain to an app: {review-42.example.com: review-42}")
        raw_routes = {}
    for host, app in raw_routes.items():
        name = str(host).strip().lower().rstrip(".")
        wildcard = name.startswith("*.")
        if not HOST.match(name.removeprefix("*.")):
            c.add(
                f"proxy.routes.{host}",
                "",
                "is not a domain name such as review-42.example.com or *.review.example.com (no scheme, no port)",
            )
        elif not isinstance(app, str) or not app.strip():
            c.add(f"proxy.routes.{host}", repr(app), "must name an app: its name, or provider:app")
        elif wildcard and app.count("{}") != 1:
            c.add(f"proxy.routes.{host}", app, "must hold {} once, replaced by the first label: review-{}")
        elif not wildcard and "{}" in app:
            c.add(f"proxy.routes.{host}", app, "{} is only for a wildcard domain (*.review.example.com)")
        else:
            routes[name] = app.strip()
    return ProxySettings(
        routes=routes,
        listen=_address(raw.get("listen"), "proxy.listen", c),
        max_body=_size(raw.get("max_body"), "proxy.max_body", c, ProxySettings.max_body),
        first_requests_per_minute=_count(
            raw.get("first_requests_per_minute"), "proxy.first_requests_per_minute", c, 30
        ),
        trust_forwarded=_bool(raw.get("trust_forwarded"), "proxy.trust_forwarded", c),
    )


def sablier_settings(raw: Any, c: Collector) -> SablierSettings:
    if raw is None or not _mapping(raw, "sablier", SABLIER_KEYS, c):
        return SablierSettings()
    secret = raw.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) < 16 or not secret.isascii()):
        c.add("sablier.secret", "<redacted>", "must be at least 16 ASCII characters: write it as ${AN_ENV_VAR}")
        secret = None
    elif secret is not None and not re.fullmatch(r"[A-Za-z0-9._~-]+", secret):
        c.add("sablier.secret", "<redacted>", "may hold only letters, digits and . _ ~ - (it can be part of a URL)")
        secret = None
    listen = _address(raw.get("listen"), "sablier.listen", c)
    if listen is None and raw.get("listen") is None:
        c.add("sablier.listen", "", "is required: the address the API listens on, such as 127.0.0.1:10000")
    return SablierSettings(
        listen, secret, _count(raw.get("requests_per_minute"), "sablier.requests_per_minute", c, 120)
    )


def _mapping(raw: Any, where: str, keys: set[str], c: Collector) -> bool:
    if not isinstance(raw, Mapping):
        c.add(where, repr(raw), f"must be a mapping with the keys {', '.join(sorted(keys))}")
        return False
    for key in set(raw) - keys:
        c.add(f"{where}.{key}", "", f"unknown key; known keys: {', '.join(sorted(keys))}")
    return True


def _address(raw: Any, where: str, c: Collector) -> Address | None:
    if raw is None:
        return None
    host, _, port = str(raw).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        c.add(where, raw, "must be host:port, such as 127.0.0.1:10000 (0.0.0.0 listens on every interface)")
        return None
    return Address(host.strip("[]"), int(port))


def _size(raw: Any, where: str, c: Collector, default: int) -> int:
    if raw is None:
        return default
    match = SIZE.match(str(raw).strip())
    if not match or int(match.group(1)) == 0:
        c.add(where, raw, "must be a size such as 10MB, 512KiB or 1048576 (bytes), more than zero")
        return default
    return int(match.group(1)) * UNITS[(match.group(2) or "b").lower()]


def _count(raw: Any, where: str, c: Collector, default: int) -> int:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= 100_000:
        c.add(where, raw, "must be a whole number between 1 and 100000")
        return default
    return raw


def _bool(raw: Any, where: str, c: Collector) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        c.add(where, raw, "must be true or false")
        return False
    return raw
