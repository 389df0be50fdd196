"""/metrics in Prometheus text format (prometheus-client), read at scrape time from the
registry and the workspaces running: nothing is counted twice, nothing is kept in memory.

    paastis_workspaces{plan,state}              workspaces by plan, installed or uninstalled
    paastis_workspace_providers{team}           provider connections of a workspace
    paastis_workspace_apps{team,state}          apps of a running workspace: awake, asleep, other
    paastis_workspace_apps_not_monitored{team}  apps beyond the plan's limit
    paastis_provider_calls_last_minute{team,connection}   a connection's API calls in the last minute
    paastis_provider_throttled{team,connection}  1 while the provider asked Paastis to slow down (429)
    paastis_app_asleep{team,app}                only with PAASTIS_METRICS_APP_LABELS=true

No secret is ever a label or a value; app names are labels only when the operator says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.hosted.monitored import split
from bot.hosted.plans import plan
from bot.hosted.registry import Registry
from bot.hosted.tenants import Tenants
from providers.base import AppState


class Metrics(Collector):
    def __init__(self, registry: Registry, tenants: Tenants, *, app_labels: bool = False) -> None:
        self.registry = registry
        self.tenants = tenants
        self.app_labels = app_labels
        self.prometheus = CollectorRegistry(auto_describe=False)
        self.prometheus.register(self)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        workspaces = GaugeMetricFamily("paastis_workspaces", "Workspaces by plan and state", labels=["plan", "state"])
        providers = GaugeMetricFamily("paastis_workspace_providers", "Provider connections", labels=["team"])
        left_out = GaugeMetricFamily(
            "paastis_workspace_apps_not_monitored", "Apps beyond the plan's limit", labels=["team"]
        )
        counts: Counter[tuple[str, str]] = Counter()
        for ws in self.registry.workspaces():
            counts[(ws.plan, "uninstalled" if ws.uninstalled_at else "installed")] += 1
            if ws.uninstalled_at:
                continue
            names = frozenset(c.name for c in self.registry.connections(ws.team_id))
            providers.add_metric([ws.team_id], len(names))
            _, others = split(self.registry.known_apps(ws.team_id), plan(ws.plan).max_apps, names)
            left_out.add_metric([ws.team_id], len(others))
        for (plan_name, state), n in sorted(counts.items()):
            workspaces.add_metric([plan_name, state], n)
        yield from (workspaces, providers, left_out)
        apps = GaugeMetricFamily(
            "paastis_workspace_apps", "Apps of a running workspace by state", labels=["team", "state"]
        )
        asleep = GaugeMetricFamily("paastis_app_asleep", "1 when the app is asleep", labels=["team", "app"])
        calls = GaugeMetricFamily(
            "paastis_provider_calls_last_minute", "Provider API calls in the last minute", labels=["team", "connection"]
        )
        throttled = GaugeMetricFamily(
            "paastis_provider_throttled", "1 while the provider rate-limits Paastis", labels=["team", "connection"]
        )
        for tenant in self.tenants.running():
            now = tenant.paastis.clock.now()
            for connection, budget in tenant.paastis.engine.budgets().items():
                if budget is not None:
                    calls.add_metric([tenant.team_id, connection], budget.used_last_minute)
                    late = budget.throttled_until is not None and budget.throttled_until > now
                    throttled.add_metric([tenant.team_id, connection], 1 if late else 0)
            states: Counter[str] = Counter()
            for view in tenant.paastis.engine.catalog():
                state = _state(view.row.state)
                states[state] += 1
                if self.app_labels:
                    asleep.add_metric([tenant.team_id, view.label], 1 if state == "asleep" else 0)
            for state in ("awake", "asleep", "other"):
                apps.add_metric([tenant.team_id, state], states[state])
        yield from (apps, calls, throttled)
        if self.app_labels:
            yield asleep

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(self.prometheus)]


def _state(state: AppState) -> str:
    return {AppState.RUNNING: "awake", AppState.SLEEPING: "asleep"}.get(state, "other")
