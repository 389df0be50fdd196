"""Benchmark of `paastis proxy` (`python -m tests.bench --proxy`, or `python -m tests.bench_proxy`).

1. Overhead: one request at a time through the proxy, against the same loopback upstream
   called directly (and through nginx when it is installed): p50 and p99 latency.
2. Throughput: requests per second from 8 keep-alive connections (wrk when installed, else
   threads), direct, through the proxy (1 worker, then `--workers` processes on one socket)
   and through nginx (as many workers), in rounds: min / median / max, and the ratio to nginx
   of the same round (the machine may be shared: only same-round ratios mean something).
3. First requests: 100 clients at once on a sleeping app (the fake provider, real time, a
   3 s boot): provider wake calls, and how long until all were served.

The proxy, the upstream and nginx each run in their own process; the load comes from this one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from bot.clock import SystemClock
from bot.config.visits import Address, ProxySettings
from bot.visits.proxy import Proxy
from bot.visits.server import bind, upstream_client, uvicorn_config
from bot.visits.visits import Visits
from providers.fake import FakeProvider, SimulatedPaas
from tests.bot.engine.harness import ADA, Harness

HOST = "bench.example.com"
BODY = b"x" * 512


async def small_app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": BODY})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_upstream(port: int) -> None:
    uvicorn.run(small_app, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


def listening() -> socket.socket:
    """A socket the proxy's workers share, made as `paastis proxy --workers` makes it."""
    return bind(Address("127.0.0.1", 0))


def run_proxy(sock: socket.socket, upstream: str, asleep: bool, db: str, calls: multiprocessing.Queue) -> None:
    """One proxy worker over an engine on the fake provider (real time), its app asleep or up."""
    clock = SystemClock()
    world = SimulatedPaas(clock)
    provider = FakeProvider(world, name="fake", poll_interval=0.5, wake_timeout=60)
    harness = Harness(Path(db), clock, world=world, provider=provider)  # type: ignore[arg-type]
    harness.world.add_app("bench", formation={"web": 1}, url=upstream, boot_seconds=3.0)
    harness.discover()
    if asleep:
        harness.engine.sleep(harness.view("bench"), ADA)
        harness.engine.wait_idle()
        while harness.state("bench").value != "sleeping":
            time.sleep(0.1)
        harness.discover()
    visits = Visits(harness.engine, lambda m, c: None, clock, {HOST: "bench"})
    visits.refresh()
    baseline = len(world.calls)

    async def serve() -> None:
        async def refresh() -> None:
            while True:
                await asyncio.sleep(0.5)
                await asyncio.to_thread(visits.refresh)
                wakes = sum(1 for c in world.calls if c.operation == "wake")
                calls.put((wakes, len(world.calls) - baseline))  # wake calls; every provider call since serving

        async with upstream_client() as client:
            settings = ProxySettings(routes={HOST: "bench"}, trust_forwarded=True, first_requests_per_minute=1000)
            address = Address(*sock.getsockname())
            server = uvicorn.Server(uvicorn_config(Proxy(visits, settings, clock, client), address))
            task = asyncio.create_task(refresh())
            await server.serve(sockets=[sock])
            task.cancel()

    asyncio.run(serve())


