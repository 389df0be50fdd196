"""Who is alive: the owners of rows that a process follows (a wake, a sleep intent, a notice
in the outbox), and how another process tells whether that owner is gone.

An owner is `host:pid:token` (a token per open store or outbox). It is alive:

- in this process: while its store (or outbox) is open;
- on this host: while its process exists;
- on another host: while its process's lease (`process:host:pid`, renewed with the
  leadership by every `serve` instance, bot/engine/leadership.py) has not expired; a process
  without one (a `paastis wake` on another host) while the row's own heartbeat is younger
  than `HEARTBEAT`.

So a killed instance's rows are taken over as soon as its lease expires (20 s), whatever
the host, and never while it lives.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from bot.store.database import Tx
from bot.store.rows import parse_iso

HEARTBEAT = timedelta(minutes=2)  # a process on another host without a lease, silent this long, is gone
HOST = socket.gethostname()
_OPEN: set[str] = set()  # owners of the stores and outboxes open in this process


def new_owner() -> str:
    owner = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"
    _OPEN.add(owner)
    return owner


def release_owner(owner: str) -> None:
    _OPEN.discard(owner)


def process_of(owner: str) -> str:
    """`host:pid` of an owner: the name of its process's lease is `process:` and that."""
    host, _, rest = owner.partition(":")
    return f"{host}:{rest.partition(':')[0]}"


def process_lease() -> str:
    return f"process:{HOST}:{os.getpid()}"


def owner_alive(tx: Tx, owner: str | None, heartbeat_at: datetime | None, now: datetime) -> bool:
    if not owner:
        return False
    local = _local_answer(owner)
    if local is not None:
        return local
    lease = tx.one("select expires_at from leases where name = :name", name=f"process:{process_of(owner)}")
    if lease is not None:
        expires = parse_iso(lease["expires_at"])
        return expires is not None and expires > now
    return heartbeat_at is not None and now - heartbeat_at < HEARTBEAT


def _local_answer(owner: str) -> bool | None:
    """Alive or not when the owner is of this host; None when it is of another host."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if pid == os.getpid():
        return owner in _OPEN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds that pid: alive
    return True
