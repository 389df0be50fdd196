"""Scalingo API bodies read into domain values: apps, formations, states, router activity.

Pure functions of the JSON the API sent. They raise `ValueError` (or `KeyError`,
`TypeError`) on a body they cannot read; the provider turns that into `ProviderUnavailable`
(or `ActivityUnavailable`), never into a guess.

State (PROVIDERS.md §1.5), from `app.status` and, when known, the formation::

    crashed                          CRASHED
    stopped                          SLEEPING
    new (never deployed)             UNKNOWN: nothing runs, nothing to wake (said in `problem`)
    running                          RUNNING, or SLEEPING when nothing serves (web × 0)
    scaling, restarting, booting     busy: the pending scale's direction if known, else
                                     WAKING when web > 0 (or unknown), STOPPING when web = 0
    anything else                    UNKNOWN, with the status in `problem`
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from typing import Any

from providers.base import Activity, AppState, Formation, PaasApp, Process

SLEEPING_STATUSES = frozenset({"stopped"})
BUSY_STATUSES = frozenset({"scaling", "restarting", "booting"})
CRASHED_PROBLEM = "Scalingo reports the app as crashed (its containers kept crashing); see its logs"
NEVER_DEPLOYED = "never deployed on Scalingo (status new): nothing runs, nothing to wake until it is deployed"
MINUTE = timedelta(minutes=1)
LATE = timedelta(minutes=1)  # the current minute may be missing from the metric (ingestion)


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
    if status == "new":
        return AppState.UNKNOWN, NEVER_DEPLOYED
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
    """Per-bucket request counts (`GET /stats/router`) → Activity, never idleness from unknowns.

    A bucket ends where the next one starts (the newest ends one step later). A bucket with
    requests means used, whatever its width: a coarse bucket may hold an average below 1, so
    any value above 0 counts at least one request, and the last request is dated at the END
    of the newest bucket that saw one, never past `until`: later than the truth by less than
    a bucket, never earlier.

    `null` is not 0: it is a bucket nobody can vouch for. Leading nulls (the recorded first
    point of a window) only shorten the window, which then starts at the first known bucket.
    Raises ValueError (the provider's ActivityUnavailable) when the answer cannot vouch for
    the window up to `until`: no point, every value null, a value that is not a number ≥ 0,
    points off a regular step (a bucket missing), a null bucket after the newest bucket that
    saw requests (that bucket may hold the newest request), or known buckets ending more
    than `LATE` before `until` (only the current minute may be missing).
    """
    buckets = sorted(((_point_time(p), _point_value(p)) for p in points), key=lambda bucket: bucket[0])
    if not buckets:
        raise ValueError("no metric point for the window (an empty series is not zero requests)")
    step = buckets[1][0] - buckets[0][0] if len(buckets) > 1 else MINUTE
    for (earlier, _), (later, _) in itertools.pairwise(buckets):
        if later - earlier != step or step <= timedelta(0):
            raise ValueError(f"metric points are not {step} apart ({earlier.isoformat()}, {later.isoformat()})")
    known = [i for i, (_, value) in enumerate(buckets) if value is not None]
    if not known:
        raise ValueError("every metric point is null: the requests of the window are unknown")
    first, newest_known = known[0], known[-1]
    used = [i for i in known if (buckets[i][1] or 0) > 0]
    if any(buckets[i][1] is None for i in range(first, len(buckets)) if not used or i > used[-1]):
        raise ValueError("a null metric point after the newest request: that bucket is unknown, not 0")
    covered_until = buckets[newest_known][0] + step
    if covered_until < until - LATE:
        raise ValueError(f"the metric stops at {covered_until.isoformat()}: the minutes after it are unknown")
    requests = sum(max(1, round(value)) for i in used if (value := buckets[i][1]) is not None)
    newest_end = buckets[used[-1]][0] + step if used else None
    return Activity(
        since=buckets[first][0],
        until=until,
        requests=requests,
        last_request_at=min(newest_end, until) if newest_end else None,
        last_deploy_at=last_deploy_at,
    )


def _point_time(point: Any) -> datetime:
    when = parse_time(point["time"])
    if when is None or when.tzinfo is None:
        raise ValueError(f"a metric point without a time in UTC: {point!r}")
    return when


def _point_value(point: Any) -> float | None:
    """A bucket's value; None for `null`, which is unknown, not zero."""
    value = point["value"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"unreadable metric value {value!r}")
    return float(value)
