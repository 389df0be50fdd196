"""The SQLite store: migrations, threads, restarts."""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import timedelta

import pytest

from bot.store.store import Store
from providers.base import AppState, Formation, PaasApp


def app(name: str, state: AppState = AppState.RUNNING) -> PaasApp:
    return PaasApp(provider="fake", id=name, name=name, state=state)


def observed(store: Store, *, at, since, requests: int, last_request_at=None) -> None:
    """App `a` was observed over [since, at]: `requests` requests, the last at `last_request_at`."""
    store.record_activity(
        "fake",
        "a",
        at=at,
        since=since,
        until=at,
        requests=requests,
        last_request_at=last_request_at,
        last_deploy_at=None,
    )


def test_migrations_apply_once_and_reopening_keeps_everything(tmp_path, clock) -> None:
    path = tmp_path / "p.db"
    store = Store(path)
    store.sync_apps("fake", [app("a")], clock.now())
    store.record_formation("fake", "a", Formation.of(web=2, worker=1), clock.now())
    store.close()

    again = Store(path)
    row = again.app("fake", "a")
    assert row.recorded_formation == Formation.of(web=2, worker=1)
    applied = [m["name"] for m in again.db["_sqlite_migrations"].rows]
    assert applied == [
        "m001_initial",
        "m002_claims_intents_failures",
        "m003_outbox",
        "m004_first_run",
        "m005_scale",
    ]  # each once, in order
    assert again.db.journal_mode == "wal"


def test_two_threads_write_and_read_back(tmp_path, clock) -> None:
    store = Store(tmp_path / "p.db")
    store.sync_apps("fake", [app(f"app-{i}") for i in range(20)], clock.now())
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(20):
                store.add_event(at=clock.now(), action="kept", actor=f"U{offset}", app_id=f"app-{i}", provider="fake")
                store.record_activity(
                    "fake",
                    f"app-{i}",
                    at=clock.now(),
                    since=clock.now() - timedelta(minutes=5),
                    until=clock.now(),
                    requests=1,
                    last_request_at=clock.now(),
                    last_deploy_at=None,
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(store.events(limit=100)) == 40
    assert all(r.last_request_at == clock.now() for r in store.apps())


def test_an_app_no_longer_listed_is_marked_gone_not_deleted(tmp_path, clock) -> None:
    store = Store(tmp_path / "p.db")
    store.sync_apps("fake", [app("a"), app("b")], clock.now())
    store.sync_apps("fake", [app("a")], clock.now())
    assert [r.app_id for r in store.apps()] == ["a"]
    assert {r.app_id for r in store.apps(include_gone=True)} == {"a", "b"}


def test_an_empty_formation_never_replaces_the_one_to_restore(tmp_path, clock) -> None:
    store = Store(tmp_path / "p.db")
    store.sync_apps("fake", [app("a")], clock.now())
    store.record_formation("fake", "a", Formation.of(web=3), clock.now())
    store.record_formation("fake", "a", Formation.of(web=0), clock.now())
    assert store.app("fake", "a").recorded_formation == Formation.of(web=3)


def test_a_window_without_requests_keeps_the_last_known_one(tmp_path, clock) -> None:
    store = Store(tmp_path / "p.db")
    store.sync_apps("fake", [app("a")], clock.now())
    t0 = clock.now()
    observed(store, at=t0, since=t0 - timedelta(minutes=20), requests=2, last_request_at=t0 - timedelta(minutes=3))
    later = t0 + timedelta(minutes=10)
    observed(store, at=later, since=t0 - timedelta(minutes=2), requests=0)
    assert store.app("fake", "a").last_request_at == t0 - timedelta(minutes=3)


def test_a_gap_in_observation_is_never_read_as_idleness(tmp_path, clock) -> None:
    store = Store(tmp_path / "p.db")
    store.sync_apps("fake", [app("a")], clock.now())
    t0 = clock.now()
    observed(store, at=t0, since=t0 - timedelta(minutes=20), requests=1, last_request_at=t0 - timedelta(minutes=3))
    later = t0 + timedelta(hours=2)  # unobserved for 2 hours, then a window of the last 20 minutes
    observed(store, at=later, since=later - timedelta(minutes=20), requests=0)
    assert store.app("fake", "a").last_request_at == later - timedelta(minutes=20)


def test_a_store_dropped_without_close_closes_its_connections(tmp_path) -> None:
    """Python 3.13 warns about every SQLite connection left open; a dropped Store leaves none."""
    store = Store(tmp_path / "p.db")
    worker = threading.Thread(target=store.apps)  # a connection of another thread
    worker.start()
    worker.join()
    connections = list(store._connections)
    assert len(connections) == 2
    del store, worker
    gc.collect()
    for conn in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("select 1")
