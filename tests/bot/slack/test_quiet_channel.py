"""Issue 11, case 1, the way a team lives it: a sleep that keeps failing, with a 10-second
sweep, through the real Slack side (outbound path, listeners) against the fake Slack Web API
(which rate-limits chat.postMessage per channel like Slack) and the real Scalingo client
against the fake Scalingo API, whose scale call answers 500 at every try."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import AppState, ProviderError
from tests.bot.slack.conftest import ALICE
from tests.bot.slack.provider_rig import ProviderRig
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack, walk_texts


@pytest.fixture
def scalingo_rig(tmp_path: Path, clock: FakeClock, slack: FakeSlack) -> Iterator[ProviderRig]:
    rig = ProviderRig(tmp_path, clock, slack, "scalingo")
    rig.add_app("stuck", {"web": 1})
    rig.add_app("busy", {"web": 1}, steady_every=5)
    rig.world.hit("busy", 3)  # in use when Paastis starts
    yield rig
    rig.close()


def test_a_sleep_that_keeps_failing_is_told_once_not_at_every_10_second_sweep(scalingo_rig: ProviderRig) -> None:
    rig, slack = scalingo_rig, scalingo_rig.slack
    rig.world.fail("sleep", "stuck", ProviderError("Internal error"), times=-1)  # HTTP 500 at every try
    rig.paastis.start()  # first discovery and activity check, as `serve` does
    rig.paastis.scheduler.pause()  # the test drives the jobs on the fake clock

    rig.sweeps(every=10, count=6 * 20)  # 20 min of sweeps every 10 s: 120 sweeps, failing tries

    tries = [c.at for c in rig.world.calls if c.operation == "sleep" and c.app == "stuck"]
    gaps = [round((b - a).total_seconds() / 60) for a, b in itertools.pairwise(tries)]
    assert len(tries) >= 3
    assert gaps == [1, 2, 4, 8][: len(gaps)], gaps  # back-off, not one try per sweep
    texts = rig.channel()
    assert len(texts) == 1, texts  # told once, when it started
    assert texts[0].startswith("⚠️ Putting stuck to sleep failed: Scalingo")
    assert "HTTP 500" in texts[0]  # with the reason

    rig.sweeps(every=60, count=5 * 60)  # five more hours: not told again within 6 h
    assert rig.channel() == texts

    # the command a user types meanwhile says the same, and only to them
    answer, _ = rig.ask("status stuck", ALICE)
    assert answer["response_type"] == "ephemeral"
    shown = "\n".join(walk_texts(answer["blocks"]))
    assert re.search(r"⚠️ sleep failed \d+ times since .*HTTP 500.*; next try <!date", shown), shown
    assert "goes to sleep at the next sweep" not in shown

    rig.world.heal()
    rig.sweeps(every=10, count=6 * 60)  # the next try, at most an hour away, works
    assert rig.world.app("stuck").state in (AppState.STOPPING, AppState.SLEEPING)
    texts = rig.channel()
    assert len(texts) == 3, texts
    assert texts[1].startswith("✅ stuck is asleep now, after ")  # once when it recovers
    assert texts[2] == "💤 Put 1 app to sleep"
    assert rig.world.app("busy").state is AppState.RUNNING
    assert not [t for t in texts if "Put 0 apps" in t or "could not be put to sleep" in t]
    assert slack.ratelimited == []  # paced before Slack had to say so
