"""Writes made together, on SQLite and on PostgreSQL alike (the `where` fixture): a write
inside a write, observations of many apps in one transaction, the driver's errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store.database import StoreError
from bot.store.store import Store
from providers.base import Activity, AppState, PaasApp


def apps(*names: str) -> list[PaasApp]:
    return [PaasApp(provider="fake", id=name, name=name, state=AppState.RUNNING) for name in names]


def test_a_write_inside_a_write_that_fails_is_undone_and_the_outer_write_kept(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", apps("a", "b"), clock.now())

    def inner() -> None:
        with store.transaction():
            store.update_app("fake", "b", url="https://b.example")
            raise ValueError("the inner write gives up")

    with store.transaction():
        store.update_app("fake", "a", url="https://a.example")
        with pytest.raises(ValueError, match="gives up"):
            inner()
        store.update_app("fake", "a", problem="kept")
    assert (store.app("fake", "a").url, store.app("fake", "a").problem) == ("https://a.example", "kept")
    assert store.app("fake", "b").url is None
    store.close()


def test_observations_written_together_are_as_if_written_one_by_one(where, clock, tmp_path) -> None:
    together, one_by_one = Store(where), Store(tmp_path / "one_by_one.db")
    now = clock.now()
    seen = [
        ("fake", "a", now, Activity(now - timedelta(minutes=20), now, 3, now - timedelta(minutes=4))),
        ("fake", "b", now, Activity(now - timedelta(minutes=20), now, 0, None, now - timedelta(hours=1))),
        ("fake", "a", now + timedelta(minutes=1), Activity(now, now + timedelta(minutes=1), 0, None)),
    ]
    for store in (together, one_by_one):
        store.sync_apps("fake", apps("a", "b"), now)
    together.record_activities(seen)
    for provider, app_id, at, activity in seen:
        one_by_one.record_activities([(provider, app_id, at, activity)])
    for app_id in ("a", "b"):
        assert together.app("fake", app_id) == one_by_one.app("fake", app_id)
    assert together.database.rows("select count(*) as n from activity") == [{"n": 3}]
    assert together.app("fake", "a").last_activity == now - timedelta(minutes=4)
    together.close()
    one_by_one.close()


def test_a_statement_the_database_refuses_is_a_store_error_and_its_write_is_undone(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", apps("a"), clock.now())

    def refused() -> None:
        with store.transaction() as tx:
            store.update_app("fake", "a", url="https://a.example")
            tx.execute("update apps set no_such_column = 1")

    with pytest.raises(StoreError, match=r"no_such_column|no such column"):
        refused()
    assert store.app("fake", "a").url is None
    store.update_app("fake", "a", url="https://a.example")  # the store goes on
    assert store.app("fake", "a").url == "https://a.example"
    store.close()


def test_percent_signs_and_a_name_bound_twice_read_alike_on_both_databases(where) -> None:
    store = Store(where)
    rows = store.database.rows("select :a || '%' as x, :a as y", a="50")
    assert rows == [{"x": "50%", "y": "50"}]
    store.close()
