"""Benchmarks (not timed tests): `make bench`, or `python -m tests.bench [--sizes 1000,10000]`.

1. Scale, at each size, each in its own process, for this checkout and a baseline revision
   (`--baseline`, checked out with `git worktree add --detach` in a temporary folder) side
   by side: status (first page, one app), App Home and the report, each beside its floor
   (the page's SQL and rendering alone) and the ratio; a sweep with nothing due, the first
   sweep; then a serve-like simulated hour (discovery, sweep, observation every minute):
   CPU per app-hour, sweep wall time, RSS after the hour and after `--long-hours`.
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
import json
import os
import random
import resource
import statistics
import tempfile
import time
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


class NullWriter:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def rss_mib() -> float:
    """The resident memory of this process now (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], Any], repeat: int = 1) -> float:
    """The median wall time of `work` in ms (`repeat` runs)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _floors(h: Harness, chatops: Chatops, now: Any) -> dict[str, Callable[[], Any]]:
    """What the pages cost at the least: their SQL (counts, the shown rows) and rendering
    those rows — independent of the bot's own data access, so the same in both revisions."""
    import sqlite3

    from bot.chat import answers
    from bot.chat.messages import Message
    from bot.chat.report import build_report, report_message
    from bot.policy.catalog import build_catalog
    from bot.slack.blocks import render_blocks
    from bot.store.rows import AppRow, Nap, formation_of, iso, parse_iso

    conn = sqlite3.connect(h.path)
    tz = chatops.options.timezone

    def rows(sql: str, args: tuple = ()) -> list[AppRow]:
        cursor = conn.execute(sql, args)
        names = [d[0] for d in cursor.description]
        return [AppRow.from_row(dict(zip(names, r, strict=False))) for r in cursor.fetchall()]

    def page(size: int) -> Message:
        conn.execute("select state, count(*) from apps where gone = 0 group by state").fetchall()
        shown = rows(f"select * from apps where gone = 0 order by provider, name, app_id limit {size}")
        views = list(build_catalog(shown, h.inputs, now))
        message = answers.status(views, now, tz, page=answers.Page(1, size))
        render_blocks(message)
        return message

    def one() -> None:
        shown = rows("select * from apps where provider = ? and app_id = ?", ("fake", "app-00042"))
        view = next(iter(build_catalog(shown, h.inputs, now)))
        render_blocks(answers.app_detail(view, [view], now, tz))

    def report() -> Message:
        conn.execute("select provider, state, count(*) from apps where gone = 0 group by provider, state").fetchall()
        start = now - chatops.options.report_period
        naps = [  # plain SQL here too: the floor reads the same in both revisions
            Nap(provider, app_id, parse_iso(begin), parse_iso(end), formation_of(formation))
            for provider, app_id, begin, end, formation in conn.execute(
                "select provider, app_id, start, end, formation from naps where end is null or end > ? order by start",
                (iso(start),),
            )
        ]
        events = h.engine.store.events(since=start, actions=("woke", "wake_failed"), limit=10_000)
        message = report_message(build_report([], naps, events, {}, chatops.options.prices, start, now), tz)
        render_blocks(message)
        return message

    def home() -> None:
        report()
        page(40)

    return {"status": lambda: page(20), "status_app": one, "report": report, "home": home}


def _home(h: Harness, chatops: Chatops) -> Callable[[], Any]:
    """App Home as the Slack listener builds it (its data access, then Block Kit)."""
    from bot.slack import home
    from bot.slack.blocks import render_blocks

    def run() -> None:
        report, tz = chatops.report(), chatops.options.timezone
        if hasattr(home, "PageOf"):  # as the listener calls it since it reads pages (2026-12)
            views = lambda: h.engine.catalog().search(None)  # noqa: E731  (only read with a filter)
            message = home.home_message(views, report, chatops.now, tz, page_of=h.engine.fleet.page)
        else:
            message = home.home_message(h.engine.catalog().search(None), report, chatops.now, tz)
        render_blocks(message)

    return run


