"""`run_slack`: Paastis in Slack, until `stop_event` is set.

HTTP mode (the default): one waitress server — one process, several threads, so the
scheduler runs once — on $PORT (3000 when unset) serving

    POST /slack/events   commands, buttons and events through Bolt (signature and 5-minute
                         timestamp verified, replays ignored: bot.slack.gate; ssl_check and
                         url_verification answered); a body over 1 MiB is refused unread (413)
    GET  /healthz        liveness: 200 once the scheduler runs, 503 before
    GET  /readyz         readiness: Slack (connected, posts going through), the database and
                         each provider, one line each; 503 while one is not ready

Socket Mode (SLACK_APP_TOKEN set): Bolt's built-in client opens a WebSocket to Slack (no
public URL needed); /healthz and /readyz are still served when $PORT is given (Clever Cloud wants an
HTTP answer on 8080).

The port is bound and Slack connected before the first discovery, which may be slow with
many providers (Scalingo wants $PORT bound within 60 s). A token Slack refuses at start-up
ends with one clear log line and exit code 3.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config.loading import Settings
from bot.errors import SlackSetupError
from bot.slack.app import SlackSide, connect
from bot.slack.pool import SWITCH_INTERVAL
from bot.web import MAX_BODY, Check, HttpServer, WSGIApp, health_app
from bot.wiring import Paastis

log = logging.getLogger(__name__)

DEFAULT_PORT = 3000
EVENTS_PATH = "/slack/events"
HTTP_THREADS = 16
EXIT_SLACK = 3
TOKEN_FIXES = {
    "invalid_auth": "SLACK_BOT_TOKEN is wrong: copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
    "not_authed": "SLACK_BOT_TOKEN is empty",
    "account_inactive": "the app was uninstalled or its bot deactivated: reinstall it and update SLACK_BOT_TOKEN",
    "token_revoked": "SLACK_BOT_TOKEN was revoked: reinstall the app and update the token",
    "not_allowed_token_type": "use the app-level token (xapp-…, scope connections:write) as SLACK_APP_TOKEN",
}


def run_slack(
    paastis: Paastis,
    side: SlackSide,
    settings: Settings,
    stop_event: threading.Event,
    *,
    host: str = "0.0.0.0",
    ready: Callable[[int | None], None] | None = None,
) -> int:
    """Serve Slack until `stop_event` is set; 0 then, EXIT_SLACK when Slack refuses to start.
    `paastis` was built with `side` (`bot.slack.app.slack_side`); it is stopped here (after
    the last request), and both are closed by the caller: `side`, then `paastis`.
    `ready` is called with the bound HTTP port (None without one) once everything runs."""
    slack = settings.slack
    try:
        parts = connect(paastis, side, slack)
    except (SlackApiError, BoltError, SlackSetupError, SlackClientError, OSError) as exc:
        _refused("slack.start_failed", exc, slack.api_url)
        return EXIT_SLACK
    log.info(
        "slack.connected team=%s bot=%s api_url=%s mode=%s",
        parts.auth.get("team"),
        parts.auth.get("user"),
        slack.api_url,
        "socket" if slack.socket_mode else "http",
    )
    bolt = parts.bolt

    socket: SocketModeHandler | None = None
    server: HttpServer | None = None
    port = settings.port if settings.port is not None else (None if slack.socket_mode else DEFAULT_PORT)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)  # acknowledgements take their turn sooner (bot.slack.pool)
    try:
        health = health_app(
            lambda: paastis.running,
            paastis.problems,
            lambda: [slack_check(side, slack.socket_mode and socket), *paastis.readiness()],
            paastis.facts,
        )
        wsgi = health if slack.socket_mode else http_app(bolt, health)
        if port is not None:
            server = HttpServer(wsgi, host, port, threads=HTTP_THREADS)
            port = server.port
            paths = "/healthz" if slack.socket_mode else f"{EVENTS_PATH} /healthz"
            log.info("slack.listening port=%s paths=%s", port, paths)
        if slack.socket_mode:
            socket = SocketModeHandler(bolt, app_token=slack.app_token, web_client=side.client)
            try:
                socket.connect()
            except (SlackApiError, SlackClientError, OSError) as exc:
                _refused("slack.socket_failed", exc, slack.api_url)
                return EXIT_SLACK
            log.info("slack.socket_connected")
        paastis.start(resumed=parts.listeners.resume, take_over_notices=side.outbound.resume)
        if ready:
            ready(port)
        stop_event.wait()
        log.info("slack.stopping")
        return 0
    finally:  # no new Slack request, the answers due computed, then Paastis stops working
        if socket:
            socket.close()
        if server:
            server.stop()
        parts.close()
        paastis.stop()  # wakes in flight left to resume; Slack's pieces and the store close after
        sys.setswitchinterval(switch_interval)


def slack_check(side: SlackSide, socket: SocketModeHandler | bool | None) -> Check:
    """Slack's line of /readyz: the WebSocket open (`socket`: False in HTTP mode, None
    while not opened yet), and posts going through."""
    if socket is not False and (socket is None or not socket.client.is_connected()):
        return Check("slack", False, "Socket Mode connection closed (reconnecting)")
    if side.outbound.trouble:
        return Check("slack", False, side.outbound.trouble)
    return Check("slack", True, "connected over Socket Mode" if socket else "connected (HTTP events)")


def http_app(bolt: App, health: WSGIApp) -> WSGIApp:
    """The WSGI app of HTTP mode: Bolt on /slack/events, `health` on /healthz and /readyz."""
    events = SlackRequestHandler(bolt, path=EVENTS_PATH)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in ("/healthz", "/readyz"):
            return health(environ, start_response)
        if _too_large(environ):  # before anything reads the body
            log.warning("slack.body_too_large length=%s", environ.get("CONTENT_LENGTH") or "unknown")
            start_response("413 Payload Too Large", [("Content-Type", "text/plain"), ("Connection", "close")])
            return [b"request body too large\n"]
        try:
            return events(environ, start_response)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # a body Bolt cannot even parse
            log.warning("slack.malformed_request path=%s error=%s", environ.get("PATH_INFO"), type(exc).__name__)
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"malformed request\n"]

    return app


def _too_large(environ: dict[str, Any]) -> bool:
    """A body over MAX_BODY, or one whose length is not said (waitress says it, even for chunked)."""
    length = str(environ.get("CONTENT_LENGTH") or "0")
    return not length.isdigit() or int(length) > MAX_BODY


def _refused(event: str, exc: BaseException, api_url: str) -> None:
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        fix = TOKEN_FIXES.get(error, "check SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
        log.error("%s error=%s fix=%s", event, error, fix)
    elif isinstance(exc, (BoltError, SlackSetupError)):
        log.error("%s error=%s", event, str(exc).splitlines()[0])
    else:
        log.error("%s error=%s fix=check SLACK_API_URL (%s) and the network", event, type(exc).__name__, api_url)
