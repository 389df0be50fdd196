"""Two workspaces on one hosted Paastis, both with an app named `shop`: neither can see,
wake or sleep anything of the other, by command, button, Home tab or log."""

from __future__ import annotations

import json

import pytest

from providers.base import AppState
from tests.bot.hosted.conftest import ACME, ADA, BETA, CAROL, ON_EACH_DATABASE, Hosted

pytestmark = ON_EACH_DATABASE


@pytest.fixture
def two(hosted: Hosted) -> Hosted:
    hosted.install(ACME, "Acme", ADA)
    hosted.install(BETA, "Beta", CAROL)
    assert "Connected" in hosted.connect_fake(ACME, ADA, "shop, blog").text
    assert "Connected" in hosted.connect_fake(BETA, CAROL, "shop, web", name="beta-paas").text
    assert hosted.discover(ACME) == ["blog", "shop"]
    assert hosted.discover(BETA) == ["shop", "web"]
    return hosted


def slept(hosted: Hosted, team: str, connection: str = "fake") -> bool:
    return any(c.operation == "sleep" and c.app == "shop" for c in hosted.world(team, connection).calls)


def acmes_home(two: Hosted) -> str:
    """Ada's Home tab as last published: Acme's plan and apps, nothing of Beta's."""
    assert two.slack.wait_for(lambda: ADA in two.slack.views)
    shown = json.dumps(two.slack.views[ADA][-1])
    assert "Plan free" in shown
    assert "blog" in shown
    assert "beta-paas" not in shown
    return shown


def test_a_sleep_in_one_workspace_leaves_the_others_app_of_the_same_name_alone(two: Hosted) -> None:
    response, key = two.command(BETA, CAROL, "sleep shop")

    assert response.status_code == 200
    assert "Putting shop to sleep" in two.last_response(key, "Putting shop to sleep")["text"]
    assert two.slack.wait_for(lambda: slept(two, BETA, "beta-paas"))
    assert two.world(ACME).app("shop").state is AppState.RUNNING
    assert not [c for c in two.world(ACME).calls if c.operation == "sleep"]


def test_status_and_log_show_only_the_workspaces_own_apps_and_events(two: Hosted) -> None:
    two.command(BETA, CAROL, "sleep shop")
    assert two.slack.wait_for(lambda: slept(two, BETA, "beta-paas"))

    status = json.dumps(two.last_response(two.command(ACME, ADA, "status")[1]))
    log = json.dumps(two.last_response(two.command(ACME, ADA, "log")[1]))

    assert "blog" in status
    assert "web" not in status
    assert "beta-paas" not in status
    assert "Carol" not in log
    assert "beta-paas" not in log
    assert "slept" not in log


def test_a_tampered_button_naming_the_other_workspaces_app_is_refused(two: Hosted) -> None:
    response, key = two.click(ACME, ADA, "paastis.wake", "beta-paas:shop")

    assert response.status_code == 200
    assert "no longer listed" in two.last_response(key)["text"]
    assert not [c for c in two.world(BETA, "beta-paas").calls if c.operation == "wake"]


def test_a_tampered_remove_button_naming_the_other_workspaces_connection_removes_nothing(two: Hosted) -> None:
    response, _ = two.click(ACME, ADA, "hosted.remove", "beta-paas")

    assert response.status_code == 200
    assert [c.name for c in two.edition.registry.connections(BETA)] == ["beta-paas"]
    assert [c.name for c in two.edition.registry.connections(ACME)] == ["fake"]
    assert two.slack.wait_for(lambda: any("No connection named" in e.get("text", "") for e in two.slack.ephemerals))


def test_the_home_tab_shows_the_workspaces_own_plan_connections_and_apps(two: Hosted) -> None:
    two.event(ACME, {"type": "app_home_opened", "user": ADA, "tab": "home"})

    shown = acmes_home(two)
    assert "Remove" in shown
    assert "web" not in shown
    [publish] = two.slack.calls_to("views.publish")
    assert publish.token == two.token(ACME)


def test_each_workspace_has_its_own_database_file_or_schema(two: Hosted) -> None:
    acme, beta = two.tenant(ACME).paastis, two.tenant(BETA).paastis
    where = acme.store.database.location

    if two.settings.database_url:
        assert (where.schema, beta.store.database.location.schema) == ("ws_t0acme", "ws_t0beta")
        assert acme.store.database.rows("select current_schema() as s") == [{"s": "ws_t0acme"}]
        assert not list(two.settings.data_dir.rglob("*.db"))
    else:
        assert where.path != beta.store.database.location.path
        assert where.path.name == f"{ACME}.db"
    assert acme.engine is not beta.engine
    assert acme.store is not beta.store


def test_a_retry_of_an_event_already_received_is_answered_without_acting_again(two: Hosted) -> None:
    opened = {"type": "app_home_opened", "user": ADA, "tab": "home"}
    assert two.event(ACME, opened, "EvHome1").status_code == 200
    assert two.slack.wait_for(lambda: len(two.slack.calls_to("views.publish")) == 1)

    retried = two.event(ACME, opened, "EvHome1", retry=1)
    lost_first = two.event(ACME, opened, "EvHome2", retry=1)  # its first delivery never arrived: acted on

    assert (retried.status_code, lost_first.status_code) == (200, 200)
    assert two.slack.wait_for(lambda: len(two.slack.calls_to("views.publish")) == 2)
    assert not two.slack.wait_for(lambda: len(two.slack.calls_to("views.publish")) > 2, timeout=1.0)


def test_a_sleep_clicked_on_the_home_tab_republishes_it_with_the_plan_and_connections(two: Hosted) -> None:
    response, _ = two.click(ACME, ADA, "paastis.sleep", "fake:shop", home=True)

    assert response.status_code == 200
    assert two.slack.wait_for(lambda: slept(two, ACME))
    assert "Provider connections" in acmes_home(two)


def test_turning_a_page_of_the_home_tab_keeps_the_plan_and_connections(two: Hosted) -> None:
    two.click(ACME, ADA, "paastis.page", "2", home=True)

    acmes_home(two)
