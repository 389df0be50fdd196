"""Scalingo autoscalers: recorded with the formation before a sleep, enabled again after the wake.

Scaling a process type by hand disables its autoscaler (Scalingo CLI `apps/scale.go`:
"Manually scaling it will disable the autoscaler"; the scaling docs warn the same), and a
sleep is such a scale. So a sleep first reads them (`GET /apps/{app}/autoscalers`, one call)
and records each one in the formation, with whether it was enabled; the store keeps it with
the formation. The wake scales the types back, then enables again those that were enabled
(`PATCH /apps/{app}/autoscalers/{id}` `{"autoscaler": {"disabled": false}}`, one call each).

The read is not optional: sleeping without knowing would lose an autoscaler for good, so a
failed read fails the sleep (it is tried again at the next sweep). A failed restore does
not fail the wake — the app comes up all the same — and is logged
(`scalingo.autoscaler_not_restored`) for someone to enable it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from providers.base import Autoscaler, Formation, ProviderError, ProviderUnavailable
from providers.scalingo.client import ScalingoClient, app_path

log = logging.getLogger(__name__)


def parse_autoscaler(data: Any) -> tuple[str, Autoscaler]:
    """An autoscaler object → (its process type, Autoscaler); ValueError when unreadable."""
    try:
        kind = data["container_type"]
        scaler = Autoscaler(
            id=str(data["id"]),
            low=int(data["min_containers"]),
            high=int(data["max_containers"]),
            metric=str(data["metric"]),
            target=float(data["target"]),
            enabled=not data.get("disabled", False),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"unreadable autoscaler {data!r}") from exc
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"an autoscaler without a container type: {data!r}")
    return kind, scaler


def with_autoscalers(client: ScalingoClient, app_id: str, formation: Formation) -> Formation:
    """`formation` with the autoscaler of each process type that has one (1 call; 404: none)."""
    response = client.call("GET", app_path(app_id, "/autoscalers"), app=app_id, allow=(404,))
    if response.status_code == 404:
        return formation
    listed = client.payload(response, "autoscalers", list, app=app_id)
    try:
        by_type = dict(parse_autoscaler(a) for a in listed)
    except ValueError as exc:
        raise ProviderUnavailable(
            f"Scalingo sent the autoscalers of {app_id} in a shape Paastis cannot read: {exc}"
        ) from exc
    return Formation(tuple(replace(p, autoscaler=by_type.get(p.name, p.autoscaler)) for p in formation.processes))


def restore_autoscalers(client: ScalingoClient, app_id: str, formation: Formation) -> list[str]:
    """Enable again the autoscalers that were enabled when `formation` was recorded; the
    process types whose autoscaler could not be enabled."""
    failed = []
    for process in formation.processes:
        scaler = process.autoscaler
        if scaler is None or not scaler.enabled:
            continue
        path = app_path(app_id, f"/autoscalers/{scaler.id}")
        try:
            client.call("PATCH", path, app=app_id, body={"autoscaler": {"disabled": False}})
        except ProviderError as exc:
            log.warning("scalingo.autoscaler_not_restored app=%s type=%s error=%s", app_id, process.name, exc)
            failed.append(process.name)
        else:
            log.info("scalingo.autoscaler_restored app=%s type=%s", app_id, process.name)
    return failed