def scale(size: int, *, hours: float = 1.0, long_hours: float = 0.0) -> dict[str, float]:
    """Every figure of the scale part at `size` apps, in ms (MiB for memory); printed too."""
    from bot.chat import answers as _answers  # noqa: F401  (imported before RSS is read)
    from bot.slack.blocks import render_blocks

    figures: dict[str, float] = {}
    print(f"\n{size} apps on the fake provider (SQLite in a temporary folder)")
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock()
        h = Harness(Path(folder) / "p.db", clock)
        for i in range(size):
            h.add(f"app-{i:05d}", {"web": 1 + i % 3, "worker": i % 2}, steady_every=60 if i % 2 else None)
        figures["first_discovery"] = timed(h.discover)
        clock.advance(minutes=2)
        cpu = time.process_time()
        figures["first_sweep"] = timed(h.sweep)
        figures["first_sweep_cpu"] = (time.process_time() - cpu) * 1000  # wall time waits for a busy machine
        clock.advance(minutes=1)
        h.discover()
        h.sweep()  # decides again the apps the first sweep put to sleep
        clock.advance(seconds=20)
        figures["steady_sweep"] = timed(h.sweep)
        chatops = Chatops(h.engine, ChatopsOptions(clock.now().tzinfo, Permissions(), Prices()))
        reply = TerminalDestination(Terminal(NullWriter()))  # type: ignore[arg-type]
        actor = Actor("U1", "bench")

        def command(text: str) -> Callable[[], None]:
            return lambda: chatops.command(text, actor, reply)

        figures["status"] = timed(command("status"), 5)
        figures["status_app"] = timed(command("status app-00042"), 5)
        figures["report"] = timed(command("report"), 3)
        figures["home"] = timed(_home(h, chatops), 3)
        for name, floor in _floors(h, chatops, clock.now()).items():
            figures[f"{name}_floor"] = timed(floor, 5)
        del render_blocks
        cpu, sweeps = _serve_like(h, hours)
        figures["cpu_per_app_hour"] = cpu / (size * hours)
        figures["sweep_mean"] = statistics.mean(sweeps)
        figures["sweep_max"] = max(sweeps)
        figures["rss_hour"] = rss_mib()
        if long_hours > hours:
            _serve_like(h, long_hours - hours)
            figures["rss_long"] = rss_mib()
        h.engine.shutdown()
        h.engine.store.close()
    for key, value in figures.items():
        print(f"  {LABELS.get(key, key):<52} {value:10.1f}")
    return figures


def _serve_like(h: Harness, hours: float) -> tuple[float, list[float]]:
    """Simulated time, as `serve` schedules its jobs: every minute discovery, the sweep (the
    default cron), observation and the readiness check; housekeeping every hour. Returns the
    CPU seconds spent (in ms) and each sweep's wall time (ms)."""
    sweeps: list[float] = []
    cpu_start = time.process_time()
    for minute in range(round(hours * 60)):
        h.clock.advance(minutes=1)
        h.engine.discover()
        sweeps.append(timed(h.engine.sweep))
        h.engine.observe()
        h.engine.check_readiness()
        h.world.calls.clear()  # the fake PaaS's own log of calls: its memory is not Paastis's
        if minute % 60 == 59:
            h.engine.housekeeping()
    return (time.process_time() - cpu_start) * 1000, sweeps


LABELS = {
    "first_discovery": "first discovery (insert every app), ms",
    "first_sweep": "first sweep (check all, sleep the idle half), ms",
    "first_sweep_cpu": "first sweep, CPU time, ms",
    "steady_sweep": "sweep with nothing due, ms",
    "status": "/paastis status (first page), ms",
    "status_floor": "  floor: count by state + 20 rows + render, ms",
    "status_app": "/paastis status app-00042, ms",
    "status_app_floor": "  floor: one row + render, ms",
    "home": "App Home (report + first page, Block Kit), ms",
    "home_floor": "  floor: report SQL + 40 rows + render, ms",
    "report": "/paastis report, ms",
    "report_floor": "  floor: counts, naps, events + render, ms",
    "cpu_per_app_hour": "serve-like hour: CPU per app-hour, ms",
    "sweep_mean": "serve-like hour: sweep wall time, mean, ms",
    "sweep_max": "serve-like hour: sweep wall time, max, ms",
    "rss_hour": "RSS after the simulated hour, MiB",
    "rss_long": "RSS after the long run, MiB",
}
ROWS = [
    ("/paastis status (first page)", "status", "status_floor", "ms"),
    ("/paastis status <app>", "status_app", "status_app_floor", "ms"),
    ("App Home", "home", "home_floor", "ms"),
    ("/paastis report", "report", "report_floor", "ms"),
    ("sweep with nothing due", "steady_sweep", None, "ms"),
    ("first sweep", "first_sweep", None, "ms"),
    ("first sweep, CPU time", "first_sweep_cpu", None, "ms"),
    ("first discovery", "first_discovery", None, "ms"),
    ("CPU per app-hour (serve-like hour)", "cpu_per_app_hour", None, "ms"),
    ("sweep wall time, mean (serve-like hour)", "sweep_mean", None, "ms"),
    ("sweep wall time, max (serve-like hour)", "sweep_max", None, "ms"),
    ("RSS after an hour", "rss_hour", None, "MiB"),
    ("RSS after the long run", "rss_long", None, "MiB"),
]


