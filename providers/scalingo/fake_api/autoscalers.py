"""Autoscalers in the Scalingo API fake (go-scalingo `autoscalers.go`, scalingo-ruby-api).

    GET   /apps/{app}/autoscalers        {"autoscalers": [{id, app_id, container_type, metric,
                                          target, min_containers, max_containers, disabled}]}
    PATCH /apps/{app}/autoscalers/{id}   {"autoscaler": {"disabled": false, …}} → {"autoscaler": …}

Scaling a process type by hand disables its autoscaler (Scalingo CLI `apps/scale.go`:
"Manually scaling it will disable the autoscaler"): `scaled(app, types)` does that. Tests
add autoscalers with `add`, as the dashboard or `scalingo autoscalers-add` would.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from providers.scalingo.fake_api.wsgi import Request, Response, error

EDITABLE = {"disabled": bool, "min_containers": int, "max_containers": int, "metric": str, "target": (int, float)}


class FakeAutoscalers:
    def __init__(self) -> None:
        self._by_app: dict[str, list[dict[str, Any]]] = {}
        self._serial = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self, app_id: str, container_type: str, low: int, high: int, *, metric: str = "rpm_per_container", target=200.0
    ) -> dict[str, Any]:
        scaler = {
            "id": f"au-{next(self._serial):06d}",
            "app_id": app_id,
            "container_type": container_type,
            "metric": metric,
            "target": float(target),
            "min_containers": low,
            "max_containers": high,
            "disabled": False,
        }
        with self._lock:
            self._by_app.setdefault(app_id, []).append(scaler)
        return dict(scaler)

    def of(self, app_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(a) for a in self._by_app.get(app_id, [])]

    def scaled(self, app_id: str, container_types: set[str]) -> None:
        """A manual scale of these types disables their autoscalers."""
        with self._lock:
            for scaler in self._by_app.get(app_id, []):
                if scaler["container_type"] in container_types:
                    scaler["disabled"] = True

    def listed(self, app_id: str) -> Response:
        return Response(200, {"autoscalers": self.of(app_id)})

    def update(self, app_id: str, scaler_id: str, request: Request) -> Response:
        try:
            changes = request.json()["autoscaler"]
        except (ValueError, KeyError, TypeError):
            changes = None
        if not isinstance(changes, dict) or any(
            k not in EDITABLE or not isinstance(v, EDITABLE[k]) for k, v in changes.items()
        ):
            return Response(422, {"errors": {"autoscaler": ["invalid parameters"]}})
        with self._lock:
            scaler = next((a for a in self._by_app.get(app_id, []) if a["id"] == scaler_id), None)
            if scaler is None:
                return error(404, "not found", resource="autoscaler")
            scaler.update(changes)
            return Response(200, {"autoscaler": dict(scaler)})
