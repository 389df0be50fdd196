"""Slow clients hold neither a worker nor a wake: each step of a request has a deadline.

headers    a connection must finish a request's headers within `timeout` of its
           first byte (or of connecting): else it is closed. uvicorn arms no timer
           before a request's headers are read, so a client sending one byte at a time
           would hold its connection for ever; this protocol adds that timer.
body       each chunk of a request body must arrive within `timeout`: else 408 (bot.visits.proxy)
response   a client that stops reading for `timeout` is dropped (bot.visits.proxy)
how many   past uvicorn's `limit_concurrency` connections, requests get 503 at once
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


def protocol(timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, with a deadline on each request's headers."""

    class TimedHeaders(HttpToolsProtocol):
        _headers_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._headers_timer is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._headers_timer = self.loop.call_later(timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._headers_timer is not None:
                self._headers_timer.cancel()
                self._headers_timer = None

        def _too_slow(self) -> None:
            self._headers_timer = None
            if self.cycle is None or self.cycle.response_complete:  # between requests, or before the first
                log.info("proxy.slow_client client=%s step=headers seconds=%g", (self.client or ("-",))[0], timeout)
                self.transport.close()

    return TimedHeaders
