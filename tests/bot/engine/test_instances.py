"""Two instances (two engines, two stores) on one database and one PaaS, on SQLite and on
PostgreSQL alike: wakes stay single-flight across them, and what one leaves is taken over once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.engine.actors import Actor
from bot.engine.wake_jobs import Phase
from bot.store.rows import InFlightWake
from tests.bot.engine.harness import Harness


def test_twenty_wakes_spread_over_two_instances_make_one_provider_call(where, clock) -> None:
    first = Harness(where, clock)
    second = Harness(where, clock, world=first.world)
    try:
        first.add("review-42", running=False)
        first.discover()  # the leader discovers; the other reads the apps from the database
        barrier = threading.Barrier(20)

        def ask(i: int):
            harness = (first, second)[i % 2]
            view = harness.view("review-42")
            barrier.wait()
            return harness.engine.wake(view, Actor(f"U{i}", f"user {i}"))

        with ThreadPoolExecutor(20) as pool:
            tickets = list(pool.map(ask, range(20)))
        results = [t.wait(timeout=30) for t in tickets]

        assert first.calls("wake", "review-42") == 1
        assert all(r.phase is Phase.UP for r in results)
        assert len(first.engine.store.events(actions=("woke",))) == 1
        assert first.engine.store.wakes_in_flight() == []
    finally:
        for harness in (first, second):
            harness.engine.shutdown()
            harness.engine.store.close()


def test_a_wake_left_by_an_instance_that_died_is_followed_to_its_end_by_one_survivor(where, clock) -> None:
    first = Harness(where, clock)
    first.add("docs", running=False)
    first.discover()
    gone = first.engine.store
    gone.begin_wake(InFlightWake("fake", "docs", clock.now(), "U1", "Alice", {"ts": "1"}, gone.owner, clock.now()))
    first.engine.shutdown()
    gone.close()  # its process is gone: nobody follows that wake now
    survivors = [Harness(where, clock, world=first.world) for _ in range(2)]
    try:
        handed: list[dict] = []
        with ThreadPoolExecutor(2) as pool:
            resumed = list(
                pool.map(lambda h: h.engine.resume_wakes(lambda _t, wake: handed.append(wake.context)), survivors)
            )
        tickets = [t for batch in resumed for t in batch]
        assert len(tickets) == 1  # one survivor took it over
        assert handed == [{"ts": "1"}]  # its Slack message, to complete
        assert tickets[0].wait(timeout=30).phase is Phase.UP
        assert first.calls("wake", "docs") == 1
        assert survivors[0].engine.store.wakes_in_flight() == []
    finally:
        for harness in survivors:
            harness.engine.shutdown()
            harness.engine.store.close()


def test_a_wake_whose_instance_died_after_asking_the_provider_is_told_up_once_not_already_up(where, clock) -> None:
    first = Harness(where, clock)
    first.add("docs", running=False, boot_seconds=5)
    first.discover()
    gone = first.engine.store
    started = clock.now()
    gone.begin_wake(InFlightWake("fake", "docs", started, "U1", "Alice", {"ts": "1"}, gone.owner, started))
    first.provider.wake(first.provider.get_app("docs"), None)  # asked of the provider, then killed
    first.engine.shutdown()
    gone.close()
    clock.advance(seconds=25)  # the app came up before anyone took the wake over
    survivor = Harness(where, clock, world=first.world)
    try:
        tickets = survivor.engine.resume_wakes()
        assert len(tickets) == 1
        progress = tickets[0].wait(timeout=30)
        assert progress.phase is Phase.UP
        assert not progress.main.already_up  # "docs is up in 25 s", the end of the message that followed it
        assert progress.elapsed.total_seconds() >= 25
        assert len(survivor.events_of("woke")) == 1  # recorded once, by the survivor
        assert first.calls("wake", "docs") == 1
        assert survivor.engine.store.wakes_in_flight() == []
    finally:
        survivor.engine.shutdown()
        survivor.engine.store.close()
