"""`paastis proxy`: the built-in proxy and the Sablier API, served by uvicorn.

    load settings ─▶ one discovery ─▶ `--workers` processes (1: this one), sharing the
                     listening sockets; each builds Paastis on the configured database
                     (DATABASE_URL, else PAASTIS_DB), without the scheduler (`paastis serve`
                     sweeps and reports), its Slack notices only written to the outbox
                  ─▶ each: the route table refreshed every 2 s from the database, activity
                     written every 5 s (a background thread); uvicorn serving the proxy on
                     proxy.listen (default 0.0.0.0:$PORT) when routes are set, the Sablier
                     API on sablier.listen when set

It shares the database with `paastis serve` (formations to restore, wakes claimed once, the
outbox it posts from): they can be two apps of one PaaS account on one PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.process
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import uvicorn

from bot.clock import Clock, SystemClock
from bot.config.loading import Settings, load_settings
from bot.config.visits import Address
from bot.logs import configure_logging
from bot.visits import slow
from bot.visits.proxy import Proxy
from bot.visits.sablier_api import SablierApi
from bot.visits.visits import Visits
from bot.wiring import Paastis, build, build_visits

if TYPE_CHECKING:
    from bot.slack.app import SlackSide

log = logging.getLogger(__name__)
DEFAULT_PORT = 8080


def upstream_client() -> aiohttp.ClientSession:
    """Connections to the apps, kept alive and pooled (at most 500 at once); no redirect
    followed (the visitor's browser follows them), bodies passed on as the app encoded them."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=500, keepalive_timeout=30),
        timeout=aiohttp.ClientTimeout(total=None, connect=5, sock_read=60),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),  # visitors' cookies are theirs: none kept between them
    )


def uvicorn_config(
    app: object, address: Address, *, client_timeout: float = 30.0, max_connections: int = 2000
) -> uvicorn.Config:
    """`client_timeout`: seconds a client may take over its headers (then closed); between
    two requests on one connection, 5 s. Past `max_connections`, requests get 503 at once."""
    return uvicorn.Config(
        app,
        host=address.host,
        port=address.port,
        lifespan="off",
        http=slow.protocol(client_timeout),  # uvicorn's httptools protocol, with a deadline on headers
        ws="none",  # an Upgrade request reaches the proxy as HTTP, which refuses it clearly
        proxy_headers=False,  # the proxy decides whom to trust (proxy.trust_forwarded)
        access_log=False,
        log_config=None,
        timeout_keep_alive=5,
        limit_concurrency=max_connections,
    )


def run_proxy(settings: Settings, env: Mapping[str, str], workers: int = 1) -> int:
    """Serve until SIGTERM: in this process (`workers` 1), or in `workers` processes that share
    the listening sockets (the kernel spreads connections among them)."""
    if not settings.proxy.routes and not settings.sablier.listen:
        log.error("proxy.nothing_to_serve fix=add proxy.routes or sablier.listen to paastis.yml")
        return 2
    if workers == 1:
        _serve_here(settings, env, None)
        return 0
    sockets = [bind(address) for address in _addresses(settings)]
    paastis = build(settings, environ=env, one_shot=True)
    try:
        _discover(paastis)  # once, before the workers: each then reads the database
    finally:
        paastis.close()
    return Workers(env, sockets, workers).run()


def worker_main(env: Mapping[str, str], sockets: list[socket.socket]) -> None:
    """A worker process (spawned: a fresh interpreter) reads the same settings again."""
    settings = load_settings(env)
    configure_logging(settings.log_level, fmt=settings.log_format)
    _serve_here(settings, env, sockets)


class Workers:
    """The worker processes, started again when one dies, stopped together on SIGTERM/SIGINT."""

    def __init__(self, env: Mapping[str, str], sockets: list[socket.socket], count: int) -> None:
        self.env = dict(env)
        self.sockets = sockets
        self.count = count
        self.spawn = multiprocessing.get_context("spawn")

    def run(self) -> int:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        processes = [self._start(n) for n in range(self.count)]
        log.info("proxy.workers count=%d", self.count)
        while not stop.wait(1.0):
            for n, process in enumerate(processes):
                if not process.is_alive():
                    log.warning("proxy.worker_died worker=%d exit=%s", n, process.exitcode)
                    processes[n] = self._start(n)
        for process in processes:
            process.terminate()  # SIGTERM: each finishes its requests and writes its activity
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
        for sock in self.sockets:
            sock.close()
        return 0

    def _start(self, n: int) -> multiprocessing.process.BaseProcess:
        process = self.spawn.Process(target=worker_main, args=(self.env, self.sockets), name=f"proxy-{n}")
        process.start()
        return process


