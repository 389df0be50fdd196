"""A fake of the Scalingo API, in ordinary code, over `SimulatedPaas` worlds (one per region).

WSGI apps, so tests call them in process (`FakeScalingo.transport()`, an
`httpx.WSGITransport`) or on loopback (`serve_fake_scalingo`; `deployment.start_fake`
serves them so for the demo and the contract suite). They follow PROVIDERS.md §1 and
ACTIVITY.md §1.1, §5; departures are marked "Departs".

Regional API (`/v1`, routed on the path only: go-scalingo sends `/v1/apps?`), every call
with a bearer from the auth fake (`providers.scalingo.fake_api.auth`), then within the rate limit::

    GET  /apps                       {"apps": [App…]}                         world op "list"
    GET  /apps/{app}                 {"app": App}                              "get"
    GET  /apps/{app}/containers      {"containers": [{name, amount, size…}]}   "get"
    GET  /apps/{app}/ps              {"containers": [{type, state…}]}          "get"
    POST /apps/{app}/scale           202 + Location + complete formation       "wake" / "sleep"
    GET  /apps/{app}/operations/{id} {"operation": {status pending|running|done|error…}}  "get"
    GET  /apps/{app}/stats/router    bare array of {time, value}, or 404       "activity"
    GET  /apps/{app}/autoscalers     {"autoscalers": […]}; PATCH …/{id} (`fake_api.autoscalers`);
                                     a scale disables the autoscalers of the types it scales
    An app never deployed has status `new`; scaling it answers 200 without Location.

Errors as documented: 401 `{"error"}`, 404 `{"resource", "error"}`, 422 `{"errors"}`,
429 text "Retry later", 500 `{"error": "Internal error occured, we're on it!"}`, 503.
Failures injected in a world (`world.fail(op, app, error)`) come out as the API would say
them: `ProviderUnavailable` 503, `RateLimited` 429, `ActivityUnavailable` 500,
`AuthenticationFailed` 401, `OperationRejected` 422, `AppNotFound` 404.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from providers.base import Clock
from providers.fake import SimulatedPaas
from providers.loopback import LoopbackServer
from providers.scalingo.fake_api.auth import FakeAuthService
from providers.scalingo.fake_api.region import FakeScalingoRegion
from providers.scalingo.fake_api.wsgi import Received, Request, Response, StartResponse

__all__ = ["FakeScalingo", "FakeScalingoRegion", "serve_fake_scalingo"]


class FakeScalingo:
    """The auth service and one regional API per world, sharing one call log.

    In process: `transport()` routes `auth_url` and each of `api_urls` (made-up hosts) to
    the right fake. On loopback: `serve_fake_scalingo`. Steer it through the worlds, and
    through `auth` (`revoke_bearers`, `spend_elsewhere`); read `received` to count calls.
    """

    def __init__(
        self,
        worlds_by_region: Mapping[str, SimulatedPaas],
        tokens: Iterable[str],
        clock: Clock,
        *,
        rate_limit: int = 60,
        retry_after_header: bool = False,
    ) -> None:
        self.received: list[Received] = []
        self.auth = FakeAuthService(tokens, clock, rate_limit=rate_limit, retry_after_header=retry_after_header)
        self.regions = {r: FakeScalingoRegion(r, w, self.auth, self.received) for r, w in worlds_by_region.items()}
        self.auth_url = "https://auth.scalingo.test"
        self.api_urls = {r: f"https://api.{r}.scalingo.test" for r in self.regions}

    def auth_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        response = self.auth.exchange(request)
        self.received.append(Received.of(request, response, self.auth.clock.now(), "auth"))
        return response.send(start_response)

    def transport(self) -> httpx.WSGITransport:
        hosts: dict[str, Callable[..., Iterable[bytes]]] = {httpx.URL(self.auth_url).host: self.auth_app}
        hosts.update({httpx.URL(self.api_urls[r]).host: app for r, app in self.regions.items()})

        def by_host(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            app = hosts.get(environ["SERVER_NAME"])
            if app is None:
                return Response(502, f"no fake Scalingo service at {environ['SERVER_NAME']}").send(start_response)
            return app(environ, start_response)

        return httpx.WSGITransport(app=by_host)

    def calls(self, service: str) -> list[Received]:
        """The requests one service ("auth" or a region) answered, oldest first."""
        return [r for r in self.received if r.service == service]


def serve_fake_scalingo(
    worlds_by_region: Mapping[str, SimulatedPaas], tokens: Iterable[str], clock: Clock, **options: Any
) -> tuple[dict[str, str], str, Callable[[], None]]:
    """Serve the Scalingo fakes on loopback ports, for the demo and end-to-end tests.

    Returns `(api_urls, auth_url, close)`: the base URL (without /v1) of each region's API
    and of the auth service, to pass as the providers' `api_url` and `auth_url` options, and
    a function that stops every server. `options` go to `FakeScalingo` (`rate_limit`,
    `retry_after_header`).
    """
    fake = FakeScalingo(worlds_by_region, tokens, clock, **options)
    auth = LoopbackServer(fake.auth_app)
    regions = {region: LoopbackServer(app) for region, app in fake.regions.items()}

    def close() -> None:
        for server in (auth, *regions.values()):
            server.close()

    return {region: server.url for region, server in regions.items()}, auth.url, close
