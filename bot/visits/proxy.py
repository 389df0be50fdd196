"""`paastis proxy`: a reverse proxy in front of PaaS apps that wakes them on their first request.

    request ─▶ Host → app (proxy.routes) ─┬─ unknown host: 404 page, nothing woken
                                          ├─ asleep (and exposed): ONE wake; browsers get the
                                          │  waiting page, API clients 503 + Retry-After;
                                          │  too many first requests from one client: 429
                                          └─ up, or protected / ignored (never woken here):
                                             streamed to the app's PaaS URL and back

Requests and responses are streamed (bodies, chunked), never buffered; hop-by-hop headers
are dropped, X-Forwarded-For/Proto/Host set (a client's own X-Forwarded-* are dropped unless
`trust_forwarded`); a body over `max_body` gets 413, one that stops arriving 408
(bot.visits.slow); a redirect to the app's own PaaS URL is rewritten to the visitor's domain;
a WebSocket upgrade is refused with 501 and the way round it. The apps are reached through
one aiohttp session (pooled, kept-alive connections). Each request served is use, noted in
memory and written in batches (bot.visits.visits): never a provider call per request.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from bot.config.visits import HOST, ProxySettings
from bot.engine.wake_jobs import Phase
from bot.visits import pages
from bot.visits.asgi import HTML, PROBLEM, Receive, Scope, Send, headers_of, respond, wants_html
from bot.visits.guard import RateLimiter, client_of
from bot.visits.visits import ASLEEP, Route, Visits
from providers.base import Clock

log = logging.getLogger(__name__)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
HOP_BY_HOP_RAW = {name.encode() for name in HOP_BY_HOP}
AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")  # only what the client sent goes on
FORWARDED = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-real-ip"}
PORT = re.compile(r":\d{1,5}$")


class Proxy:
    def __init__(self, visits: Visits, settings: ProxySettings, clock: Clock, client: aiohttp.ClientSession) -> None:
        self.visits = visits
        self.settings = settings
        self.client = client
        self.limiter = RateLimiter(settings.first_requests_per_minute, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # only when the server speaks WebSocket: refused, as over HTTP
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        headers, twice = headers_of(scope)
        host = PORT.sub("", headers.get("host", "").strip().lower()).rstrip(".")
        if "host" in twice or not HOST.match(host):
            await _page(send, 400, "Bad request", "The Host header is missing, repeated or not a domain name.")
            return
        route = self.visits.route(host)
        if route is None:
            await _page(send, 404, "No app here", f"{host} is not an app this proxy serves.")
            return
        if "upgrade" in headers:
            detail = "WebSockets are not passed through by paastis proxy: connect to the app's own URL for them."
            await _page(send, 501, "WebSockets not supported", detail)
            return
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or "content-length" in twice):
            await _page(send, 400, "Bad request", "The Content-Length header is not a single number.")
            return
        if length and int(length) > self.settings.max_body:
            await _too_large(send, self.settings.max_body)
            return
        if route.exposed and self.visits.state(route.view) in ASLEEP:
            await self._wait(scope, headers, route, send)
            return
        await self._forward(scope, receive, send, headers, route)

    async def _wait(self, scope: Scope, headers: dict[str, str], route: Route, send: Send) -> None:
        client = client_of(scope, headers, trust_forwarded=self.settings.trust_forwarded)
        if not self.limiter.allow(client):
            retry = [("retry-after", str(self.limiter.retry_after()))]
            await _page(send, 429, "Too many requests", "Wait a moment before trying again.", retry)
            return
        wake = await asyncio.to_thread(self.visits.wake, route.view, route.host, client)
        if wake.progress.phase is Phase.FAILED:
            reason = wake.progress.main.reason or "the provider refused"
            detail = f"Paastis could not wake {route.view.name} ({reason}); the team was told. Try again in a minute."
            await _page(send, 502, "App could not be woken", detail, [("retry-after", "60")])
            return
        estimate = self.visits.estimate(route.view)
        waited = self.visits.waited(wake)
        retry_after = str(max(1, min(30, round((estimate or 20) - waited))))
        if wants_html(headers):
            body = pages.waiting_page(route.view.name, estimate=estimate, waited=waited, refresh=5)
            await respond(send, 503, body, HTML, [("retry-after", retry_after)])
        else:
            detail = f"{route.view.name} is waking up: try again in {retry_after} s"
            body = pages.problem("waking", "Service Unavailable", 503, detail)
            await respond(send, 503, body, PROBLEM, [("retry-after", retry_after)])

    async def _forward(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], route: Route) -> None:
        base = self.visits.url(route.view)
        if not base:
            await _page(send, 502, "App unreachable", f"Paastis knows no URL for {route.view.name} yet.")
            return
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        url = URL(base.rstrip("/") + path + (f"?{query}" if query else ""), encoded=True)  # sent as the client wrote it
        body = (
            _Body(receive, self.settings.max_body, self.settings.client_timeout)
            if "content-length" in headers or "transfer-encoding" in headers
            else None
        )
        try:
            async with self.client.request(
                scope["method"],
                url,
                headers=self._upstream_headers(scope, headers, route.host),
                data=body.chunks() if body else None,
                allow_redirects=False,
                skip_auto_headers=AUTO_HEADERS,
            ) as response:
                moved = _Moved(url, scope, headers, route.host, self.settings.trust_forwarded)
                out = [(k, moved(k, v)) for k, v in response.raw_headers if k.lower() not in HOP_BY_HOP_RAW]
                await send({"type": "http.response.start", "status": response.status, "headers": out})
                async for chunk in response.content.iter_any():
                    try:  # a client that stops reading holds neither this task nor the app's connection
                        async with asyncio.timeout(self.settings.client_timeout):  # a timer, no task
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    except TimeoutError:
                        log.info("proxy.slow_client client=%s step=response host=%s", _peer(scope), route.host)
                        return
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, TimeoutError) as exc:
            if body and body.too_large:
                await _too_large(send, self.settings.max_body)
                return
            if body and body.too_slow:
                log.info("proxy.slow_client client=%s step=body host=%s", _peer(scope), route.host)
                detail = f"The request body stopped arriving for {self.settings.client_timeout:g} s."
                await _page(send, 408, "Request timeout", detail, [("connection", "close")])
                return
            reason = f"{_why(exc)} at {url.host}"
            reported = route.exposed and await asyncio.to_thread(self.visits.unreachable, route.view, reason)
            log.warning("proxy.upstream_failed host=%s app=%s error=%s", route.host, route.view.name, reason)
            detail = f"{route.view.name} does not answer ({reason})."
            if reported:
                detail += " Its wake was reported failed to the team."
            await _page(send, 502, "App unreachable", detail)
            return
        if route.exposed:
            self.visits.used(route.view.ref)
            self.visits.served(route.view)

    def _upstream_headers(self, scope: Scope, headers: dict[str, str], host: str) -> list[tuple[str, str]]:
        named = {n.strip() for n in headers.get("connection", "").lower().split(",")}
        dropped = HOP_BY_HOP | named | {"host"} | (set() if self.settings.trust_forwarded else FORWARDED)
        out = [(k, v) for k, v in headers.items() if k not in dropped]
        client = str((scope.get("client") or ("unknown", 0))[0])
        chain = headers.get("x-forwarded-for") if self.settings.trust_forwarded else None
        proto = (headers.get("x-forwarded-proto") if self.settings.trust_forwarded else None) or scope["scheme"]
        out = [(k, v) for k, v in out if k not in FORWARDED]
        out += [
            ("x-forwarded-for", f"{chain}, {client}" if chain else client),
            ("x-forwarded-proto", proto),
            ("x-forwarded-host", host),
        ]
        return out


class _Body:
    """The request's body, streamed to the app; past `limit` bytes it stops (`too_large`)."""

    def __init__(self, receive: Receive, limit: int, timeout: float) -> None:
        self.receive = receive
        self.limit = limit
        self.timeout = timeout
        self.too_large = self.too_slow = False

    async def chunks(self) -> AsyncIterator[bytes]:
        size = 0
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    message = await self.receive()
            except TimeoutError:
                self.too_slow = True
                raise aiohttp.ClientPayloadError("request body too slow") from None
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                self.too_large = True
                raise aiohttp.ClientPayloadError("request body over proxy.max_body")
            if chunk:
                yield chunk
            if not message.get("more_body"):
                return


