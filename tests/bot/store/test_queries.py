"""What status, the report and the sweep read by key and page, and the due index, on SQLite
and on PostgreSQL alike (the `where` fixture)."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.store import queries
from bot.store.rows import Keep
from bot.store.store import Store
from providers.base import AppState, PaasApp


def app(name: str, state: AppState = AppState.RUNNING) -> PaasApp:
    return PaasApp(provider="fake", id=name, name=name, state=state)


def observed(store: Store, app_id: str, at) -> None:
    """The activity of `app_id` read at `at`: no request."""
    store.record_activity(
        "fake", app_id, at=at, since=at, until=at, requests=0, last_request_at=None, last_deploy_at=None
    )


@pytest.fixture
def store(where: str):
    opened = Store(where)
    yield opened
    opened.close()


def test_an_app_written_after_the_sweep_read_it_stays_due(store, clock) -> None:
    store.sync_apps("fake", [app("a"), app("b"), app("c")], clock.now())
    assert store.due_apps(clock.now()) == {("fake", "a"), ("fake", "b"), ("fake", "c")}  # new: decided next
    read = {row.app_id: row for row in store.apps()}
    later = clock.now() + timedelta(hours=1)
    store.set_keep("fake", "b", Keep(later, "U1", "ada", None, clock.now()))  # written meanwhile

    written = store.settle([(row.key, later, row.revision) for row in read.values()])

    assert written == 2  # a and c; b was written since it was read
    assert store.due_apps(clock.now()) == {("fake", "b")}
    assert store.due_apps(later) == {("fake", "a"), ("fake", "b"), ("fake", "c")}  # due when their time comes


def test_due_times_compare_in_utc_whatever_the_zone_they_are_given_in(store, clock) -> None:
    store.sync_apps("fake", [app("a")], clock.now())
    row = store.app("fake", "a")
    paris = (clock.now() + timedelta(minutes=30)).astimezone(ZoneInfo("Europe/Paris"))
    store.settle([(row.key, paris, row.revision)])

    assert store.app("fake", "a").due_at == paris.astimezone(UTC)
    assert store.due_apps(clock.now() + timedelta(minutes=29)) == set()
    assert store.due_apps((clock.now() + timedelta(minutes=30)).astimezone(ZoneInfo("America/New_York"))) == {
        ("fake", "a")
    }


def test_each_write_a_decision_reads_makes_the_app_due_again(store, clock) -> None:
    store.sync_apps("fake", [app("a")], clock.now())
    later = clock.now() + timedelta(days=1)

    def settled() -> None:
        store.settle([(("fake", "a"), later, store.app("fake", "a").revision)])
        assert store.due_apps(clock.now()) == set()

    writes = [
        lambda: store.set_state("fake", "a", AppState.SLEEPING, clock.now()),
        lambda: store.record_check_failure("fake", "a", "unreadable", clock.now()),
        lambda: store.app_failed(("fake", "a"), "sleep", "refused", clock.now(), later),
        lambda: store.app_recovered(("fake", "a"), "sleep"),
        lambda: store.set_keep("fake", "a", Keep(later, "U1", "ada", None, clock.now())),
        lambda: store.drop_keep("fake", "a"),
        lambda: store.sync_apps("fake", [PaasApp("fake", "a", "renamed", AppState.RUNNING)], clock.now()),
    ]
    for write in writes:
        settled()
        write()
        assert store.due_apps(clock.now()) == {("fake", "a")}


def test_an_app_gone_is_not_due_and_the_roster_changes_only_with_the_set_of_apps(store, clock) -> None:
    version = store.roster_version()
    store.sync_apps("fake", [app("a"), app("b")], clock.now())
    assert store.roster_version() > version
    version = store.roster_version()
    store.sync_apps("fake", [app("a"), app("b", AppState.SLEEPING)], clock.now())  # a state: same roster
    assert store.roster_version() == version

    store.sync_apps("fake", [app("a")], clock.now())

    assert store.roster_version() > version
    assert store.listed() == [("fake", "a", "a")]
    assert ("fake", "b") not in store.due_apps(clock.now() + timedelta(days=3650))
    store.sync_apps("fake", [app("a"), app("b")], clock.now())
    assert ("fake", "b") in store.due_apps(clock.now())  # found again: decided again


def test_pages_read_by_key_counts_by_state_and_the_apps_the_report_names(store, clock, monkeypatch) -> None:
    monkeypatch.setattr(queries, "CHUNK", 7)  # several `in (…)` reads
    names = [f"app-{i:02d}" for i in range(20)]
    store.sync_apps("fake", [app(n) for n in names] + [app("down", AppState.CRASHED)], clock.now())
    store.sync_apps("other", [PaasApp("other", "x", "x", AppState.SLEEPING)], clock.now())
    week = clock.now() + timedelta(days=7)
    store.record_check_failure("fake", "app-03", "unreadable", week)
    store.update_app("fake", "app-04", last_wake_at=week + timedelta(minutes=1))

    wanted = [("fake", n) for n in names[::2]] + [("other", "x"), ("fake", "missing")]
    assert sorted(row.key for row in store.apps_of(wanted)) == sorted(wanted[:-1])
    assert store.count_states() == {("fake", "running"): 20, ("fake", "crashed"): 1, ("other", "sleeping"): 1}
    assert store.noteworthy(clock.now() - timedelta(days=1)) == {("fake", "down"), ("fake", "app-03")}
    everyone = {("fake", n) for n in [*names, "down"]} | {("other", "x")}
    assert store.noteworthy(week) == everyone - {("fake", "app-04")}  # first seen before, unused since


def test_stale_apps_come_least_recently_read_first_while_the_reader_writes(store, clock, monkeypatch) -> None:
    monkeypatch.setattr(queries, "STALE_BATCH", 4)  # several batches
    names = [f"app-{i:02d}" for i in range(11)]
    store.sync_apps("fake", [app(n) for n in names] + [app("off", AppState.SLEEPING)], clock.now())
    for minutes, name in enumerate(["app-09", "app-02", "app-07"], start=1):
        observed(store, name, clock.now() + timedelta(minutes=minutes))
    read_after = clock.now() + timedelta(hours=1)
    order = []
    for row in store.stale_apps("fake", clock.now() + timedelta(minutes=30)):
        order.append(row.app_id)
        if row.app_id in ("app-00", "app-05"):  # written as it is read: a check that works
            observed(store, row.app_id, read_after)
        else:  # or one that fails: the app stays stale, and is not read twice
            store.record_check_failure("fake", row.app_id, "unreadable", read_after)

    never = [n for n in names if n not in ("app-09", "app-02", "app-07")]
    assert order == [*never, "app-09", "app-02", "app-07"]
