"""`paastis proxy`: the built-in proxy and the Sablier API, served by uvicorn in one process.

    load settings ─▶ Paastis built (no scheduler: `paastis serve` sweeps and reports) with
                     the Slack poster when Slack is on (notices through the outbox)
                  ─▶ one discovery, then the route table refreshed every 2 s from the
                     database, activity written every 5 s (a background thread)
                  ─▶ uvicorn: the proxy on proxy.listen (default 0.0.0.0:$PORT) when routes
                     are set; the Sablier API on sablier.listen when set

It shares PAASTIS_DB with `paastis serve` (formations to restore, wakes claimed once).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Mapping

import httpx
import uvicorn

from bot.clock import SystemClock
from bot.config.loading import Settings
from bot.config.visits import Address
from bot.visits.proxy import Proxy
from bot.visits.sablier_api import SablierApi
from bot.visits.visits import Visits
from bot.wiring import build, build_visits

log = logging.getLogger(__name__)
DEFAULT_PORT = 8080


def upstream_client() -> httpx.AsyncClient:
    """Connections to the apps, pooled; no redirect followed (the visitor's browser follows them)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(60.0, connect=5.0, pool=10.0),
        limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
        follow_redirects=False,
    )


def uvicorn_config(app: object, address: Address) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=address.host,
        port=address.port,
        lifespan="off",
        ws="none",  # an Upgrade request reaches the proxy as HTTP, which refuses it clearly
        proxy_headers=False,  # the proxy decides whom to trust (proxy.trust_forwarded)
        access_log=False,
        log_config=None,
        timeout_keep_alive=5,
        limit_concurrency=2000,
    )


def run_proxy(settings: Settings, env: Mapping[str, str]) -> int:
    if not settings.proxy.routes and not settings.sablier.listen:
        log.error("proxy.nothing_to_serve fix=add proxy.routes or sablier.listen to paastis.yml")
        return 2
    clock = SystemClock()
    side = None
    if settings.slack.enabled:
        from bot.slack.app import slack_side

        side = slack_side(settings, clock)
    paastis = build(settings, clock=clock, environ=env, poster=side.poster if side else None, one_shot=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # what uvicorn restores, and calls again, once it stopped
        signal.signal(sig, lambda *_: stop.set())
    try:
        if side:
            side.outbound.resume()
        for provider, error in paastis.engine.discover().items():
            log.warning("proxy.discovery_failed provider=%s error=%s", provider, error)
        visits = build_visits(paastis)
        visits.refresh()
        loop_thread = threading.Thread(target=visits.run, args=(stop,), name="visits", daemon=True)
        loop_thread.start()
        asyncio.run(_serve(settings, visits))
        return 0
    finally:
        stop.set()
        paastis.close()
        if side:
            side.close()


async def _serve(settings: Settings, visits: Visits) -> None:
    servers = []
    async with upstream_client() as client:
        if settings.proxy.routes:
            address = settings.proxy.listen or Address("0.0.0.0", settings.port or DEFAULT_PORT)
            proxy = Proxy(visits, settings.proxy, visits.clock, client)
            servers.append(uvicorn.Server(uvicorn_config(proxy, address)))
            log.info("proxy.listening address=%s routes=%d", address, len(settings.proxy.routes))
        if settings.sablier.listen:
            api = SablierApi(visits, settings.sablier, visits.clock)
            servers.append(uvicorn.Server(uvicorn_config(api, settings.sablier.listen)))
            log.info("sablier.listening address=%s secret=%s", settings.sablier.listen, bool(settings.sablier.secret))
        await asyncio.gather(*(server.serve() for server in servers), _stop_together(servers))


async def _stop_together(servers: list[uvicorn.Server]) -> None:
    """A signal reaches one server (the last to install its handler): all stop with it."""
    while not any(server.should_exit for server in servers):
        await asyncio.sleep(0.5)
    for server in servers:
        server.should_exit = True
