"""The Clever Cloud client signs, follows and reads as Clever Cloud's own clients do (issue 13),
and an optional read never blocks a sleep or a wake (issue 11): against the fake API, which
behaves as the real one is known (or may be expected) to.
"""

from __future__ import annotations

from typing import Any

import requests
from oauthlib.oauth1 import Client as OAuthClient

from providers.clever_cloud.client import oauth1
from providers.clever_cloud.fake_api import FakeCleverCloudServer
from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.providers.clever_cloud.kit import add, make_provider

# -- signature ----------------------------------------------------------------------------------


def test_requests_are_signed_plaintext_with_oauth_version_as_clever_clients_sign(fake, provider, world) -> None:
    add(world, "front")

    provider.list_apps()

    assert {r.signed_with for r in fake.api.requests} == {"PLAINTEXT 1.0"}


class WithoutVersion(OAuthClient):
    def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
        return [p for p in super().get_oauth_params(request) if p[0] != "oauth_version"]


def test_the_fake_refuses_hmac_without_oauth_version_as_the_api_may(fake: FakeCleverCloudServer, world) -> None:
    add(world, "front")
    credentials = fake.api.credentials

    bare = requests.get(
        fake.url + "/v2/self", auth=oauth1(credentials, "HMAC-SHA512", client_class=WithoutVersion), timeout=5
    )
    versioned = requests.get(fake.url + "/v2/self", auth=oauth1(credentials, "HMAC-SHA512"), timeout=5)
    plaintext = requests.get(
        fake.url + "/v2/self", auth=oauth1(credentials, "PLAINTEXT", client_class=WithoutVersion), timeout=5
    )

    assert bare.status_code == 401
    assert bare.json()["message"] == "Unauthorized: HMAC-SHA512 without oauth_version 1.0"
    assert (versioned.status_code, plaintext.status_code) == (200, 200)


def test_hmac_stays_an_option_and_is_sent_with_its_version(fake, clock: FakeClock, world: SimulatedPaas) -> None:
    add(world, "front")

    apps = make_provider(fake, clock, signature_method="HMAC-SHA512").list_apps()

    assert [a.name for a in apps] == ["front"]
    assert {r.signed_with for r in fake.api.requests} == {"HMAC-SHA512 1.0"}
