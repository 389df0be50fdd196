"""Paastis stopped (SIGTERM, a deploy) while a wake is in flight: the wake is neither recorded
nor told as failed, its row stays, and the next start (or another instance) completes it."""

from __future__ import annotations

import threading

import pytest

from bot.engine.wake_jobs import Phase, TicketProgress
from bot.errors import ActionRefused
from providers.base import AppState, PaasApp
from providers.fake import FakeProvider, SimulatedPaas
from tests.bot.engine.harness import ADA, Harness
from tests.fakes.clock import FakeClock


class HeldWhileWaking(FakeProvider):
    """A provider whose answer "still waking" is held until `release` (the moment Paastis stops)."""

    def __init__(self, world: SimulatedPaas) -> None:
        super().__init__(world, name="fake", poll_interval=2.0, wake_timeout=120.0)
        self.waking_seen = threading.Event()
        self.release = threading.Event()

    def get_app(self, app_id: str) -> PaasApp:
        app = super().get_app(app_id)
        if app.state is AppState.WAKING and not self.release.is_set():
            self.waking_seen.set()
            self.release.wait(10)
        return app


def test_a_wake_in_flight_when_paastis_stops_is_left_to_the_next_start_which_completes_it(where, clock: FakeClock):
    world = SimulatedPaas(clock)
    provider = HeldWhileWaking(world)
    first = Harness(where, clock, world=world, provider=provider)
    first.add("docs", running=False, boot_seconds=30)
    first.discover()
    ticket = first.engine.wake(first.view("docs"), ADA)
    told: list[TicketProgress] = []
    ticket.follow(told.append)
    assert provider.waking_seen.wait(10)

    stopping = threading.Thread(target=first.engine.shutdown)
    stopping.start()
    provider.release.set()
    stopping.join(10)
    assert not stopping.is_alive()
    assert all(job.done.is_set() for job in ticket.jobs)  # it stopped following at its next step

    assert [p.phase for p in told] == [Phase.WAKING] * len(told)  # never told as failed
    assert first.events_of("wake_failed") == []
    assert [w.app_id for w in first.engine.store.wakes_in_flight()] == [first.view("docs").row.app_id]
    with pytest.raises(ActionRefused, match="restarting"):
        first.engine.wake(first.view("docs"), ADA)  # a stopping Paastis starts no new wake
    first.engine.store.close()

    second = Harness(where, clock, world=world)
    try:
        tickets = second.engine.resume_wakes()
        assert len(tickets) == 1
        assert tickets[0].wait(timeout=30).phase is Phase.UP
        assert first.calls("wake", "docs") == 1
        assert second.engine.store.wakes_in_flight() == []
        assert len(second.events_of("woke")) == 1
    finally:
        second.engine.shutdown()
        second.engine.store.close()
