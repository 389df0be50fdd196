"""Activity of a Scalingo app: its router metric (`GET /apps/{app}/stats/router`), one call.

The metric keeps about 72 h, in about 200 points whatever the window: 1-minute points up to
3 h (recorded), coarser beyond (14 minutes at 48 h, documented). Windows are never longer
than 3 h, so a request is never dated more than a minute late; the returned `since` is where
the window really starts (the bot reads no request in it as idle since then, not since
what it asked). A 404 "no metrics found" means no request in the window; anything else that
is not a readable series (`payloads.router_activity`) raises `ActivityUnavailable`: unknown
activity is never idleness.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import httpx

from providers.base import Activity, ActivityUnavailable, AppNotFound, PaasApp, ProviderUnavailable
from providers.scalingo.client import ScalingoClient, app_path, error_field, error_text
from providers.scalingo.payloads import router_activity

ONE_MINUTE_HOURS = 3
HOUR = timedelta(hours=1)


def router_metric(client: ScalingoClient, app: PaasApp, since: datetime, *, until: datetime) -> Activity:
    """Requests since `since`, or over the last ONE_MINUTE_HOURS when that is longer ago."""
    hours = min(max(math.ceil((until - since) / HOUR), 1), ONE_MINUTE_HOURS)
    start = until - hours * HOUR
    try:
        response = client.call(
            "GET", app_path(app.id, "/stats/router"), app=app.id, params={"since": hours}, allow=(404,)
        )
        if response.status_code == 404:
            return _no_metrics(client, app, response, since=start, until=until)
        points = client.payload(response, "", list, app=app.id)
        return router_activity(points, since=start, until=until, last_deploy_at=app.last_deployed_at)
    except (ProviderUnavailable, ValueError, KeyError, TypeError) as exc:
        why = str(exc) if isinstance(exc, ProviderUnavailable) else f"{type(exc).__name__}: {exc}"
        raise ActivityUnavailable(
            f"cannot read the request metrics of {app.name} on {client.provider}: {why}",
            provider=client.provider,
            app=app.id,
        ) from exc


def _no_metrics(
    client: ScalingoClient, app: PaasApp, response: httpx.Response, *, since: datetime, until: datetime
) -> Activity:
    """A 404 on the router metric: no request in the window, unless the app is gone."""
    if error_field(response, "resource") == "app":
        raise AppNotFound(f"Scalingo ({client.provider}) has no app {app.id!r}", provider=client.provider, app=app.id)
    if "no metrics" not in error_text(response).lower():
        raise ProviderUnavailable(f"unexpected 404 from the router metric: {error_text(response)}")
    return Activity(since=since, until=until, requests=0, last_deploy_at=app.last_deployed_at)
