"""/metrics in Prometheus text format (prometheus-client), read at scrape time from the
registry and the workspaces running: nothing is counted twice, nothing is kept in memory.

    paastis_workspaces{plan,state}              workspaces by plan, installed or uninstalled
    paastis_workspace_providers{team}           provider connections of a workspace
    paastis_workspace_apps{team,state}          apps of a running workspace: awake, asleep, other
    paastis_workspace_apps_not_monitored{team}  apps beyond the plan's limit
    paastis_provider_calls_last_minute{team,connection}   a connection's API calls in the last minute
    paastis_provider_throttled{team,connection}  1 while the provider asked Paastis to slow down (429)
    paastis_sleeps_total{team} · paastis_wakes_total{team,outcome}   from the audit log
    paastis_wake_seconds{team}                   histogram of how long wakes took (audit log)
    paastis_slack_calls_total{team,method}       Web API calls of a workspace's notices and reports
    paastis_slack_rate_limited_total{team,method}  … which Slack answered 429 (both restart when
                                                 the workspace's Paastis is rebuilt: a new token)
    paastis_app_asleep{team,app}                only with PAASTIS_METRICS_APP_LABELS=true

No secret is ever a label or a value; app names are labels only when the operator says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from bot.hosted.monitored import split
from bot.hosted.plans import plan
from bot.hosted.registry import Registry
from bot.hosted.tenants import Tenants
from providers.base import AppState

ACTIONS = ("slept", "woke", "wake_failed")
EVENTS_READ = 100_000  # per workspace and scrape, newest first
WAKE_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


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
        yield from (apps, calls, throttled, *self._slack(), *self._actions())
        if self.app_labels:
            yield asleep

    def _slack(self) -> list[CounterMetricFamily]:
        calls = CounterMetricFamily("paastis_slack_calls", "Slack Web API calls", labels=["team", "method"])
        limited = CounterMetricFamily(
            "paastis_slack_rate_limited", "Slack Web API calls answered 429", labels=["team", "method"]
        )
        for tenant in self.tenants.running():
            outbound = tenant.side.outbound
            for method in sorted(set(outbound.calls) | set(outbound.rate_limited)):
                calls.add_metric([tenant.team_id, method], outbound.calls[method])
                limited.add_metric([tenant.team_id, method], outbound.rate_limited[method])
        return [calls, limited]

    def _actions(self) -> list[CounterMetricFamily | HistogramMetricFamily]:
        """Sleeps, wakes and wake durations of each running workspace, from its audit log
        (the events a workspace keeps: counters restart if it prunes them)."""
        sleeps = CounterMetricFamily("paastis_sleeps", "Apps put to sleep", labels=["team"])
        wakes = CounterMetricFamily("paastis_wakes", "Wakes by outcome", labels=["team", "outcome"])
        seconds = HistogramMetricFamily("paastis_wake_seconds", "How long a wake took", labels=["team"])
        for tenant in self.tenants.running():
            events = tenant.paastis.store.events(actions=ACTIONS, limit=EVENTS_READ)
            sleeps.add_metric([tenant.team_id], sum(1 for e in events if e.action == "slept"))
            wakes.add_metric([tenant.team_id, "up"], sum(1 for e in events if e.action == "woke"))
            wakes.add_metric([tenant.team_id, "failed"], sum(1 for e in events if e.action == "wake_failed"))
            took = [e.duration_ms / 1000 for e in events if e.action == "woke" and e.duration_ms is not None]
            buckets = [(str(b), sum(1 for t in took if t <= b)) for b in WAKE_BUCKETS]
            seconds.add_metric([tenant.team_id], [*buckets, ("+Inf", len(took))], sum(took))
        return [sleeps, wakes, seconds]

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(self.prometheus)]


def _state(state: AppState) -> str:
    return {AppState.RUNNING: "awake", AppState.SLEEPING: "asleep"}.get(state, "other")
