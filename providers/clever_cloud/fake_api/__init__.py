"""A fake of the Clever Cloud API (WSGI), over a `SimulatedPaas` world.

Tests and the offline demo serve it on loopback (`serve`; `deployment.start_fake` as the
demo and the contract suite start it) and point the real client at it.
Every request must be OAuth 1 signed (`oauth`); answers follow PROVIDERS.md
§2 and ACTIVITY.md §2.2 (payloads: `payloads`)::

    GET    /v2/self | /v2/summary | /v2/organisations                       world op "list"
    GET    /v2/{self|organisations/{id}}/applications   (unwrapped array)    "list"
    GET    …/applications/{app}[/instances|/deployments[/{id}]|/vhosts[/favourite]|/env]
                                                                             "get"
    POST   …/applications/{app}/instances   redeploy → {id, message, type, deploymentId}
                                                                             "wake"
    DELETE …/applications/{app}/instances   undeploy → {id, message, type}   "sleep"
    GET    /v4/accesslogs/organisations/{owner}/applications/{app}/accesslogs
           server-sent events: ACCESS_LOG (with id:), HEARTBEAT, END_OF_STREAM  "activity"

Each request calls `world.record(op, app)`, so `world.fail(op, …)` injects failures: they
answer `{id, message, type}` with 401/404/429 (Retry-After)/400/503 by error class (v4:
`{error, context}`). Streams (`accesslogs`) can also be spoilt in ways the
world cannot express — a cut, a silence, garbage — with `fault_stream`. Every request is
logged in `requests`.

Departures: `/v2/self/applications/{app}…` finds apps of the user's organisations too (the
real API does so for the app itself, per clever-tools; for sub-resources it is assumed);
`withDeleted` is ignored; error ids other than 4021 are made up; a stream that stops at
`limit` ends with `{"endedBy": "LIMIT_REACHED"}` (only UNTIL_REACHED is documented).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from providers.clever_cloud.fake_api.api import DEMO_CREDENTIALS, FakeCleverCloud, SeenRequest
from providers.fake import SimulatedPaas
from providers.loopback import LoopbackServer

__all__ = ["DEMO_CREDENTIALS", "FakeCleverCloud", "FakeCleverCloudServer", "SeenRequest", "serve"]


@dataclass
class FakeCleverCloudServer:
    """A fake Clever Cloud API served on loopback; `options()` configures a provider for it."""

    api: FakeCleverCloud
    server: LoopbackServer = field(repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    def options(self, **extra: Any) -> dict[str, Any]:
        """Provider options for this server (extra: zone, signature_method, rate_limit, …)."""
        c = self.api.credentials
        return {
            "api_host": self.url,
            "consumer_key": c.consumer_key,
            "consumer_secret": c.consumer_secret,
            "token": c.token,
            "secret": c.secret,
            **extra,
        }

    def close(self) -> None:
        """End open streams, then stop the server. LoopbackServer's accept loop notices a
        shutdown only every 0.5 s, so connections poke it awake meanwhile."""
        self.api.close()
        closing = threading.Thread(target=self.server.close, name="clever-fake-close", daemon=True)
        closing.start()
        address = urlsplit(self.url)
        while closing.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection((address.hostname, address.port), timeout=0.1).close()
            closing.join(0.01)

    def __enter__(self) -> FakeCleverCloudServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve(world: SimulatedPaas, **settings: Any) -> FakeCleverCloudServer:
    """Serve a fake Clever Cloud API over `world` on 127.0.0.1 (a free port), in a thread.

    For the demo::

        world = SimulatedPaas(clock)
        world.add_app("hello", app_id=clever_app_id("hello"), zone="par")
        server = serve(world)                      # FakeCleverCloud settings as keywords
        spec, problems = parse_spec("clever-cloud", server.options(zone="par"), where="demo")
        provider = build_provider(spec, ProviderDeps(clock=clock))
        ...
        server.close()                             # ends open streams, frees the port
    """
    api = FakeCleverCloud(world, **settings)
    return FakeCleverCloudServer(api, LoopbackServer(api))
