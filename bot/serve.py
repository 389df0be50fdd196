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
from bot.wiring import Paastis, build

log = logging.getLogger(__name__)


def health_app(paastis: Paastis):
    """A WSGI app answering GET /healthz: 200 while the scheduler runs."""

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/healthz":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        ok = paastis.scheduler is not None and paastis.scheduler.running
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"ok\n" if ok else b"starting\n"]

    return app


def serve(settings: Settings, env: Mapping[str, str]) -> int:
    paastis = build(settings, environ=env)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if settings.slack.enabled:
            from bot.slack.server import run_slack

            return run_slack(paastis, settings, stop)
        log.warning("serve.slack_off reason=SLACK_BOT_TOKEN is not set: running the engine only")
        paastis.start()
        if settings.port:
            from waitress.server import create_server

            server = create_server(health_app(paastis), host="0.0.0.0", port=settings.port, threads=2)
            threading.Thread(target=server.run, name="healthz", daemon=True).start()
            log.info("serve.listening port=%s paths=/healthz", settings.port)
            stop.wait()
            server.close()
        else:
            stop.wait()
        return 0
    finally:
        paastis.close()
