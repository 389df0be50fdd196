"""Several instances on one database (SQLite and PostgreSQL): one leads the scheduled work,
another takes over when it falls silent, a sweep runs once per minute across them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.exc import OperationalError

from bot.engine.leadership import Leadership
from bot.store.store import Store


@pytest.fixture
def instances(where, clock):
    stores = [Store(where), Store(where)]
    yield [Leadership(store, clock) for store in stores]
    for store in stores:
        store.close()


def test_one_instance_runs_the_scheduled_work_and_the_other_only_answers(instances) -> None:
    runs: Counter[str] = Counter()
    first, second = instances
    assert first.renew()
    assert not second.renew()
    for name, leadership in (("first", first), ("second", second)):
        leadership.only_leading(lambda name=name: runs.update([name]), "discover")()
    assert runs == {"first": 1}


def test_a_leader_that_falls_silent_is_replaced_within_30_seconds(instances, clock) -> None:
    first, second = instances
    first.renew()
    waited = 0
    while not second.renew():  # the first was killed: it renews no more; the second tries every 5 s
        clock.advance(seconds=5)
        waited += 5
    assert waited <= 30 - 5
    assert second.leads()
    assert not first.leads()


def test_a_leader_that_lost_the_database_stops_before_another_can_start(instances, clock, monkeypatch) -> None:
    first, second = instances
    first.renew()

    def down(*_args, **_kwargs):
        raise OperationalError("select", {}, Exception("connection refused"))

    monkeypatch.setattr(first.store, "hold_lease", down)
    for _ in range(6):
        clock.advance(seconds=5)
        first.renew()
        second.renew()
        assert not (first.leads() and second.leads())  # never two at once
    assert second.leads()  # took over once the lease ran out: its watchdog had ended the first's lead before


def test_a_sweep_runs_once_per_period_even_with_two_leaders_for_a_moment(instances, clock) -> None:
    sweeps: list[str] = []
    first, second = instances
    first.renew()
    second._until = first._until  # a leader not yet told it lost: the overlap the claim covers
    for leadership, name in ((first, "first"), (second, "second"), (first, "first")):
        leadership.once_per_period(lambda name=name: sweeps.append(name), "sweep")()
        clock.advance(seconds=0.1)  # the other instance's scheduler fired it a little later
    clock.advance(seconds=19)  # a cron with seconds: every 20 s
    first.renew()
    first.once_per_period(lambda: sweeps.append("first"), "sweep")()
    assert sweeps == ["first", "first"]
