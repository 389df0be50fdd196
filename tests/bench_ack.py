"""Ack latency (issue 17): how long Slack waits for its 200, under concurrent commands and clicks.

Three servers, each in its own process behind waitress with the same threads, on loopback,
against one fake Slack Web API (tests/fakes/slack_api.py) in this process:

    paastis    `python -m bot serve` of this checkout (HTTP mode, the fake provider with N apps)
    baseline   the same of another revision (`--ack-baseline`, 3e2177b by default: before
               "acknowledge first"), from a `git worktree add --detach` in a temporary folder
    minimal    a Bolt app whose listeners only ack(), with Paastis's listener pool size: the floor

For N apps (`--ack-sizes`), C concurrent requests (`--ack-loads`) — signed `/paastis status`
commands and Wake clicks (on sleeping apps, 20 apps per burst) — fired at once, `--ack-runs`
times: ack latency p50 and p99 of each run (median, and min–max over the runs), acks over
3 s, answers other than 200 (a request without an answer in 30 s counts), and how many
answers (response_url) arrived within 30 s. A server still busy after a run is restarted.
`python -m tests.bench_ack` runs it alone; `make bench` runs it after the others.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.bot.slack.conftest import SECRET, click_payload, signed_headers
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
USERS = [f"U0BENCH{i:02d}" for i in range(20)]
CLIENT_TIMEOUT = 30.0  # seconds: a request not answered by then is counted as a failure
ANSWER_WAIT = 30.0  # seconds given to the answers after the last ack


@dataclass
class Server:
    """One server process: its command line, environment and port; restarted when busy."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log}")
            if _get(self.port, "/healthz") == 200:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name} not up after 300 s; see {self.log}")
        self.settle(cap=300)

    def settle(self, cap: float) -> bool:
        """Wait until the process uses under 10% of a core over 1 s (its start-up sweep, or the
        answers of the last burst, done); False when still busy after `cap` seconds."""
        deadline = time.monotonic() + cap
        while time.monotonic() < deadline:
            before = _cpu_seconds(self.process.pid)
            time.sleep(1.0)
            if _cpu_seconds(self.process.pid) - before < 0.1:
                return True
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Burst:
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    answered_in_ack: set[int] = field(default_factory=set)  # before "acknowledge first": the ack was the answer
    answered: int = 0


