"""Issue 11, case 4: "up" is told within 2 s of the provider running the app — through the real
Slack listeners (`/paastis wake`) and the real Scalingo and Clever Cloud clients over their fake
APIs, in simulated time: the clock moves only while the wake waits for its next look at the
provider, so the lag measured is what the following costs, never how busy this machine is
(real-time figures are `make bench`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import AppState
from tests.bot.slack.conftest import ALICE
from tests.bot.slack.provider_rig import ProviderRig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


@pytest.fixture(params=["scalingo", "clever-cloud"])
def provider_rig(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> Iterator[ProviderRig]:
    rig = ProviderRig(tmp_path, clock, slack, request.param)
    yield rig
    rig.close()


@pytest.mark.parametrize("boot_seconds", [3, 150])  # a Scalingo boot; a Clever Cloud redeploy takes minutes
def test_the_wake_command_says_up_within_2_s_of_the_provider_running_the_app(
    provider_rig: ProviderRig, boot_seconds: int
) -> None:
    rig, slack = provider_rig, provider_rig.slack
    app_id = rig.add_app("review-42", running=False, boot_seconds=boot_seconds)
    rig.paastis.engine.discover()
    rig.clock.advance(seconds=0.3)  # off the whole second: the provider's boot ends between two looks

    response, key = rig.command("wake review-42", ALICE)
    assert response.status == 200

    assert slack.wait_for(lambda: any("is up" in r["text"] for r in slack.responses(key)), timeout=20)
    told_at = rig.clock.now()  # the clock stands still once the wake stopped looking
    ran_at = rig.world.app(app_id).operations[-1].ends_at  # when the fake API began reporting it running
    assert rig.world.app(app_id).state is AppState.RUNNING
    lag = (told_at - ran_at).total_seconds()
    assert 0 <= lag <= 2.0, lag
    texts = [r["text"] for r in slack.responses(key)]
    assert texts[-1].startswith("✅ review-42 is up in"), texts
    assert rig.wake_calls(app_id) == 1
