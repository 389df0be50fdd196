from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock
from tests.postgres import MISSING, Cluster, binaries, start_cluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/bot/slack/golden/*.json from the current output",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> SimulatedPaas:
    """A simulated PaaS on the test's clock."""
    return SimulatedPaas(clock)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One real PostgreSQL for the whole session; missing binaries fail on CI, skip elsewhere."""
    yield from _cluster()


@pytest.fixture
def lost_postgres() -> Iterator[Cluster]:
    """A PostgreSQL of the test's own, that the test may stop (`pause()`) and start again."""
    yield from _cluster(durable=True)


def _cluster(*, durable: bool = False) -> Iterator[Cluster]:
    folder = binaries()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    cluster = start_cluster(folder, durable=durable)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path) -> str:
    """Where a store lives, on each database: a SQLite file, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "p.db")
    return request.getfixturevalue("postgres").new_database()
