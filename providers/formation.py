"""Formations: the process types of an app, how many containers each runs, and their autoscalers.

What a sleep records (`Formation.to_json`, kept by the store) and a wake restores. Re-exported
by `providers.base`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Autoscaler:
    """A provider's autoscaler of one process type: `low`…`high` containers, scaled to keep
    `metric` near `target`; `enabled` as it was when recorded (Scalingo disables it when the
    type is scaled by hand, as a sleep does; the wake enables it again)."""

    id: str
    low: int
    high: int
    metric: str
    target: float
    enabled: bool = True

    def describe(self) -> str:
        """`autoscaled 2–6 on rpm_per_container`, or `autoscaler 2–6 off`."""
        if not self.enabled:
            return f"autoscaler {self.low}–{self.high} off"
        return f"autoscaled {self.low}–{self.high} on {self.metric}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "min": self.low,
            "max": self.high,
            "metric": self.metric,
            "target": self.target,
            "enabled": self.enabled,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Autoscaler:
        return cls(
            str(data["id"]),
            int(data["min"]),
            int(data["max"]),
            str(data["metric"]),
            float(data["target"]),
            bool(data["enabled"]),
        )


@dataclass(frozen=True)
class Process:
    """One process type of a formation: `web` × 2 of size `M` (and its autoscaler, if any)."""

    name: str
    amount: int
    size: str | None = None
    autoscaler: Autoscaler | None = None


@dataclass(frozen=True)
class Formation:
    """The process types of an app and how many containers (instances) each runs."""

    processes: tuple[Process, ...] = ()

    @classmethod
    def of(cls, **amounts: int) -> Formation:
        return cls(tuple(Process(name, amount) for name, amount in amounts.items()))

    @property
    def containers(self) -> int:
        return sum(p.amount for p in self.processes)

    @property
    def running(self) -> bool:
        return self.containers > 0

    def amount(self, name: str) -> int:
        return next((p.amount for p in self.processes if p.name == name), 0)

    def describe(self) -> str:
        """`web×2 (M, autoscaled 2–6 on rpm_per_container), worker×1` — short, for messages."""
        parts = []
        for p in self.processes:
            notes = [n for n in (p.size, p.autoscaler.describe() if p.autoscaler else None) if n]
            parts.append(f"{p.name}×{p.amount}" + (f" ({', '.join(notes)})" if notes else ""))
        return ", ".join(parts) or "no process"

    def to_json(self) -> str:
        """`[[name, amount, size], …]`, plus the autoscaler of a type that has one: what the
        store keeps of a formation recorded before a sleep."""
        return json.dumps(
            [
                [p.name, p.amount, p.size, p.autoscaler.to_json()] if p.autoscaler else [p.name, p.amount, p.size]
                for p in self.processes
            ]
        )

    @classmethod
    def from_json(cls, text: str) -> Formation:
        processes = []
        for name, amount, size, *autoscaler in json.loads(text):
            scaler = Autoscaler.from_json(autoscaler[0]) if autoscaler and autoscaler[0] else None
            processes.append(Process(str(name), int(amount), size, scaler))
        return cls(tuple(processes))