def fire(port: int, bodies: list[str]) -> Burst:
    """Every body POSTed at once (one thread and connection each); latency until the answer."""
    burst, lock = Burst(), threading.Lock()
    barrier = threading.Barrier(len(bodies))

    def send(n: int, body: str) -> None:
        headers = {k: v[0] for k, v in signed_headers(body).items()}
        barrier.wait()
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
            conn.request("POST", "/slack/events", body.encode(), headers)
            response = conn.getresponse()
            status, answer = response.status, response.read()
            conn.close()
        except OSError:
            status, answer = 0, b""
        with lock:
            burst.latencies.append(time.perf_counter() - started)
            burst.statuses.append(status)
            if status == 200 and answer:
                burst.answered_in_ack.add(n)

    threads = [threading.Thread(target=send, args=(n, b)) for n, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return burst


def command_body(slack: FakeSlack, key: str, user: str) -> str:
    fields = {"team_id": "T0TEST", "channel_id": "C0GENERAL", "user_id": user, "user_name": user.lower()}
    fields |= {"command": "/paastis", "text": "status", "response_url": slack.response_url(key), "trigger_id": "1"}
    return urlencode(fields)


def click_body(slack: FakeSlack, key: str, user: str, app: str) -> str:
    body = click_payload(
        "paastis.wake",
        f"fake:{app}",
        user,
        where="ephemeral",
        message_ts="1.1",
        channel="C0GENERAL",
        response_url=slack.response_url(key),
    )
    return "payload=" + quote(json.dumps(body))


def measure(server: Server, slack: FakeSlack, kind: str, count: int, run: int, sleeping: list[str]) -> Burst:
    """One burst; Wake clicks go to 20 apps still asleep (`run`: the burst's number on this server)."""
    keys = [f"{server.name}-{len(sleeping)}-{kind}-{count}-{run}-{i}" for i in range(count)]
    users = [USERS[i % len(USERS)] for i in range(count)]
    if kind == "status":
        bodies = [command_body(slack, k, u) for k, u in zip(keys, users, strict=True)]
    else:
        apps = sleeping[(run * 20) % len(sleeping) :][:20] or sleeping[:20]
        bodies = [
            click_body(slack, k, u, apps[i % len(apps)]) for i, (k, u) in enumerate(zip(keys, users, strict=True))
        ]
    burst = fire(server.port, bodies)
    if server.name != "minimal":
        slack.wait_for(
            lambda: all(n in burst.answered_in_ack or slack.responses(k) for n, k in enumerate(keys)), ANSWER_WAIT
        )
        burst.answered = sum(1 for n, k in enumerate(keys) if n in burst.answered_in_ack or slack.responses(k))
    if not server.settle(cap=30):
        print(f"    ({server.name} still busy 30 s after the burst: restarted)", flush=True)
        server.stop()
        server.start()
    return burst


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    return f"{_ms(statistics.median(values))} ({_ms(min(values))}–{_ms(max(values))})"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _get(port: int, path: str) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def paastis_server(name: str, code: Path, folder: Path, slack: FakeSlack, config: Path) -> Server:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAASTIS_", "PROVIDER_"))}
    env |= {
        "PYTHONPATH": str(code),
        "PORT": str(port),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "PAASTIS_CHANNEL": "C0PAASTIS",
        "PAASTIS_CONFIG": str(config),
        "PAASTIS_DB": str(folder / f"{name}-{config.stem}.db"),
        "LOG_LEVEL": "WARNING",
    }
    return Server(name, [sys.executable, "-m", "bot", "serve"], env, code, port, folder / f"{name}.log")


def minimal_server(folder: Path, slack: FakeSlack) -> Server:
    port = _free_port()
    argv = [sys.executable, "-m", "tests.bench_ack", "--minimal-bolt", str(port), slack.api_url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return Server("minimal", argv, env, ROOT, port, folder / "minimal.log")


def serve_minimal(port: int, api_url: str) -> None:
    """The floor: Bolt with listeners that only ack(), behind the same waitress and pool."""
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.slack.app import LISTENER_THREADS
    from bot.slack.server import EVENTS_PATH, HTTP_THREADS
    from bot.web import HttpServer, health_app
    from tests.fakes.slack_api import BOT_TOKEN

    bolt = App(
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )
    bolt.command("/paastis")(lambda ack: ack())
    bolt.action(re.compile(".*"))(lambda ack: ack())
    events, health = SlackRequestHandler(bolt, path=EVENTS_PATH), health_app(lambda: True)

    def app(environ, start_response):
        route = health if environ.get("PATH_INFO") == "/healthz" else events
        return route(environ, start_response)

    HttpServer(app, "127.0.0.1", port, threads=HTTP_THREADS)
    threading.Event().wait()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-ack", action="store_true", help="leave out the ack-latency comparison")
    parser.add_argument("--ack-sizes", default="1000,10000", help="apps on the fake provider")
    parser.add_argument("--ack-loads", default="20,100,500", help="concurrent requests per burst")
    parser.add_argument("--ack-runs", type=int, default=3)
    parser.add_argument("--ack-kinds", default="status,wake")
    parser.add_argument("--ack-baseline", default="3e2177b", help="revision compared with this checkout ('' for none)")


def run(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.ack_sizes.split(",") if s]
    loads = [int(s) for s in args.ack_loads.split(",") if s]
    kinds = [k for k in args.ack_kinds.split(",") if k]
    print(f"\nAck latency: {', '.join(kinds)} × {loads} concurrent, {args.ack_runs} runs; p50 / p99 of each run as")
    print("median (min–max); ratio = Paastis p99 / minimal Bolt p99 (medians)", flush=True)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        slack = stack.enter_context(FakeSlack())
        for user in USERS:
            slack.add_user(user, user.title())
        codes = {"paastis": ROOT}
        if args.ack_baseline:
            baseline = folder / "baseline"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(baseline), args.ack_baseline], cwd=ROOT, check=True
            )
            stack.callback(
                subprocess.run, ["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False
            )
            codes["baseline"] = baseline
        for size in sizes:
            config, sleeping = write_config(folder, size)
            servers = [minimal_server(folder, slack)]
            servers += [paastis_server(name, code, folder, slack, config) for name, code in codes.items()]
            results: dict[tuple[str, str, int], list[Burst]] = {}
            for server in servers:
                server.start()
                bursts = 0
                try:
                    for kind in kinds:
                        for count in loads:
                            results[(server.name, kind, count)] = []
                            for _ in range(args.ack_runs):
                                burst = measure(server, slack, kind, count, bursts, sleeping)
                                results[(server.name, kind, count)].append(burst)
                                bursts += 1
                finally:
                    server.stop()
            report(size, servers, kinds, loads, results)


def write_config(folder: Path, size: int) -> tuple[Path, list[str]]:
    """The fake provider with `size` apps, every other one asleep (Wake clicks go to those)."""
    apps = [{"name": f"app-{i:05d}", "formation": {"web": 1}, "running": i % 2 == 0} for i in range(size)]
    path = folder / f"paastis-{size}.yml"
    path.write_text(json.dumps({"providers": [{"type": "fake", "name": "fake", "apps": apps}]}))
    return path, [a["name"] for a in apps if not a["running"]]


def report(size: int, servers: list[Server], kinds: list[str], loads: list[int], results: dict) -> None:
    print(f"\n{size:,} apps")
    print(f"  {'':<16} {'server':<9} {'ack p50':<26} {'ack p99':<26} {'ratio':>6} {'>3 s':>9} {'non-200':>8} answers")
    for kind in kinds:
        for count in loads:
            floor = statistics.median(quantile(b.latencies, 0.99) for b in results[("minimal", kind, count)])
            for server in servers:
                bursts = results[(server.name, kind, count)]
                p99 = [quantile(b.latencies, 0.99) for b in bursts]
                total = sum(len(b.statuses) for b in bursts)
                slow = sum(1 for b in bursts for t in b.latencies if t > 3)
                failed = sum(1 for b in bursts for s in b.statuses if s != 200)
                answers = "" if server.name == "minimal" else f"{sum(b.answered for b in bursts)} of {total}"
                print(
                    f"  {f'{count} × {kind}':<16} {server.name:<9} "
                    f"{spread([quantile(b.latencies, 0.5) for b in bursts]):<26} {spread(p99):<26} "
                    f"{statistics.median(p99) / floor:>5.1f}× {f'{slow} of {total}':>9} {failed:>8} {answers}",
                    flush=True,
                )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--minimal-bolt":
        serve_minimal(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
