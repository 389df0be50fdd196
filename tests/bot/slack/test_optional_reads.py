"""Issue 11, case 5: on Clever Cloud, an optional read — the worker count (`GET …/env`), the
favourite domain, the deployments list — that fails or answers 404 degrades what Paastis says,
never the sleep or the wake; a 404 there is never "Clever Cloud has no app …". Through the real
Slack side and the real Clever Cloud client against the fake Clever Cloud API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import AppState
from providers.clever_cloud.fake_api import FakeCleverCloudServer, serve
from providers.clever_cloud.fake_api.deployment import ZONE
from providers.clever_cloud.fake_api.payloads import clever_app_id
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from tests.bot.slack.conftest import ADMIN, ALICE
from tests.bot.slack.provider_rig import ProviderRig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack, walk_texts

OPTIONAL = ("/env", "/vhosts/favourite", "/deployments")


class CleverRig(ProviderRig):
    """The Slack rig on Clever Cloud, with a hand on its fake API (`api.fail_path`)."""

    def __init__(self, tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> None:
        self.server: FakeCleverCloudServer | None = None
        super().__init__(tmp_path, clock, slack, "clever-cloud", start=self._start)

    def _start(self, world: SimulatedPaas) -> FakeDeployment:
        self.server = serve(world, zone=ZONE)
        options = self.server.options(zone=ZONE)
        return FakeDeployment(
            world, options, app_defaults={"zone": ZONE}, app_id=clever_app_id, close=self.server.close
        )

    def fail(self, suffix: str, status: int) -> None:
        assert self.server is not None
        self.server.api.fail_path(suffix, status, times=-1)

    def everything_said(self) -> str:
        """Every text Slack was sent: channel posts, their edits and the answers to commands."""
        assert self.side.poster.flush(timeout=20)
        texts = [json.dumps([m.text, m.blocks, m.edits]) for m in self.slack.messages]
        texts += [json.dumps(r) for uses in self.slack.response_uses.values() for r in uses]
        return "\n".join(texts)


@pytest.fixture
def clever(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[CleverRig]:
    rig = CleverRig(tmp_path, clock, slack)
    yield rig
    rig.close()


CASES = [(suffix, status) for suffix in OPTIONAL for status in (404, 500)]


@pytest.mark.parametrize(("suffix", "status"), [c for c in CASES if c != ("/deployments", 500)])
def test_a_failing_optional_read_never_blocks_the_sleep_nor_the_wake(
    clever: CleverRig, suffix: str, status: int
) -> None:
    rig = clever
    app_id = rig.add_app("api", {"web": 1, "worker": 1}, boot_seconds=30)
    rig.paastis.engine.discover()
    rig.fail(suffix, status)

    rig.clock.advance(minutes=20)  # idle past its 15 minutes
    rig.paastis.engine.sweep()
    rig.clock.advance(minutes=1)

    assert rig.world.app(app_id).state is AppState.SLEEPING
    assert rig.channel() == ["💤 Put 1 app to sleep"]
    assert_wakes(rig, app_id)


def test_unreadable_deployments_keep_the_app_up_saying_why_and_never_block_an_asked_sleep_or_a_wake(
    clever: CleverRig,
) -> None:
    """The deployments also carry the deploys, which are use: while they cannot be read the
    activity is unknown, and unknown activity is never idleness — the sweep leaves the app up
    and status says why. What people ask for still works."""
    rig = clever
    app_id = rig.add_app("api", {"web": 1, "worker": 1}, boot_seconds=30)
    rig.paastis.engine.discover()
    rig.fail("/deployments", 500)
    rig.clock.advance(minutes=20)
    rig.paastis.engine.sweep()
    assert rig.world.app(app_id).state is AppState.RUNNING

    shown = "\n".join(walk_texts(rig.ask("status api", ALICE)[0]["blocks"]))
    assert "activity unreadable" in shown, shown
    assert "HTTP 500 on GET" in shown, shown

    _, key = rig.command("sleep api", ADMIN)
    done = "💤 api is going to sleep"
    assert rig.slack.wait_for(lambda: any(done in r["text"] for r in rig.slack.responses(key)), timeout=20)
    rig.clock.advance(minutes=1)
    assert rig.world.app(app_id).state is AppState.SLEEPING
    assert_wakes(rig, app_id)


def assert_wakes(rig: CleverRig, app_id: str) -> None:
    """`/paastis wake api` brings the app up, and nothing said calls it missing or failed."""
    response, key = rig.command("wake api", ALICE)
    assert response.status == 200
    assert rig.slack.wait_for(lambda: any("is up" in r["text"] for r in rig.slack.responses(key)), timeout=20)
    assert rig.world.app(app_id).state is AppState.RUNNING
    assert rig.wake_calls(app_id) == 1
    said = rig.everything_said()
    assert "has no app" not in said
    assert "failed" not in said
