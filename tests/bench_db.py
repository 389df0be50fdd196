"""Benchmarks of the database (`python -m tests.bench --db`): SQLite and PostgreSQL side by side.

1. Scale: a first sweep, a sweep with nothing due and `/paastis status` over N apps on the
   fake provider, on a SQLite file and on a PostgreSQL database (a throw-away local
   PostgreSQL 15, tests/postgres.py: loopback, no fsync — the database's own cost, not a
   network's).
2. Failover: a leader stops renewing its lease (killed); how long until another instance
   leads, in real time (the lease's 20 s plus up to one 5-s renewal).
3. Wakes across 2 instances: N sleeping apps woken by requests spread over two engines on one
   PostgreSQL (each wake claimed in the database, one provider call each): wakes per second.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.chat.chatops import Chatops, ChatopsOptions
from bot.clock import SystemClock
from bot.config.loading import Permissions
from bot.engine.actors import Actor
from bot.engine.leadership import Leadership
from bot.policy.pricing import Prices
from bot.store.store import Store
from bot.terminal import Terminal, TerminalDestination
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock
from tests.postgres import MISSING, Cluster, binaries, start_cluster


class NullWriter:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@contextmanager
def cluster() -> Iterator[Cluster | None]:
    folder = binaries()
    if folder is None:
        print(f"\n{MISSING}: PostgreSQL left out")
        yield None
        return
    started = start_cluster(folder)
    try:
        yield started
    finally:
        started.stop()


def scale(size: int, where: str) -> dict[str, float]:
    """The seconds of each step over `size` apps on the database at `where`."""
    clock = FakeClock()
    h = Harness(where, clock)  # type: ignore[arg-type]  # a path or a URL, as Store takes
    try:
        for i in range(size):
            h.add(f"app-{i:05d}", {"web": 1 + i % 3, "worker": i % 2}, steady_every=60 if i % 2 else None)
        seconds = {"first discovery (insert every app)": timed(h.discover)}
        clock.advance(minutes=2)
        seconds["first sweep (check all, sleep the idle half)"] = timed(h.sweep)
        clock.advance(minutes=1)
        h.discover()
        seconds["sweep with nothing due"] = timed(h.sweep)
        chatops = Chatops(h.engine, ChatopsOptions(clock.now().tzinfo, Permissions(), Prices()))
        reply = TerminalDestination(Terminal(NullWriter()))  # type: ignore[arg-type]
        actor = Actor("U1", "bench")
        seconds["/paastis status (first page)"] = timed(lambda: chatops.command("status", actor, reply))
        return seconds
    finally:
        h.engine.shutdown()
        h.engine.store.close()


def failover(url: str) -> float:
    """Seconds from a leader's last renewal (then killed) to another instance leading."""
    clock = SystemClock()
    first, second = (Leadership(Store(url), clock) for _ in range(2))
    try:
        assert first.renew()
        killed = time.monotonic()  # the first never renews again
        while not second.renew():
            time.sleep(5)  # RENEW: the pace every instance tries at
        return time.monotonic() - killed
    finally:
        for leadership in (first, second):
            leadership.store.close()


def wakes_across_two(url: str, apps: int) -> float:
    """Wakes per second: `apps` sleeping apps, each asked on one of two engines."""
    clock = FakeClock()
    first = Harness(url, clock)  # type: ignore[arg-type]
    second = Harness(url, clock, world=first.world)  # type: ignore[arg-type]
    try:
        names = [first.add(f"sleepy-{i:04d}", running=False, boot_seconds=4) for i in range(apps)]
        first.discover()
        views = {h: {v.name: v for v in h.engine.catalog()} for h in (first, second)}
        tickets = []
        lock = threading.Lock()
        started = time.perf_counter()

        def ask(harness: Harness, chunk: list[str]) -> None:
            for name in chunk:
                ticket = harness.engine.wake(views[harness][name], Actor("U1", "bench"))
                with lock:
                    tickets.append(ticket)

        threads = [threading.Thread(target=ask, args=(h, names[i::2])) for i, h in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for ticket in tickets:
            ticket.wait(timeout=120)
        elapsed = time.perf_counter() - started
        assert first.calls("wake") == apps, first.calls("wake")
        return apps / elapsed
    finally:
        for harness in (first, second):
            harness.engine.shutdown()
            harness.engine.store.close()


def run(sizes: list[int], *, wake_apps: int = 200) -> None:
    print("\nDatabases side by side: the fake provider, SQLite on disk vs a local PostgreSQL 15")
    with cluster() as postgres, tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            print(f"\n{size} apps{'':<37} {'SQLite':>10} {'PostgreSQL':>12}")
            sqlite = scale(size, str(Path(folder) / f"s{size}.db"))
            pg = scale(size, postgres.new_database()) if postgres else {}
            for step, seconds in sqlite.items():
                other = f"{pg[step] * 1000:9.0f} ms" if step in pg else "         —"
                print(f"  {step:<44} {seconds * 1000:7.0f} ms {other}")
        if postgres is None:
            return
        print(f"\n{wake_apps} wakes spread over 2 instances on one PostgreSQL:", end=" ", flush=True)
        print(f"{wakes_across_two(postgres.new_database(), wake_apps):.0f} wakes/s")
        print("Failover (a leader killed, real time):", end=" ", flush=True)
        print(f"{failover(postgres.new_database()):.1f} s until another instance leads")
