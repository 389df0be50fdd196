"""Hosted benchmark (`python -m tests.bench --hosted`, or `python -m tests.bench_hosted`):
W workspaces × N apps on the fake provider, each its own Paastis (bot.hosted.tenants) with
its own SQLite file and Slack side against the fake Slack API — the time to build them all,
the first discovery and sweep of every workspace (each on a thread of its own, as `serve`
runs them), `/paastis status` in one workspace, memory, Slack calls per sweep; and one
workspace whose provider answers in 2 s per call beside them: how much later the others'
sweeps end.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bot.engine.actors import Actor
from bot.hosted.crypto import Sealer
from bot.hosted.registry import Connection, Registry
from bot.hosted.settings import HostedSettings
from bot.hosted.tenants import Tenant, Tenants
from bot.terminal import Terminal, TerminalDestination
from tests.fakes.clock import FakeClock
from tests.fakes.slack_api import FakeSlack


class NullWriter:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def run(workspaces: int, apps: int) -> None:
    print(f"\nHosted: {workspaces} workspaces × {apps} apps on the fake provider (a SQLite file each)")
    print("  (a new workspace starts in its safe first run: it plans and posts, it sleeps nothing before Start)")
    with tempfile.TemporaryDirectory() as folder, FakeSlack(rate_limits=False) as slack:
        clock = FakeClock()
        hosted = HostedSettings(
            "1.2",
            "s",
            "x",
            Fernet.generate_key().decode(),
            api_url=slack.api_url,
            data_dir=Path(folder),
            offered=("fake",),
        )
        sealer, registry = Sealer(hosted.secret_key), Registry(hosted.registry_path)
        names = [f"app-{i:03d}" for i in range(apps)]
        tokens = {}
        for w in range(workspaces + 1):
            team = f"T{w:05d}"
            tokens[team] = f"xoxb-{team}"
            slack.tokens[tokens[team]] = {"team_id": team, "team": team, "user_id": "U0BOT", "bot_id": "B0"}
            registry.save_installation(team, sealer.seal(team, {}), team, "U0ADA", clock.now().isoformat())
            registry.set_plan(team, "enterprise", None)
            registry.set_settings(team, "C0PAASTIS", None, "")
            options = {"apps": names}
            registry.save_connection(Connection(team, "fake", "fake", sealer.seal(team, options), "—", "now"), None)
        tenants = Tenants(hosted, registry, sealer, clock, start=False)
        teams = sorted(tokens)
        slow_team = teams[-1]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        built = {t: tenants.get(t, tokens[t]) for t in teams[:-1]}
        took = time.perf_counter() - started
        label = f"build {workspaces} workspaces"
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
        print(f"  {label:<46} {took * 1000:9.0f} ms   max RSS +{grown:.0f} MiB")
        print(f"  threads running after the build                {threading.active_count():9d}")

        alone = sweep_all(built, clock, "first discovery + sweep, every workspace")
        built[slow_team] = tenants.get(slow_team, tokens[slow_team])
        slowed = built[slow_team].paastis.providers["fake"].inner  # the fake's world sleeps on the fake clock
        fast_list = slowed.list_apps
        slowed.list_apps = lambda: (time.sleep(2.0), fast_list())[1]
        clock.advance(hours=1)
        with_slow = sweep_all(built, clock, "again, one workspace's provider list takes 2 s")
        others = [with_slow[t] for t in with_slow if t != slow_team]
        print(
            f"  the other workspaces' sweeps with the slow one  p50 {statistics.median(others) * 1000:.0f} ms, "
            f"max {max(others) * 1000:.0f} ms (alone: max {max(alone.values()) * 1000:.0f} ms)"
        )
        for tenant in built.values():
            tenant.side.outbound.flush(10)
        posts = len(slack.calls_to("chat.postMessage"))
        print(f"  Slack posts for these {2 * workspaces + 1} sweeps                 {posts:9d} (chat.postMessage)")

        tenant = built[teams[0]]
        reply = TerminalDestination(Terminal(NullWriter()))  # type: ignore[arg-type]
        timings = []
        for _ in range(5):
            begin = time.perf_counter()
            tenant.paastis.chatops.command("status", Actor("U1", "bench"), reply)
            timings.append(time.perf_counter() - begin)
        print(f"  /paastis status in one workspace ({apps} apps)       p50 {statistics.median(timings) * 1000:6.0f} ms")
        tenants.close()
    print(f"  max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def sweep_all(built: dict[str, Tenant], clock: FakeClock, label: str) -> dict[str, float]:
    """Discovery then a sweep in every workspace, each on its own thread; each one's duration."""
    took: dict[str, float] = {}

    def one(team: str, tenant: Tenant) -> None:
        begin = time.perf_counter()
        tenant.paastis.engine.discover()
        tenant.paastis.engine.sweep()
        took[team] = time.perf_counter() - begin

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=item) for item in built.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    print(f"  {label:<46} {total * 1000:9.0f} ms wall")
    return took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--apps", type=int, default=50)
    args = parser.parse_args(argv)
    run(args.workspaces, args.apps)


if __name__ == "__main__":
    main()