@dataclass(frozen=True)
class ProxySide:
    """What one proxy process is built with, closed together."""

    paastis: Paastis
    visits: Visits
    slack: SlackSide | None

    def close(self) -> None:
        self.paastis.close()
        if self.slack:
            self.slack.close(timeout=0)  # what is queued stays in the outbox: `paastis serve` posts it


def build_proxy(settings: Settings, env: Mapping[str, str], clock: Clock | None = None) -> ProxySide:
    """The engine on the configured database (DATABASE_URL, else PAASTIS_DB), without its
    scheduler (`paastis serve` sweeps and reports); notices only written to the outbox, never
    sent from here (`paastis serve` posts them: never twice)."""
    clock = clock or SystemClock()
    side = None
    if settings.slack.enabled:
        from bot.slack.app import slack_side

        side = slack_side(settings, clock, sends=False)  # never resumed: `serve` posts its notices
    paastis = build(settings, clock=clock, environ=env, poster=side.poster if side else None, one_shot=True)
    return ProxySide(paastis, build_visits(paastis), side)


def _serve_here(settings: Settings, env: Mapping[str, str], sockets: list[socket.socket] | None) -> None:
    built = build_proxy(settings, env)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # what uvicorn restores, and calls again, once it stopped
        signal.signal(sig, lambda *_: stop.set())
    try:
        if sockets is None:
            _discover(built.paastis)
        built.visits.refresh()
        loop_thread = threading.Thread(target=built.visits.run, args=(stop,), name="visits", daemon=True)
        loop_thread.start()
        asyncio.run(_serve(settings, built.visits, sockets))
    finally:
        stop.set()
        built.close()


def _discover(paastis: Paastis) -> None:
    for provider, error in paastis.engine.discover().items():
        log.warning("proxy.discovery_failed provider=%s error=%s", provider, error)


def _addresses(settings: Settings) -> list[Address]:
    """Where the proxy listens, then the Sablier API (each when set)."""
    proxy = (
        (settings.proxy.listen or Address("0.0.0.0", settings.port or DEFAULT_PORT)) if settings.proxy.routes else None
    )
    return [a for a in (proxy, settings.sablier.listen) if a is not None]


def bind(address: Address) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    # IPPROTO_TCP named: asyncio turns Nagle off only on sockets that say they are TCP (and
    # the connections accepted inherit it); left 0, each response waits on a delayed ACK (40 ms)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address.host, address.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _serve(settings: Settings, visits: Visits, sockets: list[socket.socket] | None) -> None:
    servers = []
    addresses = _addresses(settings)
    given = dict(zip(addresses, sockets, strict=True)) if sockets else {}
    async with upstream_client() as client:
        if settings.proxy.routes:
            address = addresses[0]
            proxy = Proxy(visits, settings.proxy, visits.clock, client)
            config = uvicorn_config(proxy, address, client_timeout=settings.proxy.client_timeout)
            servers.append((uvicorn.Server(config), given.get(address)))
            log.info("proxy.listening address=%s routes=%d", address, len(settings.proxy.routes))
        if settings.sablier.listen:
            api = SablierApi(visits, settings.sablier, visits.clock)
            address = settings.sablier.listen
            servers.append((uvicorn.Server(uvicorn_config(api, address)), given.get(address)))
            log.info("sablier.listening address=%s secret=%s", address, bool(settings.sablier.secret))
        serving = (server.serve(sockets=[sock] if sock else None) for server, sock in servers)
        await asyncio.gather(*serving, _stop_together([server for server, _ in servers]))


async def _stop_together(servers: list[uvicorn.Server]) -> None:
    """A signal reaches one server (the last to install its handler): all stop with it."""
    while not any(server.should_exit for server in servers):
        await asyncio.sleep(0.5)
    for server in servers:
        server.should_exit = True
