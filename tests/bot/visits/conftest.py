from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bot.chat.messages import Message
from bot.config.visits import ProxySettings, SablierSettings
from bot.engine.hooks import NoHooks
from bot.visits.proxy import Proxy
from bot.visits.sablier_api import SablierApi
from bot.visits.server import upstream_client
from bot.visits.visits import Visits
from tests.bot.engine.harness import ADA as ADMIN
from tests.bot.engine.harness import Harness
from tests.bot.visits.upstream import serving
from tests.fakes.clock import FakeClock


class HeldWakes(NoHooks):
    """Wakes wait in their before_start hook until released: a test sees them in flight."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def before_start(self, view: object, reason: str) -> str | None:
        self.released.wait(10)
        return None


class Site:
    """An engine on the fake provider, Visits over it, and what the channel was told."""

    def __init__(self, tmp_path: Path, clock: FakeClock, upstream: str, **harness: object) -> None:
        self.h = Harness(tmp_path / "paastis.db", clock, **harness)
        self.upstream = upstream
        self.posts: list[tuple[Message, str | None]] = []
        self.routes = {"review-42.example.com": "review-42", "admin.example.com": "admin", "old.example.com": "old"}
        self.visits = Visits(self.h.engine, lambda m, c: self.posts.append((m, c)), clock, self.routes)

    def add(self, name: str, **kw: object) -> str:
        return self.h.add(name, url=self.upstream, **kw)

    def up(self, name: str) -> None:
        """An app running, discovered, in the route table."""
        self.add(name)
        self.h.discover()
        self.visits.refresh()

    def asleep(self, name: str) -> None:
        """Discovered, then put to sleep by an admin, as a sweep would."""
        self.h.discover()
        self.h.engine.sleep(self.h.view(name), ADMIN)
        self.h.engine.wait_idle()
        self.visits.refresh()

    def wake_calls(self) -> int:
        """Provider calls that started an app."""
        return sum(1 for c in self.h.world.calls if c.operation == "wake")

    @asynccontextmanager
    async def through(self, clock: FakeClock | None = None, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
        """A client of the proxy (in process), the proxy's own client to the apps closed after.
        `clock`: the rate limits' (the engine's moves as wakes poll the fake provider)."""
        options = {"routes": self.routes, **settings}
        async with upstream_client() as upstream:
            proxy = Proxy(self.visits, ProxySettings(**options), clock or self.h.clock, upstream)
            async with client(proxy) as http:
                yield http

    def sablier(self, **settings: object) -> SablierApi:
        return SablierApi(self.visits, SablierSettings(**settings), self.h.clock, poll=0.01)


@pytest.fixture
def upstream() -> Iterator[str]:
    with serving() as url:
        yield url


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock, upstream: str) -> Iterator[Site]:
    site = Site(tmp_path, clock, upstream, rules=[{"pattern": "admin", "protect": True}], ignored=["old"])
    yield site
    site.h.engine.shutdown()


def client(app: object, **kw: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://review-42.example.com", **kw)
