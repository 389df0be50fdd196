"""What a sleeping container saves: price per container-hour and watts per container.

The built-in table is each provider type's `prices` (declared in its package; the
configuration hands it over): estimates dated 2026-11, written from the providers' public
price pages as we remembered them (monthly price / 720 h, excluding VAT), not checked
against a live page. Teams override it in paastis.yml (`prices:`), and reports say which
table they used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Formation

DEFAULT_TABLE_DATE = "2026-11 (estimate)"
DEFAULT_WATTS = 15.0  # per running container: a small share of a server, an assumption stated in reports


@dataclass(frozen=True)
class Prices:
    table: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # {type: {size or "*": price}}
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


def parse_prices(raw: Any, built_in: Mapping[str, Mapping[str, float]]) -> tuple[Prices, list[tuple[str, str, str]]]:
    """`prices:` of paastis.yml (currency, watts_per_container, per_hour {type: {size: price}})
    over the `built_in` table."""
    problems: list[tuple[str, str, str]] = []
    if raw is None:
        return Prices(built_in), problems
    if not isinstance(raw, Mapping):
        why = "must be a mapping (currency, watts_per_container, per_hour)"
        return Prices(built_in), [("prices", type(raw).__name__, why)]
    for key in set(raw) - PRICE_KEYS:
        problems.append((f"prices.{key}", "", f"unknown key; known keys: {', '.join(sorted(PRICE_KEYS))}"))
    table = {k: dict(v) for k, v in built_in.items()}
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
