"""A slow provider in one workspace delays no other; the connect modal of each provider type."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from bot.hosted import modals
from providers.base import ProviderDeps, ProviderSpec
from providers.fake import SimulatedPaas
from providers.fake.deployment import FakeDeployment
from tests.bot.hosted.conftest import ACME, ADA, BETA, CAROL, Hosted
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


class HeldClock(FakeClock):
    """The clock of a provider whose every call waits until `release` is set."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release

    def sleep(self, seconds: float) -> None:
        assert self.release.wait(20), "never released"


def test_a_workspace_whose_provider_hangs_does_not_hold_up_another_workspaces_start(
    tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> None:
    release = threading.Event()
    hanging = SimulatedPaas(HeldClock(release), latency=1.0)  # every call waits for `release`
    FakeDeployment(hanging).populate([{"name": "shop"}], boot_seconds=20.0)

    def deps_for(spec: ProviderSpec) -> ProviderDeps:
        return ProviderDeps(clock=clock, transport=hanging if spec.name == "slow" else None)

    hosted = Hosted(tmp_path, clock, slack, deps_for=deps_for)
    try:
        hosted.install(ACME, "Acme", ADA)
        hosted.install(BETA, "Beta", CAROL)
        hosted.connect_fake(BETA, CAROL, "web")
        release.set()  # Acme's provider answers its check...
        hosted.connect_fake(ACME, ADA, "shop", name="slow")
        release.clear()  # ...then hangs
        hosted.edition.tenants.close()
        hosted.edition.tenants.start = True

        hosted.edition.start_all()

        beta = hosted.edition.tenants.get(BETA, hosted.token(BETA))
        acme = hosted.edition.tenants.get(ACME, hosted.token(ACME))
        assert slack.wait_for(lambda: beta.paastis.scheduler.running, timeout=10)
        assert not acme.paastis.scheduler.running  # still in its first discovery
    finally:
        release.set()
        hosted.close()


def test_every_provider_types_credentials_are_asked_and_none_is_prefilled() -> None:
    for kind in ("scalingo", "clever-cloud"):
        view = modals.connect_view(kind)
        asked = {b["block_id"]: b for b in view["blocks"]}
        assert "name" in asked
        assert len(view["title"]["text"]) <= 24
        for block in asked.values():
            assert len(block["label"]["text"]) <= 150
    clever = {b["block_id"]: b for b in modals.connect_view("clever-cloud")["blocks"]}
    assert set(clever) == {"name", "consumer_key", "consumer_secret", "token", "secret", "zone"}
    assert all(
        "initial_value" not in clever[k]["element"] for k in ("consumer_key", "consumer_secret", "token", "secret")
    )


def test_a_provider_too_slow_for_slacks_3_seconds_gets_checking_then_the_outcome_in_the_same_view(
    tmp_path: Path, clock: FakeClock, slack: FakeSlack
) -> None:
    release = threading.Event()
    slow = SimulatedPaas(HeldClock(release), latency=1.0)
    FakeDeployment(slow).populate([{"name": "shop"}], boot_seconds=20.0)
    hosted = Hosted(tmp_path, clock, slack, deps_for=lambda spec: ProviderDeps(clock=clock, transport=slow))
    try:
        hosted.install(ACME, "Acme", ADA)
        hosted.command(ACME, ADA, "connect fake")
        threading.Timer(3.5, release.set).start()  # the provider answers after Slack's 3 seconds

        started = time.monotonic()
        answer = hosted.submit(ACME, ADA, hosted.slack.opened[-1]["view"], {"apps": "shop"})

        assert time.monotonic() - started < 3.0
        assert "Checking the credentials" in json.dumps(answer.json())
        assert slack.wait_for(lambda: any(o["method"] == "views.update" for o in slack.opened), timeout=10)
        update = next(o for o in slack.opened if o["method"] == "views.update")
        assert update["view_id"] == "V0MODAL"
        assert "Connected *fake*" in json.dumps(update["view"])
        assert [c.name for c in hosted.edition.registry.connections(ACME)] == ["fake"]
    finally:
        release.set()
        hosted.close()
