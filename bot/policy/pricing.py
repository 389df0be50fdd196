"""What a sleeping container saves: price per container-hour and watts per container.

The default table is an estimate dated 2026-11, written from the providers' public price
pages as we remembered them (monthly price / 720 h, excluding VAT); it was not checked
against a live page. Teams override it in paastis.yml (`prices:`), and reports say which
table they used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Formation

DEFAULT_TABLE_DATE = "2026-11 (estimate)"
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    # Scalingo container sizes: S 256 MB … 2XL 4 GB
    "scalingo": {"S": 0.01, "M": 0.02, "L": 0.04, "XL": 0.08, "2XL": 0.16, "*": 0.02},
    # Clever Cloud runtime flavors
    "clever-cloud": {"pico": 0.006, "nano": 0.009, "XS": 0.02, "S": 0.04, "M": 0.08, "L": 0.16, "XL": 0.32, "*": 0.02},
    "fake": {"*": 0.02},
}
DEFAULT_WATTS = 15.0  # per running container: a small share of a server, an assumption stated in reports


@dataclass(frozen=True)
class Prices:
    table: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_PRICES)
    currency: str = "EUR"
    watts_per_container: float = DEFAULT_WATTS
    dated: str = DEFAULT_TABLE_DATE

    def per_hour(self, kind: str, formation: Formation | None) -> float:
        """Price of one hour of `formation` on a provider of type `kind`."""
        if formation is None:
            return 0.0
        sizes = self.table.get(kind) or self.table.get("*") or {}
        fallback = sizes.get("*", 0.0)
        return sum(p.amount * sizes.get(p.size or "*", fallback) for p in formation.processes)

    def watts(self, formation: Formation | None) -> float:
        return (formation.containers if formation else 0) * self.watts_per_container


PRICE_KEYS = {"currency", "watts_per_container", "table_date", "per_hour"}


def parse_prices(raw: Any) -> tuple[Prices, list[tuple[str, str, str]]]:
    """`prices:` of paastis.yml: currency, watts_per_container, per_hour {type: {size: price}}."""
    problems: list[tuple[str, str, str]] = []
    if raw is None:
        return Prices(), problems
    if not isinstance(raw, Mapping):
        return Prices(), [("prices", type(raw).__name__, "must be a mapping (currency, watts_per_container, per_hour)")]
    for key in set(raw) - PRICE_KEYS:
        problems.append((f"prices.{key}", "", f"unknown key; known keys: {', '.join(sorted(PRICE_KEYS))}"))
    table = {k: dict(v) for k, v in DEFAULT_PRICES.items()}
    per_hour = raw.get("per_hour") or {}
    if not isinstance(per_hour, Mapping):
        problems.append(("prices.per_hour", repr(per_hour), "must map provider types to {size: price per hour}"))
        per_hour = {}
    for kind, sizes in per_hour.items():
        if not isinstance(sizes, Mapping):
            problems.append((f"prices.per_hour.{kind}", repr(sizes), "must map sizes to prices, e.g. {M: 0.02}"))
            continue
        for size, price in sizes.items():
            if not isinstance(price, (int, float)) or price < 0:
                problems.append((f"prices.per_hour.{kind}.{size}", repr(price), "must be a price ≥ 0 per hour"))
            else:
                table.setdefault(str(kind), {})[str(size)] = float(price)
    watts = raw.get("watts_per_container", DEFAULT_WATTS)
    if not isinstance(watts, (int, float)) or watts < 0:
        problems.append(("prices.watts_per_container", repr(watts), "must be a number of watts ≥ 0"))
        watts = DEFAULT_WATTS
    dated = str(raw.get("table_date") or ("your table" if per_hour else DEFAULT_TABLE_DATE))
    return Prices(table, str(raw.get("currency") or "EUR"), float(watts), dated), problems
