"""Issue 12: a worker app (no web process) opted in by `manage_workers` is never put to sleep
for lack of router traffic, and `/paastis status` says why in the words a person reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import AppState
from tests.bot.slack.conftest import ALICE, Rig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack, walk_texts

APPS = [{"name": "queue", "formation": {"worker": 2}}, {"name": "site", "formation": {"web": 1}}]


@pytest.fixture
def workers(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[Rig]:
    rig = Rig(tmp_path, clock, slack, apps=APPS, rules=[{"pattern": "^queue$", "manage_workers": True}])
    yield rig
    rig.close()


def test_an_opted_in_worker_app_says_it_sleeps_by_schedule_only_and_is_not_slept_for_no_traffic(
    workers: Rig, clock: FakeClock
) -> None:
    clock.advance(hours=2)  # no request for two hours: says nothing of a worker
    workers.paastis.engine.sweep()
    assert workers.world.app("queue").state is AppState.RUNNING
    assert workers.world.app("site").state in (AppState.STOPPING, AppState.SLEEPING)

    detail = "\n".join(walk_texts(workers.ask("status queue", ALICE)[0]["blocks"]))
    line = next(t for t in walk_texts(workers.ask("status", ALICE)[0]["blocks"]) if "queue" in t)

    for shown in (detail, line):
        assert "sleeps by schedule only: no activity signal for worker apps" in shown, shown
        assert "sleeps in" not in shown
        assert "activity not checked yet" not in shown
