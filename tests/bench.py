"""Benchmarks (not timed tests): `make bench`, or `python -m tests.bench [--sizes 1000,10000]`.

1. Scale: a sweep and `/paastis status` over N apps on the fake provider — wall time and
   memory (peak traced by tracemalloc, and the process's max RSS).
2. Scalingo budget: N running apps behind one token (60 calls/minute), 30-minute idle
   times, simulated for some hours through the real Scalingo client against the fake API:
   calls per app-hour, the busiest minute, wrongful sleeps, late sleeps, staleness of
   "last activity" in status.
3. Wake lag: how late the engine's wake job says "up" after the provider runs the app (its
   fake reports it running), p50/p95, for 1 and 20 simultaneous wakes, on Scalingo and Clever
   Cloud through their real clients over their fakes on loopback, in real time
   (`python -m tests.bench --sizes= --skip-budget` runs it alone; `--skip-lag` leaves it out).
4. Ack latency: Paastis, the revision before "acknowledge first" and a minimal Bolt app
   under concurrent commands and clicks (tests/bench_ack.py; `--skip-ack` leaves it out).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.chat.chatops import Chatops, ChatopsOptions
from bot.config.loading import Permissions
from bot.engine.actors import Actor
from bot.policy.pricing import Prices
from bot.terminal import Terminal, TerminalDestination
from providers.base import AppState
from tests import bench_ack
from tests.bot.engine.harness import Harness
from tests.fakes.clock import FakeClock


def measure(label: str, work: Callable[[], Any], *, again: Callable[[], Any] | None = None) -> float:
    """Wall time of `work`; then the peak memory tracemalloc sees while `again` (or `work`
    when it can run twice) runs — tracing slows code down, so it is never timed."""
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    (again or work)()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<44} {elapsed * 1000:9.0f} ms   peak {peak / 2**20:7.1f} MiB allocated")
    return elapsed


class NullWriter:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def scale(size: int) -> None:
    print(f"\n{size} apps on the fake provider (SQLite in a temporary folder)")
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock()
        h = Harness(Path(folder) / "p.db", clock)
        for i in range(size):
            h.add(f"app-{i:05d}", {"web": 1 + i % 3, "worker": i % 2}, steady_every=60 if i % 2 else None)
        measure("first discovery (insert every app)", h.discover)
        clock.advance(minutes=2)
        measure("first sweep (check all, sleep the idle half)", h.sweep, again=h.engine.catalog)
        slept = sum(1 for a in h.world.apps() if a.state is not AppState.RUNNING)
        print(f"  {'':<44} {slept} apps put to sleep")
        clock.advance(minutes=1)
        measure("discovery, nothing new", h.discover)
        measure("steady sweep (nothing due)", h.sweep)
        chatops = Chatops(h.engine, ChatopsOptions(clock.now().tzinfo, Permissions(), Prices()))
        reply = TerminalDestination(Terminal(NullWriter()))  # type: ignore[arg-type]
        actor = Actor("U1", "bench")
        measure("/paastis status (first page)", lambda: chatops.command("status", actor, reply))
        measure("/paastis status app-00042 (one app)", lambda: chatops.command("status app-00042", actor, reply))
        measure("/paastis report", lambda: chatops.command("report", actor, reply))
        h.engine.shutdown()
        h.engine.store.close()


def scalingo_budget(apps: int, hours: float, idle_minutes: int, seed: int = 7, *, observe: bool = True) -> None:
    """Simulated time: every minute, discovery, the sweep and observation run as in `serve`.

    A quarter of the apps are idle, half get a request every 1 to 20 minutes, a quarter are
    opened now and then (about once in 100 minutes). Ground truth comes from the simulated
    world: a sleep is wrongful when the app got a request within its idle timeout before the
    moment it was scaled down, late when it had been idle for more than timeout + 5 minutes.
    """
    from providers.fake import SimulatedPaas
    from providers.scalingo.fake_api import FakeScalingo
    from tests.providers.scalingo.in_process import API_TOKEN, build_provider

    print(
        f"\nScalingo budget: {apps} running apps, one token (60 calls/min), idle timeout {idle_minutes} min, "
        f"{hours:g} simulated hours" + ("" if observe else ", no freshness polling")
    )
    rng = random.Random(seed)
    clock = FakeClock()
    world = SimulatedPaas(clock)
    fake = FakeScalingo({"osc-fr1": world}, [API_TOKEN], clock)
    provider = build_provider(fake, clock)
    idle = timedelta(minutes=idle_minutes)
    kinds = {}
    for i in range(apps):
        name = f"review-{i:04d}"
        kind = rng.choice(["steady", "steady", "bursty", "idle"])
        kinds[name] = kind
        world.add_app(
            name, formation={"web": 1}, steady_every=rng.choice([60, 300, 600, 1200]) if kind == "steady" else None
        )
        world.hit(name, 1, at=clock.now() - timedelta(minutes=rng.randint(0, 25)))
    warm_up = clock.now() + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as folder:
        h = Harness(Path(folder) / "p.db", clock, idle=idle, world=world, provider=provider)
        staleness: list[float] = []
        start = clock.now()
        end = start + timedelta(hours=hours)
        next_tick = start
        while clock.now() < end:
            clock.set(max(clock.now(), next_tick))
            for name, kind in kinds.items():
                if kind == "bursty" and rng.random() < 0.01 and world.app(name).state is AppState.RUNNING:
                    world.hit(name, rng.randint(1, 20))
            h.engine.discover()
            h.engine.sweep()
            if observe:
                h.engine.observe()
            if clock.now() >= warm_up:
                for row in h.engine.store.apps():
                    if row.state is AppState.RUNNING and row.checked_at:
                        staleness.append((clock.now() - row.checked_at).total_seconds() / 60)
            next_tick += timedelta(minutes=1)
        regional = fake.calls("osc-fr1")
        sleeps = [(a.id, op.started_at) for a in world.apps() for op in a.operations if op.kind == "sleep"]
        wrongful = late = late_after_warm_up = 0
        for name, at in sleeps:
            before = [t for t in world.request_times(name, at - timedelta(hours=6), at) if t < at]
            last = before[-1] if before else start - timedelta(hours=1)
            if at - last < idle:
                wrongful += 1
            if at - last > idle + timedelta(minutes=5):
                late += 1
                late_after_warm_up += last + idle >= warm_up
        steady_calls = [r for r in regional if r.at >= warm_up]
        steady_hours = max((end - warm_up).total_seconds() / 3600, 1e-9)
        running = sum(1 for a in world.apps() if a.state is AppState.RUNNING)
        print(
            f"  regional API calls: {len(regional)} in all; after the first hour "
            f"{len(steady_calls) / steady_hours:.0f} per hour = {len(steady_calls) / steady_hours / apps:.2f} "
            f"per app-hour ({running} apps still running at the end)"
        )
        kinds_of_calls: dict[str, int] = {}
        for r in steady_calls:
            kind = (
                "activity"
                if "/stats/" in r.path
                else "scale"
                if r.path.endswith("/scale")
                else "list"
                if r.path.rstrip("/").endswith("/apps")
                else "state (get_app, operations)"
            )
            kinds_of_calls[kind] = kinds_of_calls.get(kind, 0) + 1
        print(
            "  after the first hour, per hour: "
            + ", ".join(f"{k} {v / steady_hours:.0f}" for k, v in sorted(kinds_of_calls.items()))
        )
        print(
            f"  most calls in any 60 s: {_busiest_window(r.at for r in regional)} (limit 60); "
            f"429s answered: {sum(1 for r in regional if r.status == 429)}"
        )
        print(
            f"  sleeps: {len(sleeps)}; wrongful (a request within the idle timeout): {wrongful}; "
            f"late by more than 5 min: {late} ({late_after_warm_up} after the first hour's backlog)"
        )
        if staleness:
            q = statistics.quantiles(staleness, n=20)
            print(
                f"  staleness of last activity shown for running apps (after the first hour): median "
                f"{statistics.median(staleness):.1f} min, p95 {q[-1]:.1f} min, max {max(staleness):.1f} min"
            )
        h.engine.shutdown()
        h.engine.store.close()
    provider.close()


def wake_lag(kind: str, wakes: int, rounds: int, boot_seconds: float) -> None:
    """Real time: `wakes` sleeping apps woken at once, `rounds` times, each round on a quiet
    budget; the lag is the moment the wake job turns UP minus the moment the simulated app
    started running."""
    from bot.clock import SystemClock
    from bot.engine.wake_jobs import JobStatus, Phase
    from providers.fake.simulation import scaled_to_zero
    from tests.providers.kits import make_kit

    clock = SystemClock()
    kit = make_kit(kind, clock)  # type: ignore[arg-type]
    lags: list[float] = []
    calls = 0
    with tempfile.TemporaryDirectory() as folder:
        h = Harness(Path(folder) / "p.db", clock, world=kit.world, provider=kit.provider)  # type: ignore[arg-type]
        ids = {
            f"lag-{i:02d}": kit.add_app(f"lag-{i:02d}", {"web": 1}, running=False, boot_seconds=boot_seconds)
            for i in range(wakes)
        }
        for _ in range(rounds):
            quiet(kit.provider, calls=5 if wakes > 1 else 20)
            h.discover()
            up_at: dict[str, Any] = {}
            before = len(kit.world.calls)

            def told(status: JobStatus, name: str, up_at: dict[str, Any] = up_at) -> None:
                if status.phase is Phase.UP:
                    up_at.setdefault(name, clock.now())

            tickets = []
            for name in ids:
                ticket = h.engine.wake(h.view(name), Actor("U1", "bench"))
                ticket.jobs[0].subscribe(lambda status, name=name: told(status, name))
                tickets.append(ticket)
            for ticket in tickets:
                ticket.wait(timeout=boot_seconds + 120)
            calls += len(kit.world.calls) - before
            for name, app_id in ids.items():
                ran_at = kit.world.app(app_id).operations[-1].ends_at
                if name in up_at:
                    lags.append((up_at[name] - ran_at).total_seconds())
                kit.world.scale(app_id, scaled_to_zero(kit.world.app(app_id).formation))
            time.sleep(2.5)  # the apps stop (2 s)
    h.engine.shutdown()
    h.engine.store.close()
    kit.close()
    told_up = f"{len(lags)} of {wakes * rounds} told up"
    if len(lags) >= 2:
        q = statistics.quantiles(lags, n=20, method="inclusive")
        figures = f"p50 {statistics.median(lags):.2f} s, p95 {q[-1]:.2f} s, max {max(lags):.2f} s"
    else:
        figures = "too few to tell"
    print(
        f"  {kind:<13} {wakes:>2} at once × {rounds} rounds (boot {boot_seconds:g} s): lag {figures}; "
        f"{told_up}; {calls / (wakes * rounds):.1f} API calls a wake"
    )


def quiet(provider: Any, calls: int = 10, patience: float = 75.0) -> None:
    """Wait until the provider spent at most `calls` calls in the last minute: each round of
    the wake-lag measure starts as a morning would, on a budget nobody else is spending."""
    waited = 0.0
    while (budget := provider.budget()) is not None and budget.used_last_minute > calls and waited < patience:
        time.sleep(1.0)
        waited += 1.0


def _busiest_window(moments) -> int:
    times = sorted(moments)
    best, lo = 0, 0
    for hi, moment in enumerate(times):
        while moment - times[lo] >= timedelta(seconds=60):
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--budget-apps", type=int, default=1000)
    parser.add_argument("--budget-hours", type=float, default=3)
    parser.add_argument("--idle-minutes", type=int, default=30)
    parser.add_argument("--skip-budget", action="store_true")
    parser.add_argument("--no-observe", action="store_true", help="budget run without the freshness polling job")
    parser.add_argument("--skip-lag", action="store_true", help="leave out the wake-lag measure (real time)")
    parser.add_argument("--lag-rounds", type=int, default=6, help="rounds of a single wake in the wake-lag measure")
    parser.add_argument("--proxy", action="store_true", help="also measure `paastis proxy` (tests/bench_proxy.py)")
    parser.add_argument("--hosted", action="store_true", help="also 100 workspaces × 50 apps (tests/bench_hosted.py)")
    parser.add_argument("--db", action="store_true", help="SQLite and PostgreSQL side by side only (tests/bench_db.py)")
    bench_ack.add_arguments(parser)
    args = parser.parse_args()
    if args.db:
        from tests import bench_db

        return bench_db.run([int(s) for s in args.sizes.split(",") if s])
    if args.hosted:
        from tests import bench_hosted

        bench_hosted.main([])
    for size in (int(s) for s in args.sizes.split(",") if s):
        scale(size)
    if not args.skip_budget:
        scalingo_budget(args.budget_apps, args.budget_hours, args.idle_minutes, observe=not args.no_observe)
    if not args.skip_lag:
        print("\nWake lag: the wake job says up this long after the provider runs the app")
        for kind, boot in (("scalingo", 3.0), ("clever-cloud", 8.0)):
            wake_lag(kind, 1, args.lag_rounds, boot)
            wake_lag(kind, 20, 2, boot)
    if args.proxy:
        from tests import bench_proxy

        bench_proxy.main()
    if not args.skip_ack:
        bench_ack.run(args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmax RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