def scale_in_subprocess(
    size: int, root: Path, args: argparse.Namespace, python: str | None = None
) -> dict[str, float] | None:
    """The scale part of one size in a fresh process (its RSS its own), on the code in `root`
    — this checkout, or the baseline's (with `python`, which has its dependencies) — with
    this benchmark's measures."""
    import subprocess
    import sys

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            python or sys.executable,
            "-m",
            "tests.bench",
            "--sizes",
            str(size),
            "--only-scale",
            "--json",
            out.name,
        ]
        command += ["--hours", str(args.hours), "--long-hours", str(args.long_hours)]
        done = subprocess.run(command, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, check=False)
        if done.returncode != 0:
            print(f"  (the run in {root} failed: exit {done.returncode})")
            return None
        return json.loads(Path(out.name).read_text() or "{}").get(str(size))


def baseline_checkout(rev: str, folder: Path) -> Path:
    """`rev` checked out beside this one, with this benchmark in it (old code, same measures)."""
    import shutil
    import subprocess

    here = Path(__file__).resolve().parent.parent
    target = folder / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(target), rev], cwd=here, check=True)
    shutil.copy(Path(__file__), target / "tests" / "bench.py")
    return target


def baseline_python(base: Path, rev: str) -> str:
    """An interpreter with the baseline's dependencies (an older revision may need others,
    sqlite-utils before SQLAlchemy): this one when it has them all, else a virtualenv of its
    own beside this checkout (.venv-bench-<rev>, made once; `make clean` removes it)."""
    import re
    import subprocess
    import sys
    import tomllib
    from importlib.metadata import PackageNotFoundError, version

    needed = tomllib.loads((base / "pyproject.toml").read_text())["project"]["dependencies"]
    try:
        for requirement in needed:
            version(re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0])
        return sys.executable
    except PackageNotFoundError:
        pass
    venv = Path(__file__).resolve().parent.parent / f".venv-bench-{rev}"
    python, ready = venv / "bin" / "python", venv / "installed"
    if not ready.exists():
        print(f"  (installing the dependencies of {rev} in {venv})")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *needed], check=True)
        ready.touch()
    return str(python)


def compare(sizes: list[int], args: argparse.Namespace) -> None:
    """Today's code and the baseline's, side by side, each size in its own process."""
    import subprocess

    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        base = baseline_checkout(args.baseline, Path(folder)) if args.baseline else None
        try:
            python = baseline_python(base, args.baseline) if base else None
            for size in sizes:
                new = scale_in_subprocess(size, here, args) or {}
                old = (scale_in_subprocess(size, base, args, python) or {}) if base else {}
                _table(size, args.baseline, old, new)
        finally:
            if base:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=here, check=False)


def _table(size: int, rev: str | None, old: dict[str, float], new: dict[str, float]) -> None:
    def cell(figures: dict[str, float], key: str, floor: str | None) -> str:
        if key not in figures:
            return "—"
        text = f"{figures[key]:,.1f}"
        if floor and figures.get(floor):
            text += f" (floor {figures[floor]:,.1f}, {figures[key] / figures[floor]:,.1f}×)"
        return text

    load = os.getloadavg()[0]
    print(f"\n{size:,} apps | baseline {rev or '—'} | this checkout   (load average {load:.1f})")
    for label, key, floor, unit in ROWS:
        print(f"  {label + ', ' + unit:<46} | {cell(old, key, floor):>32} | {cell(new, key, floor):>32}")


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
    parser.add_argument("--sizes", default="1000,10000", help="scale part: apps (50000 is slow on the baseline)")
    parser.add_argument("--baseline", default="3e2177b", help="revision measured beside this one ('' for none)")
    parser.add_argument("--hours", type=float, default=1.0, help="scale part: simulated hours of serve-like jobs")
    parser.add_argument("--long-hours", type=float, default=6.0, help="scale part: RSS after this long (0: skip)")
    parser.add_argument("--only-scale", action="store_true", help="the scale part alone, in this process")
    parser.add_argument("--json", help="with --only-scale: write the figures there")
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
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.only_scale:
        figures = {str(size): scale(size, hours=args.hours, long_hours=args.long_hours) for size in sizes}
        if args.json:
            Path(args.json).write_text(json.dumps(figures))
        return
    if args.hosted:
        from tests import bench_hosted

        bench_hosted.main([])
    if sizes:
        compare(sizes, args)
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