class _Moved:
    """A redirect to the app's own PaaS URL is rewritten to the domain the visitor asked for,
    so that they stay behind the proxy (`Location: https://review-42.osc-fr1.scalingo.io/x` →
    `https://review-42.example.com/x`); any other Location is left as the app wrote it."""

    def __init__(self, upstream: URL, scope: Scope, headers: dict[str, str], host: str, trust: bool) -> None:
        self.origins = tuple(f"{scheme}://{upstream.raw_authority}".encode("latin-1") for scheme in ("https", "http"))
        proto = (headers.get("x-forwarded-proto") if trust else None) or scope["scheme"]
        self.public = f"{proto}://{host}".encode("latin-1")

    def __call__(self, name: bytes, value: bytes) -> bytes:
        if name.lower() not in (b"location", b"content-location"):
            return value
        for origin in self.origins:  # the app may not know the PaaS's router speaks https
            rest = value[len(origin) :]
            if value.startswith(origin) and rest[:1] in (b"", b"/", b"?", b"#"):
                return self.public + rest
        return value


def _peer(scope: Scope) -> str:
    return str((scope.get("client") or ("-", 0))[0])


def _why(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused or unreachable"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed before an answer"
    return type(exc).__name__


async def _page(send: Send, status: int, title: str, detail: str, extra: list[tuple[str, str]] | None = None) -> None:
    await respond(send, status, pages.error_page(title, detail), HTML, extra or [])


async def _too_large(send: Send, limit: int) -> None:
    await _page(send, 413, "Request too large", f"Request bodies are limited to {limit} bytes here (proxy.max_body).")
