"""The v4 access-log streams of the fake Clever Cloud API (ACTIVITY.md §2.2).

    GET …/accesslogs?since=&until=&limit=    (Last-Event-ID: resume after that event)

    with `until` reached:   the window's ACCESS_LOGs, oldest first, each with `id:`, then
                            END_OF_STREAM {"endedBy": "UNTIL_REACHED"}
    otherwise (live):       ACCESS_LOGs as the world's requests happen (seen within LIVE_TICK
                            of real time), a HEARTBEAT every `heartbeat_seconds` of real time,
                            until `until` passes on the world's clock, or forever
    `limit` reached:        END_OF_STREAM {"endedBy": "LIMIT_REACHED"} (a departure: that
                            value is not documented)

Event ids are `<epoch ms>-<rank among the requests of that ms>`, stable across queries
that share `since`, which is what a resumed query sends. Dates are rounded up to the
millisecond, so that nobody sees a request earlier than it happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from providers.base import OperationRejected
from providers.clever_cloud.fake_api.payloads import access_log_json, ms
from providers.fake import SimApp, SimulatedPaas

LIVE_TICK = 0.1  # seconds between two looks at the world for new requests while streaming live
FAULTS = ("cut", "silence", "garbage", "slow_start")


@dataclass
class StreamFault:
    """`cut` closes the stream, `silence` stops every byte for `seconds` (then cuts), `garbage`
    sends an unreadable ACCESS_LOG; each after `after` access logs, for `times` streams
    (-1: every stream). `slow_start` holds the answer's first bytes (its headers) for
    `seconds`, then streams normally."""

    kind: str
    after: int = 0
    times: int = 1
    seconds: float = 1.0


class AccessLogStreams:
    """Opens the streams of one fake API, spoils those it is told to, ends them on close."""

    def __init__(self, world: SimulatedPaas, *, heartbeat_seconds: float = 2.0) -> None:
        self.world = world
        self.heartbeat_seconds = heartbeat_seconds
        self._faults: list[StreamFault] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def fault(self, fault: StreamFault) -> None:
        if fault.kind not in FAULTS:
            raise ValueError(f"unknown stream fault {fault.kind!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append(fault)

    def close(self) -> None:
        """End every open stream without END_OF_STREAM, like a server going away."""
        self._closed.set()

    def open(self, app: SimApp, zone: str, query: Mapping[str, str], last_event_id: str | None) -> Iterator[bytes]:
        try:
            since = _when(query.get("since")) or self.world.clock.now()
            until = _when(query.get("until"))
            limit = int(query["limit"]) if query.get("limit") else None
        except ValueError as exc:
            raise OperationRejected(f"bad query parameter: {exc}") from None
        with self._lock:
            fault = self._take_fault()
        return self._stream(app, zone, since, until, limit, _event_key(last_event_id), fault)

    def _stream(
        self,
        app: SimApp,
        zone: str,
        since: datetime,
        until: datetime | None,
        limit: int | None,
        after: tuple[int, int],
        fault: StreamFault | None,
    ) -> Iterator[bytes]:
        if fault and fault.kind == "slow_start":
            self._closed.wait(fault.seconds)
            fault = None
        yield b""  # WSGI sends the headers with the first chunk: send them now, as the API does
        sent, next_beat = 0, time.monotonic()
        while True:
            now = self.world.clock.now()
            for key, when in _keyed(self.world.request_times(app.id, since, min(until, now) if until else now)):
                if key <= after:
                    continue
                if fault and sent >= fault.after:
                    yield from _faulted(fault, self._closed)
                    return
                event_id = f"{key[0]}-{key[1]}"
                yield _sse("ACCESS_LOG", json.dumps(access_log_json(app, when, event_id, zone)), event_id)
                after, sent = key, sent + 1
                if limit is not None and sent >= limit:
                    yield _sse("END_OF_STREAM", json.dumps({"endedBy": "LIMIT_REACHED"}))
                    return
            if fault and sent >= fault.after:
                yield from _faulted(fault, self._closed)
                return
            if until and now >= until:
                yield _sse("END_OF_STREAM", json.dumps({"endedBy": "UNTIL_REACHED"}))
                return
            if time.monotonic() >= next_beat:
                yield _sse("HEARTBEAT", "{}")
                next_beat = time.monotonic() + self.heartbeat_seconds
            if self._closed.wait(min(LIVE_TICK, self.heartbeat_seconds)):
                return

    def _take_fault(self) -> StreamFault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        if fault.times > 0:
            fault.times -= 1
            if fault.times == 0:
                self._faults.pop(0)
        return fault


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return when


def _keyed(times: list[datetime]) -> Iterator[tuple[tuple[int, int], datetime]]:
    """Requests keyed (epoch ms, rank among those of the same ms): the stream's event ids."""
    previous, rank = None, 0
    for when in times:
        stamp = ms(when)
        rank = rank + 1 if stamp == previous else 0
        previous = stamp
        yield (stamp, rank), when


def _event_key(event_id: str | None) -> tuple[int, int]:
    """The key of the last event a client saw; (-1, -1) replays from `since`."""
    try:
        stamp, rank = (event_id or "").split("-")
        return int(stamp), int(rank)
    except ValueError:
        return (-1, -1)  # none, or an id this server never sent


def _faulted(fault: StreamFault, closed: threading.Event) -> Iterator[bytes]:
    if fault.kind == "garbage":
        yield _sse("ACCESS_LOG", "{this is not json", "garbage-1")
    elif fault.kind == "silence":
        closed.wait(fault.seconds)
    # then the connection closes without END_OF_STREAM


def _sse(event: str, data: str, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}", *(f"data: {line}" for line in data.split("\n"))]
    if event_id:
        lines.append(f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode()
