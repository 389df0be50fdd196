"""The store, on SQLite and on PostgreSQL alike (the `where` fixture): migrations, threads, restarts."""

from __future__ import annotations

import gc
import shutil
import socket
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import migrations
from bot.store.migrations import MIGRATIONS
from bot.store.outbox import Outbox
from bot.store.store import Store, StoreUnusable
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


def test_migrations_apply_once_and_reopening_keeps_everything(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", [app("a")], clock.now())
    store.record_formation("fake", "a", Formation.of(web=2, worker=1), clock.now())
    store.close()

    again = Store(where)
    row = again.app("fake", "a")
    assert row.recorded_formation == Formation.of(web=2, worker=1)
    applied = [m["name"] for m in again.database.rows("select name from paastis_migrations order by name")]
    assert applied == [m.__name__ for m in MIGRATIONS]  # each once
    assert migrations.status(again.database) == (applied, [])
    again.close()


def test_sqlite_keeps_its_write_ahead_journal(tmp_path) -> None:
    store = Store(tmp_path / "p.db")
    assert store.database.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    store.close()


def test_two_threads_write_and_read_back(where, clock) -> None:
    store = Store(where)
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


def test_an_app_no_longer_listed_is_marked_gone_not_deleted(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", [app("a"), app("b")], clock.now())
    store.sync_apps("fake", [app("a")], clock.now())
    assert [r.app_id for r in store.apps()] == ["a"]
    assert {r.app_id for r in store.apps(include_gone=True)} == {"a", "b"}


def test_an_empty_formation_never_replaces_the_one_to_restore(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", [app("a")], clock.now())
    store.record_formation("fake", "a", Formation.of(web=3), clock.now())
    store.record_formation("fake", "a", Formation.of(web=0), clock.now())
    assert store.app("fake", "a").recorded_formation == Formation.of(web=3)


def test_a_window_without_requests_keeps_the_last_known_one(where, clock) -> None:
    store = Store(where)
    store.sync_apps("fake", [app("a")], clock.now())
    t0 = clock.now()
    observed(store, at=t0, since=t0 - timedelta(minutes=20), requests=2, last_request_at=t0 - timedelta(minutes=3))
    later = t0 + timedelta(minutes=10)
    observed(store, at=later, since=t0 - timedelta(minutes=2), requests=0)
    assert store.app("fake", "a").last_request_at == t0 - timedelta(minutes=3)


def test_a_gap_in_observation_is_never_read_as_idleness(where, clock) -> None:
    store = Store(where)
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
    connections = list(store.database.connections)
    assert len(connections) == 2
    del store, worker
    gc.collect()
    for conn in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("select 1")


LEGACY = Path(__file__).parent / "legacy_m004.db"  # written by Paastis 3e2177b (sqlite-utils migrations m001–m004)


def test_a_database_file_of_the_previous_version_is_adopted_as_it_is(tmp_path) -> None:
    path = tmp_path / "p.db"
    shutil.copy(LEGACY, path)
    store = Store(path)
    try:
        blog = store.app("fake", "blog")
        assert blog.recorded_formation == Formation.of(web=3, worker=1)  # what a wake restores
        assert [n.formation for n in store.naps(blog.first_seen)] == [Formation.of(web=3, worker=1)]
        assert not store.first_run().started  # as m004 left it in that file: not run again
        assert [e.action for e in store.events()] == ["slept"]
        assert store.keeps(blog.first_seen)[("fake", "shop")].by_name == "ada"
        applied, pending = migrations.status(store.database)
        assert applied[:4] == ["m001_initial", "m002_claims_intents_failures", "m003_outbox", "m004_first_run"]
        assert pending == []
    finally:
        store.close()
    outbox = Outbox(path)
    assert [p.payload for p in outbox.pending()] == [{"text": "hello"}]
    outbox.close()


def test_a_database_migrated_by_a_newer_paastis_is_refused_untouched(where, clock) -> None:
    store = Store(where)
    with store.transaction() as tx:
        tx.insert("paastis_migrations", {"name": "m999_from_the_future", "applied_at": "2030-01-01"})
    store.close()
    with pytest.raises(StoreUnusable, match=r"migrated by a newer Paastis \(m999_from_the_future"):
        Store(where)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("mysql://u:secret@db/paastis", "starts with mysql://, which Paastis cannot use"),
        ("postgresql://u:secret@db:5432", "names no database"),
        ("postgresql://u:secret@db:notaport/x", "not a valid URL"),
    ],
)
def test_a_wrong_database_url_is_named_with_its_fix_and_no_password(url, why) -> None:
    with pytest.raises(StoreUnusable, match=why) as caught:
        Store(url)
    assert "secret" not in str(caught.value)
    assert "postgresql://user:password@host:5432/name" in str(caught.value)


def test_an_unreachable_or_refusing_postgresql_is_told_plainly(postgres) -> None:
    with pytest.raises(StoreUnusable, match="cannot be used: connection") as caught:
        Store(f"postgresql://paastis:secret@127.0.0.1:{_free_port()}/paastis")
    assert "secret" not in str(caught.value)
    with pytest.raises(StoreUnusable, match='database "nope" does not exist'):
        Store(postgres.url("nope"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_one_instance_holds_the_lease_until_it_expires(where, clock) -> None:
    first, second = Store(where), Store(where)
    try:
        ttl = timedelta(seconds=20)
        assert first.hold_lease("scheduler", clock.now(), ttl)
        assert not second.hold_lease("scheduler", clock.now(), ttl)
        clock.advance(seconds=15)
        assert first.hold_lease("scheduler", clock.now(), ttl)  # renewed in time
        clock.advance(seconds=15)
        assert not second.hold_lease("scheduler", clock.now(), ttl)
        assert second.lease_holder("scheduler", clock.now()) == first.owner
        clock.advance(seconds=21)  # the leader fell silent
        assert second.hold_lease("scheduler", clock.now(), ttl)
        assert not first.hold_lease("scheduler", clock.now(), ttl)
    finally:
        first.close()
        second.close()


def test_a_period_of_a_job_is_claimed_once_across_instances(where, clock) -> None:
    stores = [Store(where) for _ in range(3)]
    try:
        period = clock.now().replace(second=0, microsecond=0)
        claims = [s.claim_run("sweep", period, clock.now()) for s in stores * 2]
        assert claims.count(True) == 1
        assert stores[1].claim_run("sweep", period + timedelta(minutes=1), clock.now())
    finally:
        for s in stores:
            s.close()
