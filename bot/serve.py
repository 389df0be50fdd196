"""`paastis serve`: the engine, its scheduler, and — when configured — Slack.

Without SLACK_BOT_TOKEN the engine runs alone (notices go to the logs) and answers
`/healthz` on $PORT when one is given.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping

from bot.config.loading import Settings
from bot.slack.server import run_slack
from bot.web import HttpServer, health_app
from bot.wiring import build

log = logging.getLogger(__name__)


def serve(settings: Settings, env: Mapping[str, str]) -> int:
    paastis = build(settings, environ=env)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if settings.slack.enabled:
            return run_slack(paastis, settings, stop)
        log.warning("serve.slack_off reason=SLACK_BOT_TOKEN is not set: running the engine only")
        paastis.start()
        if settings.port:
            health = health_app(lambda: paastis.running)
            server = HttpServer(health, "0.0.0.0", settings.port, threads=2, name="healthz")
            log.info("serve.listening port=%s paths=/healthz", settings.port)
            stop.wait()
            server.stop()
        else:
            stop.wait()
        return 0
    finally:
        paastis.close()
