"""The Slack stampede tests again, with the store on PostgreSQL: twenty Wake clicks at once
still make one wake, on the database several instances share; and a wake an instance that
died was following is completed by another, its message completed once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store.rows import InFlightWake
from tests.bot.slack import conftest, test_stampede
from tests.bot.slack.conftest import Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def rig(tmp_path: Path, clock: FakeClock, slack: FakeSlack, postgres, monkeypatch) -> Iterator[Rig]:
    url = postgres.new_database()
    on_sqlite = conftest.settings_for

    def on_postgres(*args, **kwargs):
        return dataclasses.replace(on_sqlite(*args, **kwargs), database_url=url)

    monkeypatch.setattr(conftest, "settings_for", on_postgres)
    r = Rig(tmp_path, clock, slack)
    assert r.paastis.store.database.kind == "postgresql"
    yield r
    r.close()


def test_twenty_clicks_one_wake_on_postgresql(rig: Rig, slack: FakeSlack) -> None:
    test_stampede.test_twenty_clicks_one_wake_every_click_acknowledged_in_time(rig, slack)


def test_twenty_people_clicking_wake_on_one_notice_on_postgresql(rig: Rig, slack: FakeSlack) -> None:
    test_stampede.test_twenty_people_clicking_wake_on_one_notice_make_one_thread_reply_that_names_them(rig, slack)


@pytest.mark.parametrize(
    ("app", "said"), [("shop-demo", "✅ shop-demo is up in 20 s"), ("hello", "✅ hello is already up")]
)
def test_a_wake_an_instance_that_died_was_following_is_completed_once(rig: Rig, slack: FakeSlack, app, said) -> None:
    now = rig.clock.now()
    url = slack.response_url("clicked")
    context = {"reply": "response_url", "issued_at": now.isoformat(), "url": url, "user": conftest.ALICE}
    dead = "paastis-web-2:7:cafe0001"  # another container, without a lease, silent for 3 minutes
    rig.paastis.store.begin_wake(
        InFlightWake("fake", app, now, conftest.ALICE, "Alice", context, dead, now - timedelta(minutes=3))
    )
    (ticket,) = rig.paastis.engine.resume_wakes(rig.parts.listeners.resume)
    assert ticket.wait(timeout=10).phase.value == "up"
    assert slack.wait_for(lambda: slack.responses("clicked"))
    assert rig.paastis.engine.resume_wakes(rig.parts.listeners.resume) == []  # taken once
    assert [r["text"] for r in slack.responses("clicked")] == [said]
    assert rig.wake_calls(app) == (1 if app == "shop-demo" else 0)
