"""The Scalingo client calls and reads as Scalingo's own clients do (issue 13): against the
fake API, which behaves as the real one is documented (or may be expected) to.
"""

from __future__ import annotations

from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from tests.fakes.clock import FakeClock
from tests.providers.scalingo.in_process import API_TOKEN, REGION, build_provider


def make() -> tuple[FakeClock, SimulatedPaas, FakeScalingo]:
    clock = FakeClock()
    world = SimulatedPaas(clock)
    return clock, world, FakeScalingo({REGION: world}, [API_TOKEN], clock)


# -- token exchange ----------------------------------------------------------------------


def test_the_token_exchange_sends_an_empty_json_object_as_scalingo_js_does() -> None:
    clock, world, fake = make()
    world.add_app("api", formation={"web": 1})

    apps = build_provider(fake, clock).list_apps()

    assert [a.name for a in apps] == ["api"]
    assert fake.auth.exchange_bodies == [b"{}"]
