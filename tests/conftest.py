from __future__ import annotations

import pytest

from providers.fake import SimulatedPaas
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> SimulatedPaas:
    """A simulated PaaS on the test's clock."""
    return SimulatedPaas(clock)
