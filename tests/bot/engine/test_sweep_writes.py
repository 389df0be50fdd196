"""The first sweep writes what it read in batches: every app's reading is kept, whatever the batch."""

from __future__ import annotations

import pytest

from bot.engine.sweep import CHECKS_PER_WRITE
from tests.bot.engine.harness import Harness


@pytest.fixture
def h(tmp_path, clock) -> Harness:
    return Harness(tmp_path / "p.db", clock)


def test_a_sweep_over_more_apps_than_a_batch_keeps_every_reading_and_every_failure(h: Harness) -> None:
    names = [h.add(f"app-{i:03d}", steady_every=60 if i % 2 else None) for i in range(CHECKS_PER_WRITE + 30)]
    opaque = names[CHECKS_PER_WRITE - 1]  # in the middle of the first batch
    h.discover()
    h.world.fail("activity", opaque, times=-1)
    h.clock.advance(minutes=20)

    report = h.sweep()

    assert [o.label for o in report.of("check_failed")] == [opaque]
    assert "unavailable" in (h.engine.store.app("fake", opaque).check_error or "")
    readings = h.engine.store.database.rows("select app_id from activity")
    assert sorted(r["app_id"] for r in readings) == sorted(set(names) - {opaque})
    assert all(h.engine.store.app("fake", name).checked_at for name in names if name != opaque)
    slept = {o.label for o in report.of("slept")}
    assert slept == {name for i, name in enumerate(names) if not i % 2 and name != opaque}
