"""The engine on the real provider clients, over their API fakes."""

from __future__ import annotations

from bot.chat import answers
from bot.engine.notices import ProviderTrouble, WakeFailed
from bot.engine.wake_jobs import Phase
from providers.base import AppState
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from tests.bot.engine.harness import Harness
from tests.providers.kits import make_kit
from tests.providers.scalingo.in_process import API_TOKEN, build_provider


def test_a_failed_clever_cloud_redeploy_is_a_clear_message_and_an_event(tmp_path, clock) -> None:
    kit = make_kit("clever-cloud", clock)
    try:
        h = Harness(tmp_path / "p.db", clock, world=kit.world, provider=kit.provider)
        app_id = kit.add_app("crm-staging", {"web": 1}, running=False)
        h.discover()
        kit.world.fail("boot", app_id)

        progress = h.wake("crm-staging")

        assert progress.phase is Phase.FAILED
        message = answers.wake_progress(progress, h.view("crm-staging").value)
        assert message.text.startswith("❌ Waking crm-staging failed: ")
        assert [b.label for b in message.buttons()] == ["Retry"]
        assert h.events_of("wake_failed")
        assert any(isinstance(n, WakeFailed) for n in h.notices)
        assert kit.world.app(app_id).state is AppState.CRASHED
    finally:
        kit.close()


def test_a_wrong_scalingo_token_is_told_at_once_and_nothing_is_slept(tmp_path, clock) -> None:
    world = SimulatedPaas(clock)
    world.add_app("review-1", formation={"web": 1})
    fake = FakeScalingo({"osc-fr1": world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock, token="tk-us-wrong-token")
    h = Harness(tmp_path / "p.db", clock, world=world, provider=provider)

    for _ in range(3):
        h.discover()
        clock.advance(minutes=20)
        h.sweep()

    trouble = [n for n in h.notices if isinstance(n, ProviderTrouble)]
    assert len(trouble) == 1
    assert "PROVIDER_SCALINGO_API_TOKEN" in trouble[0].error
    assert "tk-us-wrong-token" not in trouble[0].error
    assert world.app("review-1").state is AppState.RUNNING
    provider.close()
