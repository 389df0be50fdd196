"""PostgreSQL stops in the middle of a sweep (an outage, a failover of the add-on): nothing
more is done on state Paastis cannot record, readiness says so with the fix, and Paastis
carries on by itself once the database is back — never a traceback."""

from __future__ import annotations

import logging

from bot.engine.leadership import Leadership
from providers.base import AppState
from providers.fake import FakeProvider
from tests.bot.engine.harness import Harness


class LosesTheDatabaseAtTheFirstSleep(FakeProvider):
    """The provider takes the first sleep; the database goes down right after."""

    def __init__(self, world, stop_database) -> None:
        super().__init__(world, name="fake", poll_interval=2.0, wake_timeout=120.0)
        self.stop_database = stop_database

    def sleep(self, app):
        formation = super().sleep(app)
        if self.stop_database:
            self.stop_database()
            self.stop_database = None
        return formation


def test_a_database_lost_mid_sweep_stops_the_sweep_is_told_with_its_fix_and_recovers(
    lost_postgres, clock, world, caplog
) -> None:
    provider = LosesTheDatabaseAtTheFirstSleep(world, lost_postgres.pause)
    h = Harness(lost_postgres.new_database(), clock, world=world, provider=provider)
    leadership = Leadership(h.engine.store, clock)
    names = [h.add(f"idle-{n}", {"web": 2}) for n in range(4)]
    h.discover()
    clock.advance(minutes=16)
    assert leadership.renew()

    sweep = leadership.once_per_period(h.engine.sweep, "sweep")  # as the scheduler runs it
    with caplog.at_level(logging.INFO):
        sweep()
        for _ in range(5):  # the leader's renewals meanwhile
            clock.advance(seconds=5)
            leadership.renew()

        slept = [n for n in names if world.app(n).state is not AppState.RUNNING]
        assert len(slept) == 1  # the one the provider took before the database went: no other
        assert h.calls("sleep") == 1
        assert not leadership.leads()  # the watchdog ended the lead: no scheduled work on unknown state
        (problem,) = h.engine.problems()
        assert "cannot be written" in problem
        assert "check the host, port, user, password and database name in DATABASE_URL" in problem
        assert "job.database_lost job=sweep" in caplog.text

        lost_postgres.resume()
        clock.advance(seconds=5)
        assert leadership.renew()  # back: the lead is taken again
        assert h.engine.problems() == []
        h.discover()
        app = h.engine.store.app("fake", slept[0])  # what a wake restores was kept
        assert app.recorded_formation is not None
        assert app.recorded_formation.amount("web") == 2
        assert h.engine.store.events(actions=("slept",)) == []  # its record was cut short
        h.engine.reconcile()  # as the leader does every 10 s: the sleep is finished, recorded once
        assert [e.app_id for e in h.engine.store.events(actions=("slept",))] == [slept[0]]
        assert h.engine.store.sleep_intents() == []
        clock.advance(minutes=1)
        assert leadership.renew()
        sweep()
        assert all(world.app(n).state is not AppState.RUNNING for n in names)  # the sweep goes on

    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    h.engine.shutdown()
    h.engine.store.close()
