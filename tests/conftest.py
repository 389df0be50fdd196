from __future__ import annotations

import pytest

from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock


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
