"""The due index: a sweep decides only when some app's decision may have changed, and
decides exactly as a sweep that looks at every app each time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.engine.outcomes import SweepReport
from providers.base import AppState, Formation, ProviderError
from tests.bot.engine.harness import ADA, Harness
from tests.fakes.clock import FakeClock

RULES = [
    {"pattern": "^slow-", "app_max_idle_time": 75},
    {"pattern": "^prod-", "protect": True},
    {"pattern": r"^shop-pr(\d+)-front$", "linked_apps": ["shop-pr$1-back"]},
    {"pattern": "^office-", "schedule": "office"},
    {"pattern": "^night-", "schedule": "nights"},
    {"pattern": "^queue$", "manage_workers": True},
]
# the fake clock starts on Monday 2026-11-02 09:00 UTC = 10:00 in Paris
SCHEDULES = {"office": {"awake": "daily 10:00-10:45"}, "nights": {"asleep": "daily 11:30-13:00"}}
APPS = {
    "idle": {},
    "slow-idle": {},
    "busy": {"steady_every": 60},
    "bursty": {},
    "prod-api": {},
    "shop-pr1-front": {"steady_every": 120},
    "shop-pr1-back": {},
    "office-crm": {},
    "night-batch": {"steady_every": 60},
    "flaky": {"steady_every": 60},
    "stubborn": {"steady_every": 60},
    "kept": {"steady_every": 60},
    "worker-only": {"formation": {"worker": 1}},
    "queue": {"formation": {"worker": 1}},
    "restarted": {},
}


def run(path: Path | str, *, full_scan: bool, minutes: int = 240) -> tuple[list[tuple[int, str, str]], int]:
    """The scenario, minute by minute: what each sweep did, and how many sweeps decided."""
    clock = FakeClock()
    h = Harness(path, clock, rules=RULES, schedules=SCHEDULES)
    ids = {
        name: h.add(name, spec.get("formation", {"web": 1}), steady_every=spec.get("steady_every"))
        for name, spec in APPS.items()
    }
    for app_id in ids.values():
        h.world.hit(app_id, 1)  # each used once, a minute before the first sweep
    clock.advance(minutes=1)
    done: list[tuple[int, str, str]] = []
    decided = 0
    for minute in range(minutes):
        if minute == 90:  # after the scheduled apps slept: nothing else forces sweeps to decide
            h.world.steady(ids["stubborn"], None)
            h.world.fail("sleep", ids["stubborn"], ProviderError("the fake PaaS refused"), times=3)
        if minute == 85:
            h.world.steady(ids["kept"], None)
            h.engine.keep(h.view("kept"), clock.now() + timedelta(minutes=37), ADA, "demo")
        if minute in (7, 18, 31):
            h.world.hit(ids["bursty"], 3)
        if minute == 20:
            h.world.fail("activity", ids["flaky"], times=-1)
        if minute == 25:
            h.world.steady(ids["flaky"], None)
        if minute == 45:
            h.world.heal()
        if minute == 60:
            h.world.steady(ids["shop-pr1-front"], None)
        if minute == 100:
            h.world.scale(ids["restarted"], Formation.of(web=1))  # started from the console
        h.discover()
        if full_scan:  # every app due at every sweep: the sweep before the due index
            with h.engine.store.transaction() as db:
                db.execute("update apps set due_at = null")
        decided += h.engine.sweeper._reader() is not None
        report: SweepReport = h.sweep()
        done += [(minute, o.action, o.label) for o in report.outcomes]
        clock.advance(minutes=1)
    states = {name: h.state(name) for name in APPS}
    done += [(minutes, "state", f"{name}={state.value}") for name, state in sorted(states.items())]
    h.engine.shutdown()
    h.engine.store.close()
    return done, decided


@pytest.fixture
def two(where: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    """Two new databases of the kind of `where` (SQLite, PostgreSQL)."""
    if where.startswith("postgresql"):
        return where, request.getfixturevalue("postgres").new_database()
    return where, str(tmp_path / "due.db")


def test_the_due_index_sleeps_exactly_what_deciding_every_app_at_every_sweep_sleeps(two: tuple[str, str]) -> None:
    every_time, all_sweeps = run(two[0], full_scan=True)
    indexed, decided = run(two[1], full_scan=False)

    assert indexed == every_time
    slept = {label for _, kind, label in every_time if kind == "slept"}
    # the scenario covers what decides: timeouts, rules, groups, keeps, windows, failures
    assert {"idle", "slow-idle", "shop-pr1-back", "shop-pr1-front", "office-crm", "night-batch", "kept"} <= slept
    assert {"busy", "prod-api", "worker-only"}.isdisjoint(slept)
    assert any(kind == "sleep_failed" and label == "stubborn" for _, kind, label in every_time)
    assert any(kind == "check_failed" and label == "flaky" for _, kind, label in every_time)
    # and most sweeps had nothing to decide
    assert all_sweeps == 240
    assert decided < all_sweeps / 2


def test_a_sweep_with_nothing_due_reads_no_catalog(where, clock) -> None:
    h = Harness(where, clock)
    for name in ("quiet", "busy"):
        h.world.hit(h.add(name, steady_every=60 if name == "busy" else None))
    clock.advance(minutes=1)
    h.discover()
    h.sweep()  # the first sweep of a process decides every app: both stay up 14 more minutes
    clock.advance(minutes=1)
    built = []
    h.engine.fleet.catalog = lambda: built.append("every app")  # type: ignore[method-assign]
    h.engine.fleet.around = lambda refs, apps=None: built.append(refs)  # type: ignore[method-assign]

    h.discover()
    h.sweep()

    assert built == []
    assert h.state("quiet") is AppState.RUNNING


def test_a_sweep_decides_the_apps_written_since_the_last_one_and_no_other(where, clock) -> None:
    h = Harness(where, clock)
    ids = [h.add(f"app-{i}", steady_every=60) for i in range(5)]
    clock.advance(minutes=1)
    h.discover()
    h.sweep()
    clock.advance(minutes=1)
    h.engine.mark_used(h.view("app-3"))  # someone asked for it in Slack
    decided = []
    around = h.engine.fleet.around
    h.engine.fleet.around = lambda refs, apps=None: decided.append(set(refs)) or around(refs, apps)  # type: ignore[method-assign]

    h.discover()
    h.sweep()

    assert decided == [{("fake", ids[3])}]


def test_a_keep_written_after_the_sweep_read_the_apps_is_never_hidden(where, clock) -> None:
    h = Harness(where, clock)
    h.add("demo")
    h.discover()
    catalog = h.engine.catalog()  # what a sweep read
    h.engine.keep(h.view("demo"), clock.now() + timedelta(hours=2), ADA)  # written meanwhile
    row = catalog.get(("fake", h.world.app("demo").id)).row

    written = h.engine.store.settle([(row.key, clock.now() + timedelta(days=1), row.revision)])

    assert written == 0
    assert row.key in h.engine.store.due_apps(clock.now())


def test_an_app_gone_is_not_due_and_is_decided_again_when_found_again(where, clock) -> None:
    h = Harness(where, clock)
    h.world.hit(h.add("keeper", steady_every=60))
    h.world.hit(h.add("passing"))
    clock.advance(minutes=1)
    h.discover()
    h.sweep()
    h.world.remove_app("passing")
    h.discover()
    h.sweep()
    clock.advance(minutes=1)

    assert h.engine.store.due_apps(clock.now()) == set()

    h.world.hit(h.add("passing"))
    h.discover()
    assert ("fake", "passing") in h.engine.store.due_apps(clock.now())
