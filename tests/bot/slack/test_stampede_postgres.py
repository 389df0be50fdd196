"""The Slack stampede tests again, with the store on PostgreSQL: twenty Wake clicks at once
still make one wake, on the database several instances share."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

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
