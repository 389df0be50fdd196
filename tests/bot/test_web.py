"""The HTTP server of `serve`: /healthz, and a stop that ends waitress cleanly."""

from __future__ import annotations

import http.client
import socket
import threading
import time

from bot.web import Check, HttpServer, health_app


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_healthz_tells_whether_paastis_is_up() -> None:
    up = threading.Event()
    server = HttpServer(health_app(up.is_set), "127.0.0.1", 0)
    try:
        assert get(server.port, "/healthz") == (503, b"starting\n")
        up.set()
        assert get(server.port, "/healthz") == (200, b"ok\n")
        assert get(server.port, "/elsewhere")[0] == 404
    finally:
        server.stop()


def test_stop_ends_the_server_with_a_connection_kept_alive_and_frees_the_port() -> None:
    server = HttpServer(health_app(lambda: True), "127.0.0.1", 0)
    port = server.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        idle.request("GET", "/healthz")
        assert idle.getresponse().read() == b"ok\n"  # HTTP/1.1: the connection stays open

        started = time.monotonic()
        server.stop()

        assert time.monotonic() - started < 3
        assert not server._thread.is_alive()
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds
            probe.bind(("127.0.0.1", port))  # nothing listens there any more
    finally:
        idle.close()


def test_a_request_in_flight_gets_its_answer_before_the_server_stops() -> None:
    entered = threading.Event()

    def slow(environ, start_response):
        entered.set()
        time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done\n"]

    server = HttpServer(slow, "127.0.0.1", 0)
    answers: list[tuple[int, bytes]] = []
    client = threading.Thread(target=lambda: answers.append(get(server.port, "/")))
    client.start()
    assert entered.wait(5)
    server.stop()
    client.join(5)

    assert answers == [(200, b"done\n")]


def test_a_body_over_the_limit_is_refused_from_its_headers_before_the_app_sees_it() -> None:
    """300 MiB announced, a few kB sent: 413 at once, nothing read or kept; the app is never called."""
    called: list[str] = []

    def app(environ, start_response):
        called.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]

    server = HttpServer(app, "127.0.0.1", 0)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            started = time.monotonic()
            conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n" + b"x" * 4096)
            answer = conn.recv(100)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert time.monotonic() - started < 2
        assert called == []
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("POST", "/slack/events", body=b"x" * (1024 * 1024))  # exactly the limit: taken
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        server.stop()


def test_readyz_lists_every_check_and_is_503_while_one_fails() -> None:
    checks = [Check("database", True, "writable"), Check("provider clever-par", True, "answered")]
    server = HttpServer(health_app(lambda: True, list, lambda: checks), "127.0.0.1", 0)
    try:
        assert get(server.port, "/readyz") == (
            200,
            b"ok scheduler: running\nok database: writable\nok provider clever-par: answered\n",
        )
        checks[1] = Check("provider clever-par", False, "failing since 12:00: HTTP 503")
        status, body = get(server.port, "/readyz")
        assert status == 503
        assert b"FAIL provider clever-par: failing since 12:00: HTTP 503" in body
        assert get(server.port, "/healthz") == (200, b"ok\n")  # liveness: a failing provider does not restart it
    finally:
        server.stop()
