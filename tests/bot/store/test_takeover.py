"""Rows a process follows (a wake, a notice in the outbox) are taken over only once that
process is gone, by one process only, on SQLite and on PostgreSQL alike.

Instances on other hosts are played by rows naming another host: their liveness is their
process's lease (bot/store/liveness.py), as the leadership renews it every 5 s."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.store.outbox import Outbox
from bot.store.rows import InFlightWake, iso
from bot.store.store import Store

ELSEWHERE = "paastis-web-2:7:cafe0001"  # an instance on another host (another container)
LEASE = "process:paastis-web-2:7"


def lease_until(store: Store, at) -> None:
    with store.transaction() as tx:
        tx.upsert("leases", {"name": LEASE, "owner": ELSEWHERE, "expires_at": iso(at)}, ("name",))


def test_a_wake_of_a_live_instance_elsewhere_is_left_to_it_then_taken_over_once_when_it_dies(where, clock) -> None:
    stores = [Store(where) for _ in range(4)]
    try:
        first = stores[0]
        lease_until(first, clock.now() + timedelta(seconds=20))
        wake = InFlightWake("fake", "shop", clock.now(), "U1", "Alice", {"ts": "1"}, ELSEWHERE, clock.now())
        first.begin_wake(wake)
        assert not any(s.take_over_wake(wake, clock.now()) for s in stores)  # alive: its lease runs
        assert all(s.wake_owned_elsewhere(("fake", "shop"), clock.now()) for s in stores)

        clock.advance(seconds=21)  # killed: its lease was not renewed
        with ThreadPoolExecutor(len(stores)) as pool:
            taken = list(pool.map(lambda s: s.take_over_wake(wake, clock.now()), stores))
        assert taken.count(True) == 1
        (row,) = first.wakes_in_flight()
        assert row.owner == stores[taken.index(True)].owner
        assert row.context == {"ts": "1"}  # the Slack message it follows, kept
    finally:
        for store in stores:
            store.close()


def test_a_cli_process_elsewhere_without_a_lease_lives_while_its_heartbeat_is_fresh(where, clock) -> None:
    store = Store(where)
    try:
        wake = InFlightWake("fake", "shop", clock.now(), "cli", "cli", {}, "laptop:42:beef0002", clock.now())
        store.begin_wake(wake)
        assert not store.take_over_wake(wake, clock.now() + timedelta(minutes=1))
        assert store.take_over_wake(wake, clock.now() + timedelta(minutes=3))
    finally:
        store.close()


def test_a_notice_is_never_posted_twice_by_two_instances(where, clock) -> None:
    """Rolling deploy: the old instance still posts its notices while the new one starts."""
    old, new = Outbox(where), Outbox(where)
    try:
        old.add("C0ONE", {"text": "swept 3 apps"}, clock.now())
        old.add("C0ONE", {"text": "woke shop"}, clock.now())
        assert new.take_pending(clock.now()) == []  # the old instance lives: they are its to post
        old.close()  # it stops (or is killed) before Slack took them
        third = Outbox(where)
        with ThreadPoolExecutor(2) as pool:
            taken = list(pool.map(lambda o: o.take_pending(clock.now()), (new, third)))
        third.close()
        texts = sorted(p.payload["text"] for batch in taken for p in batch)
        assert texts == ["swept 3 apps", "woke shop"]  # each taken once, by one of them
        assert [] in taken
    finally:
        new.close()


def test_notices_of_an_instance_on_another_host_are_taken_once_its_lease_expired(where, clock) -> None:
    store, outbox = Store(where), Outbox(where)
    try:
        lease_until(store, clock.now() + timedelta(seconds=20))
        with store.transaction() as tx:
            values = {"channel": "C0ONE", "payload": '{"text": "hi"}', "created_at": iso(clock.now())}
            tx.insert("outbox", {**values, "attempts": 0, "owner": ELSEWHERE})
        assert outbox.take_pending(clock.now()) == []
        assert [p.payload for p in outbox.take_pending(clock.now() + timedelta(seconds=21))] == [{"text": "hi"}]
    finally:
        store.close()
        outbox.close()
