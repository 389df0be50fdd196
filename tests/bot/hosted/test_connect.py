"""Connecting providers from Slack: the modal, the check with one real call, the plan's limit."""

from __future__ import annotations

import json
import threading

from bot.hosted.registry import Connection, QuotaReached
from tests.bot.hosted.conftest import ACME, ADA, BOB, ON_EACH_DATABASE, Hosted


def test_an_admin_connects_a_fake_provider_from_the_modal(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)

    hosted.command(ACME, ADA, "connect fake")
    opened = hosted.slack.opened[-1]
    answer = hosted.submit(ACME, ADA, opened["view"], {"apps": "shop, blog"})

    assert opened["token"] == hosted.token(ACME)
    assert opened["view"]["callback_id"] == "hosted.connect"
    assert answer.json()["response_action"] == "update"
    assert "Connected *fake*" in answer.text
    [connection] = hosted.edition.registry.connections(ACME)
    assert (connection.name, connection.kind) == ("fake", "fake")
    tenant = hosted.tenant(ACME)
    tenant.paastis.engine.discover()
    assert sorted(v.name for v in tenant.paastis.engine.catalog()) == ["blog", "shop"]


def test_a_member_may_not_connect(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)

    response, _ = hosted.command(ACME, BOB, "connect fake")

    assert "Only this workspace's admins and owners" in response.json()["text"]
    assert hosted.slack.opened == []


def test_the_free_plan_allows_one_provider_and_says_so_in_the_modal(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop")

    second = hosted.connect_fake(ACME, ADA, "blog", name="other")

    assert second.json()["response_action"] == "errors"
    assert "Plan free allows 1 provider connection(s)" in second.json()["errors"]["name"]
    assert len(hosted.edition.registry.connections(ACME)) == 1


def test_empty_and_huge_values_are_refused_in_the_modal(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.command(ACME, ADA, "connect fake")
    view = hosted.slack.opened[-1]["view"]

    huge = hosted.submit(ACME, ADA, view, {"apps": "x" * 501})
    empty = hosted.submit(ACME, ADA, view, {"apps": " , "})

    assert "At most 500 characters" in huge.json()["errors"]["apps"]
    assert empty.json()["response_action"] == "errors"
    assert hosted.edition.registry.connections(ACME) == []


@ON_EACH_DATABASE
def test_twenty_simultaneous_connects_against_a_limit_of_three_make_three(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    registry, outcomes = hosted.edition.registry, []
    start = threading.Barrier(20)

    def connect(n: int) -> None:
        start.wait()
        try:
            outcomes.append(registry.save_connection(Connection(ACME, f"c{n}", "fake", "sealed", "—", "now"), 3))
        except QuotaReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(registry.connections(ACME)) == 3
    assert outcomes.count(True) == 3
    assert outcomes.count("refused") == 17


def test_the_settings_modal_checks_with_check_configs_words_and_saves(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop")
    hosted.command(ACME, ADA, "settings")
    view = hosted.slack.opened[-1]["view"]

    bad = hosted.submit(ACME, ADA, view, {"channel": "general", "idle_time": "banana", "rules": "rules: [1]"})
    refused = hosted.submit(ACME, ADA, view, {"rules": "webhooks: []"})
    good = hosted.submit(ACME, ADA, view, {"channel": "#ops", "idle_time": "30m", "rules": "timezone: Europe/Paris"})

    errors = bad.json()["errors"]
    assert "must be a channel id (C0123ABCD) or a #name" in errors["channel"]
    assert "banana" in errors["idle_time"] or "duration" in errors["idle_time"]
    assert "rules" in errors["rules"]
    assert "not set here" in refused.json()["errors"]["rules"]
    assert good.json()["response_action"] == "update"
    settings = hosted.tenant(ACME).paastis.settings
    assert (settings.slack.channel, str(settings.timezone), settings.idle_timeout.seconds) == (
        "#ops",
        "Europe/Paris",
        1800,
    )


def test_help_lists_the_hosted_commands_too_before_anything_is_connected(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)

    answer = json.dumps(hosted.command(ACME, BOB, "help")[0].json())

    assert "/paastis wake" in answer
    assert "/paastis connect" in answer
    assert "/paastis plan" in answer


def test_the_home_tabs_buttons_open_the_connect_and_replace_modals(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)
    hosted.connect_fake(ACME, ADA, "shop", name="demo")

    hosted.click(ACME, ADA, "hosted.connect", "fake", home=True)
    assert hosted.slack.wait_for(lambda: len(hosted.slack.opened) == 2)
    hosted.click(ACME, ADA, "hosted.replace", "demo", home=True)
    assert hosted.slack.wait_for(lambda: len(hosted.slack.opened) == 3)
    replace = hosted.slack.opened[-1]["view"]
    answer = hosted.submit(ACME, ADA, replace, {"apps": "shop, blog"})

    assert replace["title"]["text"] == "Replace demo"
    assert "Connected *demo*" in answer.text
    assert [c.name for c in hosted.edition.registry.connections(ACME)] == ["demo"]
    assert hosted.discover(ACME) == ["blog", "shop"]
    assert hosted.slack.wait_for(lambda: ADA in hosted.slack.views)  # the Home tab published again


def test_a_command_before_anything_is_connected_is_acknowledged_first_then_told_how_to_connect(hosted: Hosted) -> None:
    hosted.install(ACME, "Acme", ADA)

    response, key = hosted.command(ACME, BOB, "status")

    assert (response.status_code, response.text) == (200, "")
    assert "/paastis connect" in hosted.last_response(key, "no provider connected")["text"]
