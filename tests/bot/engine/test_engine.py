"""The engine as a team would notice it: what sleeps, what stays up, what wakes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.engine.actors import Actor
from bot.engine.engine import EngineOptions
from bot.engine.notices import ProviderTrouble, SweepDone, WakeFailed
from bot.engine.wake_jobs import Phase
from bot.errors import ActionRefused
from bot.store.store import InFlightWake
from providers.base import AppState, AuthenticationFailed, Formation, ProviderUnavailable
from tests.bot.engine.harness import ADA, Harness


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    return Harness(tmp_path / "paastis.db", clock)


def test_a_sweep_sleeps_the_idle_app_and_leaves_the_busy_one(h: Harness) -> None:
    h.add("busy", steady_every=60)
    h.add("idle")
    h.discover()
    h.clock.advance(minutes=16)

    report = h.sweep()

    assert [o.label for o in report.of("slept")] == ["idle"]
    assert h.state("idle") in (AppState.STOPPING, AppState.SLEEPING)
    assert h.state("busy") is AppState.RUNNING
    assert isinstance(h.notices[-1], SweepDone)


def test_an_app_is_not_slept_before_its_idle_timeout(h: Harness) -> None:
    app = h.add("quiet")
    h.world.hit(app)  # someone uses it
    h.discover()
    assert h.sweep().of("slept") == []  # first look: used just now
    h.clock.advance(minutes=14)

    assert h.sweep().of("slept") == []
    h.clock.advance(minutes=2)
    assert [o.label for o in h.sweep().of("slept")] == ["quiet"]


def test_an_app_whose_activity_cannot_be_read_is_never_slept(h: Harness) -> None:
    app = h.add("opaque")
    h.discover()
    h.world.fail("activity", app, times=-1)
    h.clock.advance(hours=3)

    report = h.sweep()

    assert report.of("slept") == []
    assert [o.label for o in report.of("check_failed")] == ["opaque"]
    assert h.state("opaque") is AppState.RUNNING
    assert "unavailable" in (h.engine.store.app("fake", app).check_error or "")
    h.world.heal()
    assert [o.label for o in h.sweep().of("slept")] == ["opaque"]


def test_twenty_concurrent_wakes_make_one_provider_call(h: Harness) -> None:
    h.add("review-42", running=False)
    h.discover()
    view = h.view("review-42")
    h.world.latency = 0.0
    tickets, barrier = [], threading.Barrier(20)

    def ask(i: int) -> None:
        barrier.wait()
        tickets.append(h.engine.wake(view, Actor(f"U{i}", f"user {i}")))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [t.wait(timeout=10) for t in tickets]

    assert h.calls("wake", "review-42") == 1
    assert len(results) == 20
    assert all(r.phase is Phase.UP for r in results)
    assert len(h.events_of("woke")) == 1


def test_the_formation_recorded_at_sleep_is_restored_at_wake_also_after_a_restart(h: Harness) -> None:
    h.add("api", {"web": 2, "worker": 1, "clock": 0})
    h.discover()
    h.clock.advance(minutes=20)
    h.sweep()
    h.clock.advance(minutes=1)
    h.discover()
    assert h.state("api") is AppState.SLEEPING

    h.restart()
    progress = h.wake("api")

    assert progress.phase is Phase.UP
    formation = h.world.app("api").formation
    assert (formation.amount("web"), formation.amount("worker"), formation.amount("clock")) == (2, 1, 0)


def test_an_idle_time_of_75_minutes_is_75_minutes(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock, rules=[{"pattern": "^slow-", "app_max_idle_time": 75}])
    app = h.add("slow-staging")
    h.discover()
    h.world.hit(app)
    h.clock.advance(minutes=74)

    assert h.sweep().of("slept") == []
    h.clock.advance(minutes=2)
    assert [o.label for o in h.sweep().of("slept")] == ["slow-staging"]


def test_a_wake_counts_as_activity(h: Harness) -> None:
    h.add("demo", running=False)
    h.discover()
    h.wake("demo")
    h.clock.advance(minutes=10)

    assert h.sweep().of("slept") == []
    h.clock.advance(minutes=6)
    assert [o.label for o in h.sweep().of("slept")] == ["demo"]


def test_a_deploy_counts_as_activity(h: Harness) -> None:
    app = h.add("deployed")
    h.discover()
    h.clock.advance(minutes=10)
    h.world.deploy(app)
    h.clock.advance(minutes=10)
    h.discover()

    assert h.sweep().of("slept") == []


def test_one_failing_app_never_stops_the_sweep(h: Harness) -> None:
    first = h.add("alpha")
    h.add("beta")
    h.discover()
    h.world.fail("sleep", first, ProviderUnavailable("the fake PaaS refused"), times=-1)
    h.clock.advance(minutes=30)

    report = h.sweep()

    assert [o.label for o in report.of("sleep_failed")] == ["alpha"]
    assert [o.label for o in report.of("slept")] == ["beta"]
    assert h.state("alpha") is AppState.RUNNING


def test_dry_run_decides_and_reports_but_sleeps_nothing(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock, dry_run=True)
    h.add("idle")
    h.discover()
    h.clock.advance(minutes=30)

    report = h.sweep()

    assert [o.label for o in report.of("would_sleep")] == ["idle"]
    assert h.state("idle") is AppState.RUNNING
    assert h.calls("sleep") == 0
    assert h.events_of("would_sleep")


def test_a_wake_in_flight_is_resumed_after_a_restart(h: Harness) -> None:
    app = h.add("slow", running=False, boot_seconds=90)
    h.discover()
    # what a crash in the middle of a wake leaves: the provider booting it, a row saying who asked
    h.world.scale(app, Formation.of(web=1))
    h.engine.store.begin_wake(InFlightWake("fake", app, h.clock.now(), "U0ADA", "Ada", {"channel": "C1", "ts": "1.2"}))
    h.restart()

    tickets = h.engine.resume_wakes()

    assert len(tickets) == 1
    assert tickets[0].wait(timeout=10).phase is Phase.UP
    assert h.calls("wake", app) == 0  # it was already booting: followed, not started twice
    assert h.engine.store.wakes_in_flight() == []
    assert h.events_of("woke")[0]["actor_name"] == "Ada"


def test_a_failed_wake_is_reported_with_its_reason(h: Harness) -> None:
    app = h.add("broken", running=False)
    h.discover()
    h.world.fail("boot", app)

    progress = h.wake("broken")

    assert progress.phase is Phase.FAILED
    assert "crashed while booting" in (progress.main.reason or "")
    assert any(isinstance(n, WakeFailed) for n in h.notices)
    assert h.events_of("wake_failed")[0]["actor_name"] == "Ada"


def test_a_kept_app_stays_up_until_its_pin_expires(h: Harness) -> None:
    h.add("client-demo")
    h.discover()
    h.engine.keep(h.view("client-demo"), h.clock.now() + timedelta(hours=2), ADA, "demo with a client")
    h.clock.advance(minutes=90)
    assert h.sweep().of("slept") == []

    h.clock.advance(minutes=31)
    assert [o.label for o in h.sweep().of("slept")] == ["client-demo"]


def test_protected_ignored_and_self_apps_are_never_slept(tmp_path, clock) -> None:
    h = Harness(
        tmp_path / "p.db",
        clock,
        rules=[{"pattern": "^prod-", "protect": True}],
        ignored=["legacy-*"],
        self_app="paastis",
    )
    for name in ("prod-api", "legacy-cms", "paastis", "review-1"):
        h.add(name)
    h.discover()
    h.clock.advance(hours=5)

    assert [o.label for o in h.sweep().of("slept")] == ["review-1"]
    with pytest.raises(ActionRefused, match="protected"):
        h.engine.sleep(h.view("prod-api"), ADA)


def test_a_back_end_reached_only_through_its_front_stays_up_with_it(tmp_path, clock) -> None:
    h = Harness(
        tmp_path / "p.db", clock, rules=[{"pattern": r"^shop-pr(\d+)-front$", "linked_apps": ["shop-pr$1-back"]}]
    )
    front = h.add("shop-pr7-front", steady_every=120)
    h.add("shop-pr7-back")
    h.discover()
    h.clock.advance(minutes=40)

    assert h.sweep().of("slept") == []  # the back gets no request of its own, yet stays up

    h.world.steady(front, None)
    h.clock.advance(minutes=20)
    assert sorted(o.label for o in h.sweep().of("slept")) == ["shop-pr7-back", "shop-pr7-front"]

    h.clock.advance(minutes=1)
    h.discover()
    progress = h.wake("shop-pr7-front")
    assert progress.phase is Phase.UP
    assert [s.label for s in progress.linked] == ["shop-pr7-back"]
    assert h.state("shop-pr7-back") is AppState.RUNNING


def test_a_provider_failing_for_long_is_reported_once(h: Harness) -> None:
    h.add("any")
    h.world.fail("list", times=-1)
    assert h.discover()
    assert not h.notices
    h.clock.advance(minutes=6)
    h.discover()
    h.clock.advance(minutes=1)
    h.discover()

    trouble = [n for n in h.notices if isinstance(n, ProviderTrouble)]
    assert len(trouble) == 1
    assert "down" in trouble[0].error


def test_polling_stays_within_the_api_budget(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock, rate_limit=10)
    for i in range(30):
        h.add(f"app-{i:02d}")
    h.discover()
    h.clock.advance(minutes=20)

    report = h.sweep()

    assert report.of("deferred")  # the rest waits for the next minute, and stays up meanwhile
    snapshot = h.provider.budget()
    assert snapshot is not None
    assert snapshot.used_last_minute <= 10
    slept = len(report.of("slept"))
    assert 0 < slept < 30
    assert sum(h.state(f"app-{i:02d}") is AppState.RUNNING for i in range(30)) == 30 - slept


def test_a_forced_sleep_window_sleeps_apps_in_use_at_its_start(tmp_path, clock) -> None:
    # the fake clock starts on Monday 2026-11-02 09:00 UTC = 10:00 in Paris
    h = Harness(
        tmp_path / "p.db",
        clock,
        rules=[{"pattern": ".*", "schedule": "nights"}],
        schedules={"nights": {"asleep": "daily 20:00-07:00"}},
    )
    h.add("busy", steady_every=60)
    h.discover()
    clock.advance(minutes=2)
    assert h.sweep().of("slept") == []
    clock.advance(hours=9, minutes=59)  # 20:01 in Paris

    assert [o.label for o in h.sweep().of("slept")] == ["busy"]

    clock.advance(minutes=5)
    h.discover()
    h.wake("busy")  # someone needs it tonight: it stays up while used
    clock.advance(minutes=10)
    assert h.sweep().of("slept") == []


def test_sleeping_an_app_records_who_and_why(h: Harness) -> None:
    h.add("api", {"web": 2})
    h.discover()

    outcome = h.engine.sleep(h.view("api"), ADA)[0]

    assert outcome.action == "slept"
    assert outcome.formation == Formation.of(web=2)
    event = h.events_of("slept")[0]
    assert (event["actor"], event["actor_name"], event["reason"]) == ("U0ADA", "Ada", "asked by Ada")


def test_credentials_refused_are_told_at_once_and_logged_once(h: Harness, caplog) -> None:
    h.add("any")
    h.world.fail(
        "list",
        error=AuthenticationFailed("the Scalingo API token was refused: check PROVIDER_SCALINGO_API_TOKEN"),
        times=-1,
    )
    with caplog.at_level("DEBUG", logger="bot.engine.discovery"):
        for _ in range(5):
            h.discover()
            h.clock.advance(minutes=1)

    assert len([n for n in h.notices if isinstance(n, ProviderTrouble)]) == 1
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "provider.failing" in r.getMessage()]
    assert len(warnings) == 1
    assert h.engine.catalog().views == []  # nothing known, so nothing is put to sleep


def test_a_retry_after_a_failed_wake_starts_a_new_wake(h: Harness) -> None:
    app = h.add("flaky", running=False)
    h.discover()
    h.world.fail("boot", app)
    assert h.wake("flaky").phase is Phase.FAILED

    assert h.wake("flaky").phase is Phase.UP
    assert h.calls("wake", app) == 2


def test_an_app_being_woken_shows_as_waking_at_once(h: Harness) -> None:
    h.options = EngineOptions(wake_workers=1)
    h.restart()
    h.add("slow", running=False, boot_seconds=60)
    h.discover()
    view = h.view("slow")
    started = threading.Event()
    h.engine.executor.submit(started.wait)  # the only worker is busy: the wake has not reached the provider
    ticket = h.engine.wake(view, ADA)

    assert h.view("slow").state is AppState.WAKING
    started.set()
    assert ticket.wait(timeout=10).phase is Phase.UP


def test_an_app_started_outside_paastis_stops_counting_as_asleep(h: Harness) -> None:
    app = h.add("review-3")
    h.discover()
    h.clock.advance(minutes=20)
    h.sweep()
    h.clock.advance(minutes=1)
    h.discover()
    h.world.scale(app, Formation.of(web=1))  # someone deploys it from the console
    h.clock.advance(minutes=1)
    h.discover()

    (nap,) = h.engine.store.naps(h.clock.now() - timedelta(hours=1))
    assert nap.end == h.clock.now()
