"""Benchmark of `paastis proxy` (`python -m tests.bench --proxy`, or `python -m tests.bench_proxy`).

1. Overhead: one request at a time through the proxy, against the same loopback upstream
   called directly (and through nginx when it is installed): p50 and p99 latency.
2. Throughput: requests per second with 8 concurrent clients (threads, keep-alive) for a few seconds, direct,
   through the proxy (one process) and through nginx (one worker), as a ratio.
3. First requests: 100 clients at once on a sleeping app (the fake provider, real time, a
   3 s boot): provider wake calls, and how long until all were served.

The proxy, the upstream and nginx each run in their own process; the load comes from this one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
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
from bot.visits.server import upstream_client, uvicorn_config
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


def run_proxy(port: int, upstream: str, asleep: bool, db: str, calls: multiprocessing.Queue) -> None:
    """The proxy over an engine on the fake provider (real time), its app asleep or up."""
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
            server = uvicorn.Server(uvicorn_config(Proxy(visits, settings, clock, client), Address("127.0.0.1", port)))
            task = asyncio.create_task(refresh())
            await server.serve()
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
    """Requests per second from `clients` threads, each with its own keep-alive connection."""
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


def start_nginx(port: int, upstream_port: int, folder: Path) -> subprocess.Popen | None:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1; daemon off; pid {folder}/nginx.pid; error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off;
  upstream app {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }} }} }}
"""
    )
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
    return process


def first_requests(upstream: str, folder: Path) -> None:
    port, calls = free_port(), multiprocessing.Queue()
    proxy = multiprocessing.Process(target=run_proxy, args=(port, upstream, True, str(folder / "wake.db"), calls))
    proxy.start()
    url = f"http://127.0.0.1:{port}/"
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
        proxy.terminate()
        proxy.join()


def main() -> None:
    multiprocessing.set_start_method("spawn", force=True)
    print("\nProxy: `paastis proxy` (one process, uvicorn + httpx) against a loopback upstream")
    folder = Path(tempfile.mkdtemp(prefix="paastis-bench-proxy-"))
    upstream_port, proxy_port, nginx_port = free_port(), free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    upstream = multiprocessing.Process(target=run_upstream, args=(upstream_port,))
    upstream.start()
    calls = multiprocessing.Queue()
    proxy = multiprocessing.Process(
        target=run_proxy, args=(proxy_port, upstream_url, False, str(folder / "p.db"), calls)
    )
    proxy.start()
    nginx = start_nginx(nginx_port, upstream_port, folder)
    try:
        wait_up(upstream_url)
        targets = {
            "direct": (upstream_url + "/", {}),
            "paastis proxy": (f"http://127.0.0.1:{proxy_port}/", {"host": HOST}),
        }
        if nginx:
            targets["nginx (1 worker)"] = (f"http://127.0.0.1:{nginx_port}/", {"host": HOST})
        for url, headers in targets.values():
            wait_up(url, headers)
        rates = {}
        for name, (url, headers) in targets.items():
            p50, p99 = latency(url, headers)
            rates[name] = throughput(url, headers)
            print(f"  {name:<18} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   {rates[name]:7.0f} req/s (8 clients)")
        direct_p50 = latency(*targets["direct"], count=300)[0]
        proxied_p50 = latency(*targets["paastis proxy"], count=300)[0]
        print(f"  proxy overhead at p50: {proxied_p50 - direct_p50:.2f} ms per request")
        if nginx:
            print(f"  paastis proxy / nginx throughput: {rates['paastis proxy'] / rates['nginx (1 worker)']:.2f}")
        else:
            print("  nginx not installed: no comparison (apt-get install nginx)")
        calls_seen = 0
        while not calls.empty():
            calls_seen = calls.get()[1]
        print(f"  provider calls made while proxying all of the above: {calls_seen}")
        proxy.terminate()
        proxy.join()
        first_requests(upstream_url, folder)
    finally:
        for process in (proxy, upstream):
            process.terminate()
            process.join()
        if nginx:
            nginx.terminate()
            nginx.wait()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
