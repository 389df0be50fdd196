"""The `proxy:` and `sablier:` sections of paastis.yml, and visit wakes in the report."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest

from bot.chat import plain_text
from bot.chat.chatops import Chatops, ChatopsOptions
from bot.config.loading import Permissions, build_settings
from bot.config.visits import Address
from bot.errors import ConfigError
from bot.policy.pricing import Prices
from tests.bot.engine.harness import ADA
from tests.bot.visits.conftest import Site

ENV = {"PROVIDER_NAME": "fake", "PAASTIS_SABLIER_SECRET": "0123456789abcdef-secret"}

GOOD = """
proxy:
  listen: 0.0.0.0:8081
  max_body: 2MiB
  routes:
    Review-42.Example.com: review-42
    shop.example.com: fake:shop-front
    "*.review.example.com": "review-{}"
sablier:
  listen: 127.0.0.1:10000
  secret: ${PAASTIS_SABLIER_SECRET}
"""


def test_a_proxy_and_sablier_section_is_read_and_its_secret_redacted() -> None:
    settings = build_settings(ENV, GOOD)
    assert settings.proxy.routes == {
        "review-42.example.com": "review-42",
        "shop.example.com": "fake:shop-front",
        "*.review.example.com": "review-{}",
    }
    assert settings.proxy.listen == Address("0.0.0.0", 8081)
    assert settings.proxy.max_body == 2 * 1024 * 1024
    assert settings.sablier.listen == Address("127.0.0.1", 10000)
    assert settings.redacted()["sablier"]["secret"] == "<redacted>"
    assert "0123456789abcdef" not in repr(settings)
    assert "PAASTIS_SABLIER_SECRET" in settings.secret_variables  # kept from hooks


def test_every_problem_of_the_sections_is_told_at_once() -> None:
    bad = """
proxy:
  listen: everywhere
  max_body: lots
  first_requests_per_minute: 0
  routes:
    "https://review-42.example.com": review-42
    ok.example.com: ""
    "*.pr.example.com": review
    plain.example.com: "review-{}"
  colour: blue
sablier:
  secret: short
"""
    with pytest.raises(ConfigError) as caught:
        build_settings(ENV, bad)
    text = str(caught.value)
    for expected in (
        "proxy.listen",
        "must be host:port",
        "proxy.max_body",
        "proxy.first_requests_per_minute",
        "is not a domain name",
        "proxy.routes.ok.example.com",
        "proxy.colour",
        "must hold {} once",
        "{} is only for a wildcard domain",
        "sablier.secret",
        "sablier.listen",
    ):
        assert expected in text, expected
    assert "short" not in text  # a secret is never shown, even a bad one


def test_without_the_sections_nothing_listens() -> None:
    settings = build_settings({"PROVIDER_NAME": "fake"})
    assert settings.proxy.routes == {}
    assert settings.sablier.listen is None


def test_apps_woken_by_a_visit_are_counted_in_the_report(site: Site) -> None:
    site.add("review-42")
    site.add("other")
    site.asleep("review-42")
    site.h.engine.sleep(site.h.view("other"), ADA)
    site.h.engine.wait_idle()

    async def visit():
        async with site.through() as http:
            await http.get("/", headers={"accept": "text/html"})

    asyncio.run(visit())
    site.h.wake("other")  # from Slack
    site.h.engine.wait_idle()
    chatops = Chatops(site.h.engine, ChatopsOptions(ZoneInfo("UTC"), Permissions(), Prices()))
    report = plain_text.render(chatops.report(), lambda b: 0)
    assert "2 wakes (1 by a visit)" in report, report
