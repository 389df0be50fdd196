"""Moving to PostgreSQL: a SQLite file of an earlier Paastis copied whole, once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.store.copying import copy_database
from bot.store.database import Database
from bot.store.files import StoreUnusable
from bot.store.store import Store
from providers.base import Formation

LEGACY = Path(__file__).parent / "legacy_m004.db"


def test_a_sqlite_file_is_copied_into_postgresql_with_its_history(postgres, tmp_path, clock) -> None:
    source = tmp_path / "p.db"
    shutil.copy(LEGACY, source)
    target = Database(postgres.new_database())
    try:
        counts = copy_database(source, target)
        assert counts["apps"] == 2
        assert counts["outbox"] == 1
        with pytest.raises(StoreUnusable, match=r"already holds data \(apps, events, keeps, naps, outbox\)"):
            copy_database(source, target)
        assert copy_database(source, target, force=True) == counts
    finally:
        target.close()
    store = Store(target.location)
    try:
        assert store.app("fake", "blog").recorded_formation == Formation.of(web=3, worker=1)
        assert [e.action for e in store.events()] == ["slept"]
        later = store.add_event(at=clock.now(), action="woke", actor="U1")  # ids go on after the copied ones
        assert later > store.events()[-1].id
    finally:
        store.close()


def test_a_missing_file_is_named(postgres, tmp_path) -> None:
    target = Database(postgres.new_database())
    with pytest.raises(StoreUnusable, match="does not exist"):
        copy_database(tmp_path / "nope.db", target)
    target.close()
