"""Two hosted instances on one PostgreSQL (two in-process servers, as two web dynos behind a
load balancer): an install may finish on the other instance, each workspace's scheduled work
runs on one instance only, and a token is rotated once however many instances try."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from cryptography.fernet import Fernet

from bot.engine.jobs import configure_scheduler
from bot.engine.leadership import RENEW
from tests.bot.hosted.conftest import ACME, ADA, BETA, CAROL, Hosted
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack
from tests.postgres import Cluster


@pytest.fixture
def pair(tmp_path: Path, clock: FakeClock, slack: FakeSlack, postgres: Cluster) -> Iterator[tuple[Hosted, Hosted]]:
    shared = {"database_url": postgres.new_database(), "secret_key": Fernet.generate_key().decode()}
    a = Hosted(tmp_path / "a", clock, slack, **shared)
    b = Hosted(tmp_path / "b", clock, slack, **shared)
    yield a, b
    a.close()
    b.close()


def install_across(start: Hosted, finish: Hosted, team: str, name: str, installer: str) -> httpx.Response:
    """The Add to Slack page served by `start`, Slack's redirect landing on `finish`."""
    with httpx.Client(base_url=str(start.http.base_url), timeout=10) as browser:
        state = start.install_page(browser)
        code = start.slack.authorize(team, name, installer)
        return browser.get(f"{finish.http.base_url}/slack/oauth_redirect", params={"code": code, "state": state})


def run_scheduled_work(hosted: Hosted, team: str) -> None:
    """What the workspace's scheduler runs on that instance: take or renew the lead, then the
    jobs (each runs only when this instance leads that workspace)."""
    paastis = hosted.tenant(team).paastis
    paastis.leadership.renew()
    scheduler = BackgroundScheduler(timezone="UTC")  # never started: its jobs are run here, once each
    configure_scheduler(
        scheduler,
        paastis.engine,
        paastis.schedules,
        sweep_cron=paastis.settings.sweep_cron,
        report_cron=paastis.settings.report_cron,
        timezone=paastis.settings.timezone,
        post_report=lambda: None,
        leadership=paastis.leadership,
        take_over=lambda: None,
    )
    for job in scheduler.get_jobs():
        if job.id in ("discover", "observe", "sweep"):
            job.func()


def provider_calls(hosted: Hosted, team: str) -> int:
    return len(hosted.world(team).calls)


def test_an_install_started_on_one_instance_completes_on_the_other_and_its_state_is_good_once(
    pair: tuple[Hosted, Hosted],
) -> None:
    a, b = pair

    answer = install_across(a, b, ACME, "Acme", ADA)

    assert answer.status_code == 200, answer.text
    assert "Paastis is installed in Acme" in answer.text
    assert a.edition.registry.workspace(ACME).installer == ADA
    assert "Connected" in a.connect_fake(ACME, ADA, "shop").text  # and used from the first instance
    assert b.edition.registry.connections(ACME)[0].name == "fake"
    with httpx.Client(base_url=str(a.http.base_url), timeout=10) as browser:
        state = a.install_page(browser)
        code = a.slack.authorize(BETA, "Beta", CAROL)
        assert browser.get("/slack/oauth_redirect", params={"code": code, "state": state}).status_code == 200
        replayed = browser.get(f"{b.http.base_url}/slack/oauth_redirect", params={"code": code, "state": state})
    assert replayed.status_code != 200
    assert "expired or was already used" in replayed.text


def test_each_workspaces_scheduled_work_runs_on_one_instance_which_may_differ_per_workspace(
    pair: tuple[Hosted, Hosted],
) -> None:
    a, b = pair
    for team, name, user in ((ACME, "Acme", ADA), (BETA, "Beta", CAROL)):
        install_across(a, b, team, name, user)
        assert "Connected" in a.connect_fake(team, user, "shop, blog").text
    a.tenant(ACME).paastis.leadership.renew()  # the first instance leads Acme, the second Beta
    b.tenant(BETA).paastis.leadership.renew()

    for _ in range(15):  # 75 seconds, each instance's jobs every 5 seconds (the lease's pace)
        for hosted in (a, b):
            for team in (ACME, BETA):
                run_scheduled_work(hosted, team)
        a.clock.advance(seconds=RENEW.total_seconds())

    assert provider_calls(a, ACME) > 0
    assert provider_calls(b, ACME) == 0
    assert provider_calls(b, BETA) > 0
    assert provider_calls(a, BETA) == 0
    leases = {
        team: a.edition.registry.database.one(f'select owner from "ws_{team.lower()}".leases')["owner"]
        for team in (ACME, BETA)
    }
    assert leases == {ACME: a.tenant(ACME).paastis.store.owner, BETA: b.tenant(BETA).paastis.store.owner}


def test_two_instances_rotating_at_once_spend_the_refresh_token_once(pair: tuple[Hosted, Hosted]) -> None:
    a, b = pair
    a.slack.expires_in = 3600  # due within the 4 hours the keepers look ahead
    install_across(a, b, ACME, "Acme", ADA)
    a.slack.expires_in = 12 * 3600
    a.slack.delay("oauth.v2.access", 0.5)  # a slow exchange: both instances are due at the same moment
    refreshes_before = len(a.slack.calls_to("oauth.v2.access"))
    rotated: dict[str, list[str]] = {}
    go = threading.Barrier(2)

    def rotate(name: str, hosted: Hosted) -> None:
        go.wait()
        rotated[name] = hosted.edition.tokens.rotate_due()

    threads = [threading.Thread(target=rotate, args=(n, h)) for n, h in (("a", a), ("b", b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(a.slack.calls_to("oauth.v2.access")) - refreshes_before == 1
    assert sorted(rotated.values()) == [[], [ACME]]
    seen = {h.edition.installations.find_installation(enterprise_id=None, team_id=ACME).bot_token for h in (a, b)}
    assert len(seen) == 1


def test_what_one_instance_changes_the_other_catches_up_with_a_connection_added_then_an_uninstall(
    pair: tuple[Hosted, Hosted],
) -> None:
    a, b = pair
    install_across(a, b, ACME, "Acme", ADA)
    a.connect_fake(ACME, ADA, "shop")
    assert sorted(b.tenant(ACME).paastis.providers) == ["fake"]  # the second instance runs Acme too
    assert b.edition.tenants.refresh() == []  # nothing changed: nothing rebuilt
    a.edition.registry.set_plan(ACME, "team", None)

    assert "Connected" in a.connect_fake(ACME, ADA, "blog", name="second").text
    assert b.edition.tenants.refresh() == [ACME]

    assert sorted(b.tenant(ACME).paastis.providers) == ["fake", "second"]
    a.slack.revoke(ACME)
    a.event(ACME, {"type": "app_uninstalled"})
    assert a.slack.wait_for(lambda: a.edition.registry.workspace(ACME).uninstalled_at is not None)
    assert [t.team_id for t in b.edition.tenants.running()] == [ACME]  # its credentials still in memory there…
    assert b.edition.tenants.refresh() == [ACME]
    assert b.edition.tenants.running() == []  # … until it caught up: nothing of Acme runs anywhere
