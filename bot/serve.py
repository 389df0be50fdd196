"""`paastis serve`: the engine, its scheduler, and — when configured — Slack.

Without SLACK_BOT_TOKEN the engine runs alone (notices go to the logs) and answers
`/healthz` (liveness) and `/readyz` (database and each provider) on $PORT when one is given.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping

from bot.clock import SystemClock
from bot.config.loading import Settings
from bot.slack.app import slack_side
from bot.slack.server import run_slack
from bot.web import HttpServer, health_app
from bot.wiring import build

log = logging.getLogger(__name__)


def serve(settings: Settings, env: Mapping[str, str]) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if settings.slack.enabled:
        return _serve_slack(settings, env, stop)
    log.warning("serve.slack_off reason=SLACK_BOT_TOKEN is not set: running the engine only")
    paastis = build(settings, environ=env)
    try:
        paastis.start()
        if settings.port:
            health = health_app(lambda: paastis.running, paastis.problems, paastis.readiness, paastis.facts)
            server = HttpServer(health, "0.0.0.0", settings.port, threads=2, name="healthz")
            log.info("serve.listening port=%s paths=/healthz /readyz", settings.port)
            stop.wait()
            server.stop()
        else:
            stop.wait()
        return 0
    finally:
        paastis.close()


def _serve_slack(settings: Settings, env: Mapping[str, str], stop: threading.Event) -> int:
    """Slack's own pieces first, Paastis built with them, then the Bolt app over it (run_slack)."""
    clock = SystemClock()
    side = slack_side(settings, clock)
    paastis = build(settings, clock=clock, environ=env, poster=side.poster, groups_of=side.directory.groups_of)
    try:
        return run_slack(paastis, side, settings, stop)
    finally:  # Paastis stops working (run_slack did, once it served), Slack's pieces close, the store last
        paastis.stop()
        side.close()
        paastis.close()
