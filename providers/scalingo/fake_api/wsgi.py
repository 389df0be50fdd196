"""WSGI plumbing of the Scalingo API fakes: one parsed request, one response, the call log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Received:
    """One request a fake answered: for tests that count calls (`service` is "auth" or a region)."""

    at: datetime
    service: str
    token_id: str | None
    method: str
    path: str
    status: int

    @classmethod
    def of(
        cls, request: Request, response: Response, at: datetime, service: str, token_id: str | None = None
    ) -> Received:
        return cls(at, service, token_id, request.method, request.path, response.status)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str  # scheme://host[:port] as the client called it

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO") or "/",
            query=parse_qs(environ.get("QUERY_STRING") or ""),
            headers=headers,
            body=environ["wsgi.input"].read(length) if length else b"",
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )

    def json(self) -> Any:
        """The JSON body; ValueError when it is not JSON."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-able, or str for text/plain
    headers: tuple[tuple[str, str], ...] = ()

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        if isinstance(self.body, str):
            payload, kind = self.body.encode(), "text/plain; charset=utf-8"
        elif self.body is None:
            payload, kind = b"", None
        else:
            payload, kind = json.dumps(self.body).encode(), "application/json; charset=utf-8"
        headers = [*list(self.headers), ("Content-Length", str(len(payload)))]
        if kind:
            headers.append(("Content-Type", kind))
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [payload]


def error(status: int, message: str, **extra: Any) -> Response:
    return Response(status, {**extra, "error": message})
