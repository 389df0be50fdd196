"""PAASTIS_DRY_RUN=true over many sweeps: news once, not at every sweep."""

from __future__ import annotations

from bot.chat.notifier import ChannelNotifier
from bot.engine.notices import Notice
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock


class Channel:
    """What the channel sees: the notices rendered as the notifier renders them."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.notifier: ChannelNotifier | None = None

    def __call__(self, notice: Notice) -> None:
        assert self.notifier is not None
        self.texts += [m.text for _, m in self.notifier.render(notice)]


def _dry_run(tmp_path, clock: FakeClock) -> tuple[Harness, Channel]:
    channel = Channel()
    h = Harness(tmp_path / "p.db", clock, dry_run=True, on_notice=channel)
    channel.notifier = ChannelNotifier(poster=None, catalog=h.engine.catalog, clock=clock)  # type: ignore[arg-type]
    return h, channel


def _sweeps(h: Harness, count: int) -> list:
    reports = []
    for _ in range(count):
        h.clock.advance(minutes=1)
        h.discover()
        reports.append(h.sweep())
    return reports


def test_a_dry_run_tells_the_channel_once_and_then_only_of_new_apps(tmp_path, clock: FakeClock) -> None:
    h, channel = _dry_run(tmp_path, clock)
    h.add("review-1")
    h.add("review-2")
    late = h.add("review-3")
    h.discover()
    h.world.steady(late, every=30)  # in use for now
    h.clock.advance(minutes=20)

    reports = _sweeps(h, 10)

    assert channel.texts == ["🧪 Dry run: would put 2 apps to sleep"]
    assert [len(r.of("would_sleep", "still_would_sleep")) for r in reports] == [2] * 10  # still decided each sweep
    assert len(h.events_of("would_sleep")) == 2  # one per app, not one per sweep

    h.world.steady(late, every=None)  # review-3 falls idle: the set grows
    _sweeps(h, 30)

    assert channel.texts[1:] == ["🧪 Dry run: 1 more app would be put to sleep (3 in all)"]
    assert sorted(e["app_name"] for e in h.events_of("would_sleep")) == ["review-1", "review-2", "review-3"]
    assert h.calls("sleep") == 0


def test_an_app_used_again_is_news_again_when_it_falls_idle_again(tmp_path, clock: FakeClock) -> None:
    h, channel = _dry_run(tmp_path, clock)
    app = h.add("review-1")
    h.discover()
    h.clock.advance(minutes=20)
    _sweeps(h, 5)
    assert len(h.events_of("would_sleep")) == 1

    h.world.hit(app)  # someone uses it: a new idle period begins
    _sweeps(h, 5)
    assert len(h.events_of("would_sleep")) == 1  # in use: nothing would sleep

    _sweeps(h, 25)  # idle past its 15 min again
    assert len(h.events_of("would_sleep")) == 2
    assert channel.texts == ["🧪 Dry run: would put 1 app to sleep"] * 2
