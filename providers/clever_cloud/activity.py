"""Activity of a Clever Cloud app: v4 access logs (requests) and v2 deployments (deploys).

Strategy: bounded polls, made when the bot asks (an app's sleep decision is due, and the
confirming check just before it sleeps), not one long-lived SSE stream per running app.
Both were measured on the fake API (20 running apps, 10 with a request every 30 s and 10
idle; one simulated hour with the bot's 15-minute idle timeout for the polls; 7.5 s of
real time with 2 s heartbeats for the streams)::

                            bounded polls (chosen)          one stream per app
    API calls per app-hour  8.4 for a used app (8 to 12:    1 per (re)connection (the fake
                            ~4 decisions × 2 calls);        never dropped one), plus the
                            4 for an idle app, then 0       deployments call of each
                            once it sleeps                  decision: ~5 for a used app
    threads                 none of its own                 +40 for 20 apps (20 readers
                                                            here, 20 handlers in the fake)
    held connections        0                               20 (one per running app)
    traffic while idle      0                               1 800 heartbeats per app-hour
    freshness               exact at decision time (0 s     median 0.017 s, max 0.10 s
                            error measured; ≤ 60 s late     after the request
                            on a window of ≥ 100 requests)

The bot needs the newest request only when a decision falls due, so the stream's
freshness buys nothing, while its threads, sockets and reconnection logic grow with the
number of running apps and fit nowhere in the synchronous `Provider` protocol (which has
no start/stop per app). A stream must also be backed by a poll for the time before it was
opened. Saving ~3 calls per app-hour is not worth one thread and one socket per app.

One check::

    GET /v4/accesslogs/organisations/{owner}/applications/{app}/accesslogs
        ?since=<since>&until=<now>&limit=100          (SSE; replays the window, then
                                                       END_OF_STREAM {"endedBy": …})
      └ cut or silent? resume with Last-Event-ID and the limit left (twice at most)
      fewer than 100 requests → the newest is exact
      100 requests (the *first* 100: the order is ascending) → one tail probe over
          [now − 60 s, now]: the newest is exact there, else it is dated now − 60 s,
          or now when the tail is full too — later than the truth, never earlier
    GET /v2/{owner}/applications/{app}/deployments?limit=20&action=DEPLOY
      → the newest deploy not made by Paastis (a 404 there: no deployment, not "no app")

Anything unreadable (HTTP errors, a stream that stays cut or silent past its heartbeats,
malformed events) raises ActivityUnavailable: a silent stream is unknown, never idle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import Activity, ActivityUnavailable
from providers.clever_cloud.client import CleverCloudClient
from providers.clever_cloud.sse import StreamBroken

log = logging.getLogger(__name__)

LIMIT = 100  # access logs read per window: about 70 kB of JSON
TAIL = timedelta(seconds=60)  # the probe that dates the newest request of a full window
MAX_RESUMES = 2
DEPLOYMENTS_PAGE = 20


@dataclass(frozen=True)
class Window:
    """What one access-log query saw: request ids and dates, and whether it hit the limit."""

    seen: Mapping[str, datetime]
    full: bool

    @property
    def newest(self) -> datetime | None:
        return max(self.seen.values(), default=None)


def read_window(
    client: CleverCloudClient, path: str, since: datetime, until: datetime, *, app: str, limit: int = LIMIT
) -> Window:
    """Replay the access logs of [since, until], resuming a cut stream where it stopped.

    Each ACCESS_LOG is counted once: a resumed stream starts after the Last-Event-ID sent,
    and ids already seen are skipped anyway.
    """
    seen: dict[str, datetime] = {}
    last_id: str | None = None
    reason = "the stream never ended"
    for attempt in range(MAX_RESUMES + 1):
        params = {"since": _iso(since), "until": _iso(until), "limit": limit - len(seen)}
        try:
            with client.stream(path, params, app=app, last_event_id=last_id) as events:
                for event in events:
                    if event.event == "ACCESS_LOG":
                        key, when = _access_log(event.data, event.id, app)
                        seen.setdefault(key, when)
                        last_id = event.id or key
                    elif event.event == "END_OF_STREAM":
                        full = len(seen) >= limit
                        ended_by = _ended_by(event.data, app)
                        if not full and ended_by != "UNTIL_REACHED":  # the window was not read to its end
                            raise ActivityUnavailable(
                                f"Clever Cloud ended the access logs of {app} early ({ended_by})", app=app
                            )
                        return Window(seen, full=full)
        except StreamBroken as broken:
            log.info("clever.accesslogs.resume app=%s attempt=%d seen=%d why=%s", app, attempt + 1, len(seen), broken)
            if len(seen) >= limit:
                return Window(seen, full=True)
            reason = str(broken)
    raise ActivityUnavailable(f"the access logs of {app} could not be read: {reason}", app=app)


def requests_activity(
    client: CleverCloudClient, path: str, since: datetime, until: datetime, *, app: str
) -> tuple[int, datetime | None]:
    """How many requests [since, until] saw (at least), and a date no earlier than the newest."""
    window = read_window(client, path, since, until, app=app)
    if not window.full:
        return len(window.seen), window.newest
    tail_start = max(since, until - TAIL)
    tail = read_window(client, path, tail_start, until, app=app)
    count = len(window.seen.keys() | tail.seen.keys())
    if tail.full:
        return count, until
    newest = tail.newest or tail_start
    return count, max(newest, window.newest or newest)


def last_human_deploy(deployments: Sequence[Mapping[str, Any]], paastis_user: str) -> datetime | None:
    """When the newest deployment not made by Paastis started, whatever came of it.

    The v2 API filters deployments by `action` only (the query asks for DEPLOY, so undeploys,
    Paastis's sleeps, never come back). Author and cause are not query filters: Paastis's own
    redeploys are recognised by their author, the user whose token Paastis signs with
    (`/v2/summary` user id). Give Paastis its own Clever Cloud account (a member of the
    organisations), or that user's own deploys will not count as use either.
    """
    if not isinstance(deployments, Sequence):
        raise ActivityUnavailable("Clever Cloud sent deployments Paastis cannot read (expected a JSON array)")
    for deployment in deployments:  # newest first
        try:
            author = (deployment.get("author") or {}).get("id")
            if deployment.get("action", "DEPLOY") != "DEPLOY" or author == paastis_user:
                continue
            return datetime.fromtimestamp(int(deployment["date"]) / 1000, tz=UTC)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
            raise ActivityUnavailable(
                f"Clever Cloud sent a deployment Paastis cannot read: {str(deployment)[:120]}"
            ) from None
    return None


def activity(
    client: CleverCloudClient,
    *,
    owner: str,
    app: str,
    deployments_path: str,
    paastis_user: str,
    since: datetime,
    until: datetime,
) -> Activity:
    """Requests and deploys seen in [since, until] (both cut to the millisecond the API reads)."""
    until = _to_ms(until)
    since = min(_to_ms(since), until)
    path = f"/v4/accesslogs/organisations/{owner}/applications/{app}/accesslogs"
    requests, newest = requests_activity(client, path, since, until, app=app)
    # a 404 is "no deployment" (as clever-client reads it), never "no such app"
    query = {"limit": DEPLOYMENTS_PAGE, "action": "DEPLOY"}
    deployments = client.get(deployments_path, query, app=app, missing_ok=True) or []
    deployed = last_human_deploy(deployments, paastis_user)
    log.debug("clever.activity app=%s requests=%d last_request=%s last_deploy=%s", app, requests, newest, deployed)
    return Activity(since=since, until=until, requests=requests, last_request_at=newest, last_deploy_at=deployed)


def _access_log(data: str, event_id: str | None, app: str) -> tuple[str, datetime]:
    """An ACCESS_LOG's id and date. TCP/SSH accesses (no `http`) count too: somebody used the app."""
    try:
        entry = json.loads(data)
        when = datetime.fromisoformat(str(entry["date"]).replace("Z", "+00:00"))
        key = str(entry.get("id") or event_id or "")
        if not key:
            raise ValueError("no id")
    except (AttributeError, ValueError, KeyError, TypeError):
        raise ActivityUnavailable(
            f"Clever Cloud sent an access log of {app} Paastis cannot read: {data[:120]!r}", app=app
        ) from None
    if when.tzinfo is None:
        raise ActivityUnavailable(f"Clever Cloud sent an access log of {app} dated without a time zone", app=app)
    return key, when


def _ended_by(data: str, app: str) -> str:
    try:
        return str(json.loads(data)["endedBy"])
    except (ValueError, KeyError, TypeError):
        raise ActivityUnavailable(
            f"Clever Cloud ended the access logs of {app} with an unreadable END_OF_STREAM: {data[:120]!r}", app=app
        ) from None


def _to_ms(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _iso(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as `Date.toISOString()` writes it."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
