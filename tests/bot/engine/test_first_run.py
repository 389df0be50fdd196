"""The safe first run: a database that never swept sleeps nothing, tells its plan once, and
acts once someone starts Paastis (or PAASTIS_DRY_RUN=false says to act at once)."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.notices import FirstRunPlan, SweepDone
from bot.store.store import Store
from providers.base import AppState
from tests.bot.engine.harness import ADA, Harness


def plans(h: Harness) -> list[FirstRunPlan]:
    return [n for n in h.notices if isinstance(n, FirstRunPlan)]


def fresh(tmp_path, clock, dry_run: bool | None = None) -> Harness:
    """A new database, an idle app and one used 5 minutes ago, half an hour after discovery."""
    h = Harness(tmp_path / "p.db", clock, dry_run=dry_run)
    h.add("idle")
    busy = h.add("busy")
    h.discover()
    h.clock.advance(minutes=30)
    h.world.hit(busy, at=h.clock.now() - timedelta(minutes=5))
    return h


def test_a_fresh_install_sleeps_nothing_and_posts_one_plan(tmp_path, clock) -> None:
    h = fresh(tmp_path, clock)

    first = h.sweep()
    h.clock.advance(minutes=1)
    h.sweep()

    assert h.calls("sleep") == 0
    assert h.state("idle") is AppState.RUNNING
    assert h.state("busy") is AppState.RUNNING
    assert first.dry_run
    assert not first.of("slept", "would_sleep")
    assert not [n for n in h.notices if isinstance(n, SweepDone)]
    (plan,) = plans(h)
    when = {p.label: p.sleeps_at for p in plan.planned}
    assert list(when) == ["idle", "busy"]  # the soonest first
    assert when["idle"] <= h.clock.now()  # would sleep now
    assert when["busy"] == h.clock.now() - timedelta(minutes=6) + timedelta(minutes=15)
    assert not h.engine.started()


def test_start_begins_the_sweeps_at_the_next_one(tmp_path, clock) -> None:
    h = fresh(tmp_path, clock)
    h.sweep()

    assert h.engine.start(ADA) is True
    assert h.engine.start(ADA) is False  # started once; the first start is kept
    report = h.sweep()

    assert [o.label for o in report.of("slept")] == ["idle"]
    assert h.state("busy") is AppState.RUNNING
    (event,) = h.events_of("started")
    assert event["actor_name"] == "Ada"
    assert len(plans(h)) == 1


def test_dry_run_false_acts_from_the_first_sweep_and_posts_no_plan(tmp_path, clock) -> None:
    h = fresh(tmp_path, clock, dry_run=False)

    assert [o.label for o in h.sweep().of("slept")] == ["idle"]
    assert not plans(h)


def test_dry_run_true_never_sleeps_even_once_started(tmp_path, clock) -> None:
    h = fresh(tmp_path, clock, dry_run=True)
    h.engine.start(ADA)

    assert [o.label for o in h.sweep().of("would_sleep")] == ["idle"]
    assert h.calls("sleep") == 0
    assert not h.engine.started()
    assert not plans(h)


def test_the_plan_survives_a_restart_and_is_not_posted_twice(tmp_path, clock) -> None:
    h = fresh(tmp_path, clock)
    h.sweep()
    h.restart()
    h.sweep()
    assert len(plans(h)) == 1
    assert h.calls("sleep") == 0

    h.engine.start(ADA)
    h.restart()  # started survives a restart too
    assert [o.label for o in h.sweep().of("slept")] == ["idle"]


def test_no_plan_is_spent_before_any_app_is_known(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock, dry_run=None)
    h.sweep()  # discovery found nothing yet (a provider down at start)
    h.add("idle")
    h.discover()
    h.sweep()
    (plan,) = plans(h)
    assert [p.label for p in plan.planned] == ["idle"]


def test_a_database_of_an_earlier_version_counts_as_started(tmp_path, clock) -> None:
    """An upgrade keeps sweeping as before: only a database that never knew an app waits."""
    h = Harness(tmp_path / "p.db", clock, dry_run=None)
    h.add("idle")
    h.discover()
    h.engine.shutdown()
    store = h.engine.store
    with store.transaction() as db:  # the database as the previous version left it
        db.execute("DROP TABLE first_run")
        db.execute("DELETE FROM paastis_migrations WHERE name = 'm004_first_run'")
    store.close()
    reopened = Store(tmp_path / "p.db")
    try:
        assert reopened.first_run().started
    finally:
        reopened.close()


def test_a_worker_only_app_is_not_managed_unless_a_rule_opts_it_in(tmp_path, clock) -> None:
    h = Harness(tmp_path / "p.db", clock, dry_run=False)
    h.add("queue", {"worker": 1, "clock": 1})
    h.add("site")
    h.discover()
    clock.advance(minutes=30)

    assert [o.label for o in h.sweep().of("slept")] == ["site"]
    assert h.state("queue") is AppState.RUNNING
    queue = h.engine.find("queue")
    assert not queue.managed
    assert queue.rules.ignored == "no web process: add `manage_workers: true` to a rule to manage it"


def test_an_opted_in_worker_sleeps_by_its_schedule_never_by_missing_router_traffic(tmp_path, clock) -> None:
    # the fake clock starts on Monday 2026-11-02 09:00 UTC = 10:00 in Paris
    h = Harness(
        tmp_path / "p.db",
        clock,
        dry_run=False,
        rules=[{"pattern": "^queue$", "manage_workers": True, "schedule": "nights"}],
        schedules={"nights": {"asleep": "daily 20:00-07:00"}},
    )
    h.add("queue", {"worker": 1})
    h.discover()
    clock.advance(hours=2)  # no request for two hours: says nothing of a worker

    assert h.sweep().of("slept") == []
    queue = h.engine.find("queue")
    assert queue.managed
    assert queue.decision.reason == "sleeps by schedule only: no activity signal for worker apps"
    assert h.calls("activity") == 0  # not even checked: router traffic is not its signal
    clock.advance(hours=8, minutes=1)  # 20:01 in Paris

    assert [o.label for o in h.sweep().of("slept")] == ["queue"]
