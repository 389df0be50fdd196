"""Slow clients against `paastis proxy` on a real socket: none holds a connection for ever."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from bot.config.visits import Address, ProxySettings
from bot.visits.proxy import Proxy
from bot.visits.server import bind, upstream_client, uvicorn_config
from tests.bot.visits.conftest import Site

HOST = b"review-42.example.com"


@contextmanager
def proxy_on_loopback(site: Site, *, timeout: float, max_connections: int = 2000) -> Iterator[int]:
    """The proxy served by uvicorn as `paastis proxy` configures it; yields its port."""
    sock = bind(Address("127.0.0.1", 0))
    settings = ProxySettings(routes=site.routes, client_timeout=timeout)
    servers: list[uvicorn.Server] = []

    async def serve() -> None:
        async with upstream_client() as client:
            proxy = Proxy(site.visits, settings, site.h.clock, client)
            config = uvicorn_config(
                proxy, Address(*sock.getsockname()), client_timeout=timeout, max_connections=max_connections
            )
            servers.append(uvicorn.Server(config))
            await servers[0].serve(sockets=[sock])

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    while not servers or not servers[0].started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        servers[0].should_exit = True
        thread.join(10)
        sock.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """The server closed the connection (nothing more, or only what it sent before) in time."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_client_that_sends_its_headers_slowly_is_cut_off(site: Site) -> None:
    site.up("review-42")
    with proxy_on_loopback(site, timeout=0.5) as port:
        silent, slow = connect(port), connect(port)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: review-42.exa")
        started = time.monotonic()
        assert closed_within(slow, 3)
        assert closed_within(silent, 3)
        assert time.monotonic() - started < 2.5
        fine = connect(port)  # a client that is not slow is served as ever
        fine.sendall(b"GET /hello HTTP/1.1\r\nHost: " + HOST + b"\r\nConnection: close\r\n\r\n")
        assert fine.recv(65536).startswith(b"HTTP/1.1 200")
        for sock in (silent, slow, fine):
            sock.close()


def test_a_request_body_that_stops_arriving_gets_408(site: Site) -> None:
    site.up("review-42")
    with proxy_on_loopback(site, timeout=0.5) as port:
        client = connect(port)
        client.sendall(b"POST /echo HTTP/1.1\r\nHost: " + HOST + b"\r\nContent-Length: 100\r\n\r\n0123456789")
        answer = client.recv(65536)
        client.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"stopped arriving for 0.5 s" in answer


def test_a_client_that_stops_reading_the_answer_is_dropped(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    site.up("review-42")
    caplog.set_level(logging.INFO, logger="bot.visits.proxy")
    with proxy_on_loopback(site, timeout=0.5) as port:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", port))
        client.sendall(b"GET /big HTTP/1.1\r\nHost: " + HOST + b"\r\n\r\n")  # 64 MiB, never read
        deadline = time.monotonic() + 5
        while "step=response" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "proxy.slow_client client=127.0.0.1 step=response host=review-42.example.com" in caplog.text
        assert closed_within(client, 5)
        client.close()


def test_past_the_connection_cap_requests_get_503_at_once(site: Site) -> None:
    site.up("review-42")
    with proxy_on_loopback(site, timeout=10, max_connections=3) as port:
        idle = [connect(port) for _ in range(3)]
        time.sleep(0.2)
        extra = connect(port)
        extra.sendall(b"GET / HTTP/1.1\r\nHost: " + HOST + b"\r\n\r\n")
        assert extra.recv(65536).startswith(b"HTTP/1.1 503")
        for sock in [*idle, extra]:
            sock.close()
