"""The HTTP side of `paastis serve`: the health check, and waitress running in a thread.

    health_app(is_up)   GET /healthz: 200 "ok" while `is_up()`, 503 before (and while
                        `problems()` lists any: they are the body)
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

import threading
from collections.abc import Callable, Iterable
from typing import Any

from waitress.server import create_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_BODY = 1024 * 1024  # bytes


def health_app(is_up: Callable[[], bool], problems: Callable[[], list[str]] = list) -> WSGIApp:
    """A WSGI app answering GET /healthz: 200 while `is_up()` (the scheduler runs), else 503
    with `problems()` (the database cannot be written…) or "starting"."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/healthz":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        ok = is_up()
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"ok\n" if ok else ("\n".join(problems() or ["starting"]) + "\n").encode()]

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
        self.server.trigger.pull_trigger(self._close)  # `_close` runs in the loop's own thread
        self._thread.join(timeout)

    def _close(self) -> None:
        for channel in list(self.server.active_channels.values()):
            channel.will_close = True  # the loop flushes what is left, then closes it (as idle connections)
        self.server.close()  # the listening socket and the trigger
