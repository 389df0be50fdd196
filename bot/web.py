"""The HTTP side of `paastis serve`: the health check, and waitress running in a thread.

    health_app(is_up)   GET /healthz (liveness): 200 "ok" while `is_up()`, 503 before (and
                        while `problems()` lists any: they are the body); then a line per
                        `facts()` ("leader: yes", "database: postgresql …"), for people
                        GET /readyz (readiness): one line per `checks()` — Slack, the database,
                        each provider — 200 when every one is ok, 503 when one is not
    HttpServer          waitress on a port, in a thread of its own, until `stop()`; a request
                        body over `max_body` (1 MiB: Slack's payloads are a few kB) is refused
                        413 from its headers, before any of it is read or kept

Waitress has no call that stops a server it runs (its maintainers say so in
Pylons/waitress#343 and #372), and closing its sockets from another thread races the
select() of its loop. `stop()` keeps to waitress's public names: the task threads finish
the requests in flight first (the loop still sends their answers), then — inside the loop,
through the server's trigger — every connection is told to close and the server is closed;
the loop ends once nothing is left open.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waitress.server import create_server

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BODY = 1024 * 1024  # bytes


@dataclass(frozen=True)
class Check:
    """One line of /readyz: what was checked ("database", "slack", "provider scalingo-osc-fr1"),
    whether it is ready, and in words why (or why not)."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def health_app(
    is_up: Callable[[], bool],
    problems: Callable[[], list[str]] = list,
    checks: Callable[[], list[Check]] | None = None,
    facts: Callable[[], list[str]] = list,
) -> WSGIApp:
    """A WSGI app answering GET /healthz: 200 while `is_up()` (the scheduler runs), else 503
    with `problems()` (the database cannot be written…) or "starting", the first line either
    way, then `facts()`; and GET /readyz with `checks()` (only `is_up()` without them)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            ok = is_up()
            body = "\n".join(["ok"] if ok else problems() or ["starting"])
            body = "\n".join([body, *facts()])
        elif path == "/readyz":
            up = is_up()
            done = [Check("scheduler", up, "running" if up else "starting")]
            done += checks() if checks else []
            ok = all(check.ok for check in done)
            body = "\n".join(check.line() for check in done)
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
        return [(body + "\n").encode()]

    return app


class HttpServer:
    """waitress serving `app` on host:port (0: any free port) in a thread, from construction."""

    def __init__(
        self, app: WSGIApp, host: str, port: int, *, threads: int = 16, name: str = "http", max_body: int = MAX_BODY
    ) -> None:
        self.server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="paastis",
            max_request_body_size=max_body + 1,  # waitress refuses a body of this size and more
        )
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self.server.run, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.server.task_dispatcher.shutdown()  # requests in flight end first; queued ones are cancelled
        try:
            self.server.trigger.pull_trigger(self._close)  # `_close` runs in the loop's own thread
        except OSError as exc:  # the loop's wake-up pipe is gone (seen once under load): close from here
            log.warning("http.trigger_lost name=%s error=%s", self._thread.name, exc)
            self._close()
        self._thread.join(timeout)

    def _close(self) -> None:
        for channel in list(self.server.active_channels.values()):
            channel.will_close = True  # the loop flushes what is left, then closes it (as idle connections)
        self.server.close()  # the listening socket and the trigger
