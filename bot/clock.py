"""The clock: the only place that reads the time. Always timezone-aware UTC."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from providers.base import Clock

__all__ = ["Clock", "ScaledClock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ScaledClock:
    """Real time sped up `factor` times, for the offline demo; `advance()` jumps ahead.

    Sleeping N clock-seconds takes N / factor real seconds, so an app that "boots in 30 s"
    is up in 1.5 s at factor 20, and the engine reports the simulated 30 s.
    """

    def __init__(self, factor: float = 20.0, start: datetime | None = None) -> None:
        self.factor = factor
        self._origin_real = time.monotonic()
        self._origin = start or datetime.now(UTC)
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin_real) * self.factor
        with self._lock:
            return self._origin + timedelta(seconds=elapsed) + self._offset

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.factor)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()
