"""What fails is news once: a sleep that keeps failing is tried again with back-off and told
when it starts, at most every 6 hours while it lasts, and when it ends (status says so); a
wake that keeps failing is told once; a wake refused because one is under way is no failure."""

from __future__ import annotations

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.chat import answers
from bot.chat.messages import Message, at
from bot.chat.notifier import ChannelNotifier
from bot.engine.actors import Actor
from bot.engine.hooks import NoHooks
from bot.engine.notices import WakeFailed
from bot.engine.wake_jobs import Phase
from providers.base import AppState, Formation, ProviderError
from providers.fake import SimulatedPaas
from providers.scalingo.fake_api import FakeScalingo
from tests.bot.engine.harness import Harness
from tests.providers.scalingo.in_process import API_TOKEN, build_provider

PARIS = ZoneInfo("Europe/Paris")


class Channel:
    """The notifier's poster: what the channel gets, in order."""

    def __init__(self) -> None:
        self.posts: list[Message] = []

    def post(self, message: Message, channel: str | None) -> None:
        self.posts.append(message)


def test_a_sleep_answered_500_at_every_try_is_retried_with_back_off_and_told_once(tmp_path, clock) -> None:
    world = SimulatedPaas(clock)
    world.add_app("stuck", formation={"web": 1})
    fake = FakeScalingo({"osc-fr1": world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock)
    channel = Channel()
    h = Harness(tmp_path / "p.db", clock, world=world, provider=provider)
    notifier = ChannelNotifier(channel, h.engine.catalog, clock)
    h.on_notice = notifier
    world.fail("sleep", "stuck", ProviderError("Internal error"), times=-1)  # the fake answers HTTP 500
    h.discover()

    status_at_ten = None
    for _ in range(7 * 60):  # seven hours of a sweep every minute
        h.discover()
        h.sweep()
        failure = h.engine.store.failures("sleep").get(("scalingo-osc-fr1", "stuck"))
        if failure and failure.count == 10 and status_at_ten is None:
            view = h.view("stuck")
            status_at_ten = (answers.app_line(view, clock.now(), PARIS), failure)
            detail = repr(answers.app_detail(view, [view], clock.now(), PARIS).blocks)
        clock.advance(minutes=1)

    tries = sum(1 for c in world.calls if c.operation == "sleep")
    assert 10 <= tries <= 14  # 1, 2, 4 … 60 min apart: not 420 tries
    texts = [m.text for m in channel.posts]
    assert len(texts) == 2, texts  # when it started, and once 6 hours later
    assert texts[0].startswith("⚠️ Putting stuck to sleep failed: Scalingo")
    assert "HTTP 500" in texts[0]
    assert "It stays up. Next try in 1 min" in texts[0]
    assert texts[1].startswith("⚠️ Putting stuck to sleep still fails:")
    assert not any("Put 0 apps" in t or "could not be put to sleep" in t for t in texts)

    line, failure = status_at_ten
    first, next_try = at(failure.first_at, clock.now(), PARIS), at(failure.next_try_at, clock.now(), PARIS)
    assert f"⚠️ sleep failed 10 times since {first}: Scalingo" in line
    assert line.endswith(f"; next try {next_try}")
    assert first.endswith("|10:00 CET>")  # each reader's own zone in Slack; the team's (09:00 UTC) as text
    assert "goes to sleep at the next sweep" not in line
    assert "Sleeps at:" not in detail

    world.heal()
    for _ in range(61):
        h.discover()
        h.sweep()
        clock.advance(minutes=1)

    assert world.app("stuck").state in (AppState.STOPPING, AppState.SLEEPING)
    texts = [m.text for m in channel.posts]
    assert len(texts) == 4, texts
    assert texts[2].startswith("✅ stuck is asleep now, after ")
    assert texts[3].startswith("💤 Put 1 app to sleep")
    assert h.engine.store.failures("sleep") == {}
    provider.close()


def test_a_wake_that_keeps_failing_is_told_once_then_its_recovery(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock)
    app = h.add("broken", running=False)
    h.discover()
    h.world.fail("boot", app, times=3)

    for i in range(3):
        assert h.wake("broken", Actor(f"U{i}", f"user {i}")).phase.value == "failed"
        clock.advance(minutes=10)

    told = [n for n in h.notices if isinstance(n, WakeFailed)]
    assert len(told) == 1
    assert len(h.events_of("wake_failed")) == 3  # every failure is in the audit log all the same
    assert h.wake("broken").phase.value == "up"
    assert [type(n).__name__ for n in h.notices][-1] == "Recovered"


def test_back_off_is_1_2_4_up_to_60_minutes(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock)
    app = h.add("stuck")
    h.discover()
    h.world.fail("sleep", app, times=-1)
    moments = []
    for _ in range(300):
        before = h.calls("sleep", app)
        h.sweep()
        if h.calls("sleep", app) > before:
            moments.append(clock.now())
        clock.advance(minutes=1)

    gaps = [int((b - a) / timedelta(minutes=1)) for a, b in itertools.pairwise(moments)]
    assert gaps[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert set(gaps[6:]) == {60}


def test_a_409_already_being_scaled_on_wake_is_followed_not_failed(tmp_path, clock) -> None:
    world = SimulatedPaas(clock)
    world.add_app("sleepy", running=False, boot_seconds=10)
    fake = FakeScalingo({"osc-fr1": world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock)

    class SomeoneElseScalesFirst(NoHooks):
        def before_start(self, view, reason) -> None:  # between our look at the app and our scale
            world.scale("sleepy", Formation.of(web=1))

    h = Harness(tmp_path / "p.db", clock, world=world, provider=provider, hooks=SomeoneElseScalesFirst())
    h.discover()

    progress = h.wake("sleepy")

    assert [r.status for r in fake.received if r.path.endswith("/scale")] == [409]
    assert progress.phase is Phase.UP
    assert not h.events_of("wake_failed")
    assert not any(isinstance(n, WakeFailed) for n in h.notices)
    provider.close()
