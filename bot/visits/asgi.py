"""The little the ASGI apps share: request headers as a mapping, a whole response sent at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
HTML = "text/html; charset=utf-8"
PROBLEM = "application/problem+json"


def headers_of(scope: Scope) -> tuple[dict[str, str], set[str]]:
    """The request's headers (lowercase names, latin-1 values), and the names sent twice."""
    seen: dict[str, str] = {}
    twice: set[str] = set()
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        if name in seen:
            twice.add(name)
            seen[name] = f"{seen[name]}, {raw_value.decode('latin-1')}"
        else:
            seen[name] = raw_value.decode("latin-1")
    return seen, twice


async def respond(
    send: Send, status: int, body: bytes, content_type: str, extra: Iterable[tuple[str, str]] = ()
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wants_html(headers: dict[str, str]) -> bool:
    """A browser (Accept names text/html), not an API client."""
    return "text/html" in headers.get("accept", "")