def wait_up(url: str, headers: dict[str, str] | None = None) -> None:
    for _ in range(200):
        try:
            httpx.get(url, headers=headers or {}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


def latency(url: str, headers: dict[str, str], count: int = 1000) -> tuple[float, float]:
    samples = []
    with httpx.Client(headers=headers) as client:
        for _ in range(50):
            client.get(url)
        for _ in range(count):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def throughput(url: str, headers: dict[str, str], seconds: float = 4.0, clients: int = 8) -> float:
    """Requests per second from `clients` keep-alive connections: wrk (C, one thread) when
    installed, so that the load costs the 2 cores little; else as many Python threads."""
    wrk = shutil.which("wrk")
    if wrk:
        options = [f"-c{clients}", "-t1", f"-d{seconds:g}s", *(f"-H{k.title()}: {v}" for k, v in headers.items())]
        out = subprocess.run([wrk, *options, url], capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out or "Socket errors" in out:
            raise RuntimeError(f"{url} failed requests under load:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        with httpx.Client(headers=headers) as client:
            while time.perf_counter() < deadline:
                client.get(url)
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def start_nginx(port: int, upstream_port: int, folder: Path, workers: int) -> subprocess.Popen | None:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    conf = folder / f"nginx-{workers}.conf"
    conf.write_text(
        f"""worker_processes {workers}; daemon off; pid {folder}/nginx-{workers}.pid; error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off;
  upstream app {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }} }} }}
"""
    )
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)


def start_proxy(
    upstream: str, asleep: bool, db: Path, workers: int
) -> tuple[str, list[multiprocessing.Process], multiprocessing.Queue]:
    """`workers` proxy processes sharing one listening socket (each its own database here)."""
    sock, calls = listening(), multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=run_proxy, args=(sock, upstream, asleep, f"{db}-{n}", calls))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()
    return url, processes, calls


def stop(processes: list[multiprocessing.Process]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


def first_requests(upstream: str, folder: Path) -> None:
    url, processes, calls = start_proxy(upstream, True, folder / "wake.db", 1)
    try:
        wait_up(url, {"host": "nowhere.example.com"})

        async def crowd() -> list[float]:
            started = time.perf_counter()
            async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=30) as client:

                async def one(n: int) -> float:
                    headers = {"host": HOST, "x-forwarded-for": f"10.0.{n // 250}.{n % 250}"}
                    while (await client.get(url, headers=headers)).status_code != 200:
                        await asyncio.sleep(0.25)
                    return time.perf_counter() - started

                return await asyncio.gather(*(one(n) for n in range(100)))

        served = asyncio.run(crowd())
        time.sleep(1.0)
        wakes = 0
        while not calls.empty():
            wakes = calls.get()[0]
        print(
            f"  100 first requests to a sleeping app (3 s boot): {wakes} provider wake call(s); "
            f"all 100 served after {max(served):.1f} s (first at {min(served):.1f} s)"
        )
    finally:
        stop(processes)


def spread(values: list[float], unit: str = "") -> str:
    """min / median / max of a few rounds."""
    low, mid, high = min(values), statistics.median(values), max(values)
    digits = 2 if high < 10 else 0
    return f"{low:,.{digits}f} / {mid:,.{digits}f} / {high:,.{digits}f}{unit}"


def main(workers: int | None = None, rounds: int = 3) -> None:
    multiprocessing.set_start_method("spawn", force=True)
    workers = workers or os.cpu_count() or 1
    load = "wrk, 1 thread" if shutil.which("wrk") else "Python threads (install wrk for less load on the cores)"
    print(f"\nProxy: `paastis proxy` (uvicorn + aiohttp) against a loopback upstream; load: {load}")
    folder = Path(tempfile.mkdtemp(prefix="paastis-bench-proxy-"))
    upstream_port, nginx_port = free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    upstream = multiprocessing.Process(target=run_upstream, args=(upstream_port,))
    upstream.start()
    one_url, one, calls = start_proxy(upstream_url, False, folder / "p.db", 1)
    many_url, many, _ = start_proxy(upstream_url, False, folder / "q.db", workers)
    nginx = start_nginx(nginx_port, upstream_port, folder, workers)
    try:
        wait_up(upstream_url)
        targets = {
            "direct": (upstream_url + "/", {}),
            "proxy, 1 worker": (one_url, {"host": HOST}),
            f"proxy, {workers} workers": (many_url, {"host": HOST}),
        }
        if nginx:
            targets[f"nginx, {workers} workers"] = (f"http://127.0.0.1:{nginx_port}/", {"host": HOST})
        for url, headers in targets.values():
            wait_up(url, headers)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        p50s: dict[str, list[float]] = {name: [] for name in targets}
        p99s: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (url, headers) in targets.items():
                p50, p99 = latency(url, headers, count=500)
                p50s[name].append(p50)
                p99s[name].append(p99)
                rates[name].append(throughput(url, headers))
        print(f"  min / median / max of {rounds} rounds; p50 and p99: one request at a time")
        for name in targets:
            print(
                f"  {name:<20} p50 {spread(p50s[name], ' ms'):<24} p99 {spread(p99s[name], ' ms'):<24}"
                f" {spread(rates[name])} req/s (8 connections)"
            )
        overhead = [p - d for p, d in zip(p50s["proxy, 1 worker"], p50s["direct"], strict=True)]
        print(f"  proxy overhead at p50: {spread(overhead, ' ms')} per request")
        if nginx:
            nginx_rates = rates[f"nginx, {workers} workers"]
            for name in ("proxy, 1 worker", f"proxy, {workers} workers"):
                ratios = [p / n for p, n in zip(rates[name], nginx_rates, strict=True)]
                print(f"  {name} / nginx, {workers} workers (same round): {spread(ratios)}")
        else:
            print("  nginx not installed: no comparison (apt-get install nginx)")
        calls_seen = 0
        while not calls.empty():
            calls_seen = calls.get()[1]
        print(f"  provider calls made while proxying all of the above (1 worker): {calls_seen}")
        stop([*one, *many])
        first_requests(upstream_url, folder)
    finally:
        stop([*one, *many, upstream])
        if nginx:
            nginx.terminate()
            nginx.wait()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
