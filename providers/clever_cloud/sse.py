"""Server-sent events as the Clever Cloud v4 API streams them (access logs, and more).

    HTTP 200 text/event-stream
      event: ACCESS_LOG / data: {…} / id: …      one per request
      event: HEARTBEAT                          about every 2 s
      event: END_OF_STREAM / data: {"endedBy": "UNTIL_REACHED"}

A stream that closes without END_OF_STREAM, or stays silent longer than the client's
heartbeat allowance (clever-client.js errors after 4 s), raises StreamBroken: the caller
resumes it with Last-Event-ID, or gives up.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from providers.base import ProviderUnavailable


class StreamBroken(ProviderUnavailable):
    """An event stream closed without END_OF_STREAM, went silent, or was not an event stream."""


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None


class SseDecoder:
    """Server-sent events framing (WHATWG): `event:`, `data:`, `id:` lines; a blank line ends
    an event; the last `id` seen stays the stream's last event id."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        self._pending += self._text.decode(chunk)
        events = []
        while True:
            cut = min((i for i in (self._pending.find("\n"), self._pending.find("\r")) if i >= 0), default=-1)
            if cut < 0 or (self._pending[cut] == "\r" and cut == len(self._pending) - 1):
                return events  # no whole line yet (a lone \r may be the first half of \r\n)
            line = self._pending[:cut]
            step = 2 if self._pending.startswith("\r\n", cut) else 1
            self._pending = self._pending[cut + step :]
            event = self._line(line)
            if event:
                events.append(event)

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            if not self._data and not self._event:
                return None
            event = SseEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


def read_events(response: requests.Response, *, silence_timeout: float, **where: Any) -> Iterator[SseEvent]:
    """The events of a streamed response, up to END_OF_STREAM (included), as they arrive.

    `silence_timeout` is the response's read timeout, named for the message; `where` is the
    provider and app for errors.
    """
    if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
        raise StreamBroken(
            f"Clever Cloud answered with {response.headers.get('Content-Type')!r}, not an event stream", **where
        )
    decoder = SseDecoder()
    read = getattr(response.raw, "read1", None) or response.raw.read  # read1: whatever has arrived
    while True:
        try:
            chunk = read(8192)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            silent = isinstance(exc, urllib3.exceptions.ReadTimeoutError)
            why = (
                f"sent nothing, not even a heartbeat, for {silence_timeout:g} s"
                if silent
                else f"was cut ({type(exc).__name__})"
            )
            raise StreamBroken(f"the Clever Cloud event stream {why}", **where) from None
        if not chunk:
            raise StreamBroken("the Clever Cloud event stream closed without END_OF_STREAM", **where)
        for event in decoder.feed(chunk):
            yield event
            if event.event == "END_OF_STREAM":
                return
