"""Scalingo API bodies read into domain values: apps, formations, states, router activity.

Pure functions of the JSON the API sent. They raise `ValueError` (or `KeyError`,
`TypeError`) on a body they cannot read; the provider turns that into `ProviderUnavailable`
(or `ActivityUnavailable`), never into a guess.

State (PROVIDERS.md §1.5), from `app.status` and, when known, the formation::

    crashed                          CRASHED
    stopped, new                     SLEEPING
    running                          RUNNING, or SLEEPING when nothing serves (web × 0)
    scaling, restarting, booting     busy: the pending scale's direction if known, else
                                     WAKING when web > 0 (or unknown), STOPPING when web = 0
    anything else                    UNKNOWN, with the status in `problem`
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from providers.base import Activity, AppState, Formation, PaasApp, Process

SLEEPING_STATUSES = frozenset({"stopped", "new"})
BUSY_STATUSES = frozenset({"scaling", "restarting", "booting"})
CRASHED_PROBLEM = "Scalingo reports the app as crashed (its containers kept crashing); see its logs"
MINUTE = timedelta(minutes=1)


def parse_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date, got {value!r}")
    return datetime.fromisoformat(value)


def parse_formation(containers: list[Any]) -> Formation:
    """`{"containers": [{"name": "web", "amount": 2, "size": "M"}, …]}` → Formation."""
    processes = []
    for entry in containers:
        name, amount = entry["name"], entry["amount"]
        if not isinstance(name, str) or not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise ValueError(f"unreadable container type {entry!r}")
        size = entry.get("size")
        processes.append(Process(name, amount, size if isinstance(size, str) and size else None))
    return Formation(tuple(processes))


def serving(formation: Formation) -> int:
    """Containers that serve requests: web's, or every type's when the app has no web."""
    if any(p.name == "web" for p in formation.processes):
        return formation.amount("web")
    return formation.containers


def app_state(status: str, formation: Formation | None, pending: AppState | None = None) -> tuple[AppState, str | None]:
    """State and problem of an app, from its status and (when fetched) its formation."""
    if status == "crashed":
        return AppState.CRASHED, CRASHED_PROBLEM
    if status in SLEEPING_STATUSES:
        return AppState.SLEEPING, None
    if status in BUSY_STATUSES:
        if pending is not None:
            return pending, None
        if formation is not None and serving(formation) == 0:
            return AppState.STOPPING, None
        return AppState.WAKING, None
    if status == "running":
        if formation is not None and serving(formation) == 0:
            return AppState.SLEEPING, None
        return AppState.RUNNING, None
    return AppState.UNKNOWN, f"Scalingo reports an unexpected status {status!r}"


def parse_app(
    data: Any, *, provider: str, formation: Formation | None = None, pending: AppState | None = None
) -> PaasApp:
    """An app object (`GET /apps`, `GET /apps/{app}`) → PaasApp; its id is its name."""
    name, status = data["name"], data["status"]
    if not isinstance(name, str) or not name or not isinstance(status, str):
        raise ValueError(f"unreadable app {data!r}")
    state, problem = app_state(status, formation, pending)
    url = data.get("url") or data.get("base_url")
    details = [("status", status)]
    if data.get("id"):
        details.append(("scalingo_id", str(data["id"])))
    return PaasApp(
        provider=provider,
        id=name,
        name=name,
        state=state,
        url=url if isinstance(url, str) and url else None,
        formation=formation,
        last_deployed_at=parse_time(data.get("last_deployed_at")),
        problem=problem,
        details=tuple(details),
    )


def router_activity(
    points: list[Any], *, since: datetime, until: datetime, last_deploy_at: datetime | None
) -> Activity:
    """Per-bucket request counts (`GET /stats/router`) → Activity.

    A bucket ends where the next one starts (the newest ends one step later). The last
    request is dated at the END of the newest bucket that saw one, never past `until`: later
    than the truth by less than a bucket, never earlier. `since` is where the first bucket
    starts (the window the points cover), or the asked-for start when there is none.
    """
    buckets = sorted((_point_time(p), _point_value(p)) for p in points)
    step = buckets[-1][0] - buckets[-2][0] if len(buckets) > 1 else MINUTE
    requests, newest_end = 0, None
    for index, (start, value) in enumerate(buckets):
        if value > 0:
            requests += max(1, round(value))  # a coarse bucket may hold an average below 1
            newest_end = buckets[index + 1][0] if index + 1 < len(buckets) else start + step
    return Activity(
        since=buckets[0][0] if buckets else since,
        until=until,
        requests=requests,
        last_request_at=min(newest_end, until) if newest_end else None,
        last_deploy_at=last_deploy_at,
    )


def _point_time(point: Any) -> datetime:
    when = parse_time(point["time"])
    if when is None:
        raise ValueError(f"a metric point without time: {point!r}")
    return when


def _point_value(point: Any) -> float:
    value = point.get("value")
    if value is None:  # the first point of a window may be null
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"unreadable metric value {value!r}")
    return float(value)
