"""Two `paastis serve` on one PostgreSQL (issue 14's "Done when"): real processes in HTTP mode
against the fake Slack Web API, both on one simulated PaaS behind the fake Scalingo API (one
world the two share, as two containers share one Scalingo account).

One sweep per scheduled time across both, one provider wake for 20 Wake clicks spread over
both, the leader killed with SIGKILL in the middle of a sleep and of a wake replaced within
30 s, the formation it was putting to sleep restored by a wake afterwards, and the wake it
followed completed by the survivor, its Slack message completed once. And an instance
stopped with SIGTERM in the middle of a wake: never told as failed, completed by the other."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from bot.chat.messages import WAKE
from providers.base import AppState
from providers.fake import SimulatedPaas
from tests.bot.engine import processes
from tests.bot.slack.conftest import click_payload, signed_headers
from tests.fakes.slack_api import FakeSlack
from tests.test_serve_scalingo import free_port, wait_until

SECRET = "two-instances-signing-secret"
CHANNEL = "C0PAASTIS"
PROVIDER = "scalingo-osc-fr1"
CLICKS = 20
USERS = [f"U0USER{i:02d}" for i in range(CLICKS)]


class SlowToAnswerSleeps:
    """Around the Scalingo API fake: a scale to zero is done at once, and its answer comes
    back 30 s later — the moment a kill leaves a sleep the provider did but Paastis did not
    record."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sleep_taken = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].endswith("/scale"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        answer = list(self.app(environ, start_response))
        if all(c["amount"] == 0 for c in json.loads(body)["containers"]):
            self.sleep_taken.set()
            time.sleep(30)
        return answer


class Instance:
    """One `paastis serve` process, its port and its log."""

    def __init__(self, env: dict[str, str], tmp_path: Path, name: str) -> None:
        self.port = free_port()
        self.log = tmp_path / f"{name}.log"
        base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(processes.ROOT), "HOME": str(tmp_path)}
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env={**base, **env, "PORT": str(self.port)},
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def leads(self) -> bool:
        return "this instance leads" in self.get("/readyz")[1]

    def up(self) -> bool:
        return self.get("/healthz")[0] == 200

    def click(self, slack: FakeSlack, app_id: str, user: str, key: str) -> int:
        payload = click_payload(
            WAKE,
            f"{PROVIDER}:{app_id}",
            user,
            where="ephemeral",
            message_ts="1700000000.000001",
            channel="C0GENERAL",
            response_url=slack.response_url(key),
        )
        body = "payload=" + quote(json.dumps(payload))
        headers = {name: values[0] for name, values in signed_headers(body, secret=SECRET).items()}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def app_id_of(url: str, name: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("select app_id from apps where name = %s", (name,)).fetchone()
    return row[0] if row else None


def count_events(url: str, action: str, app_id: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from events where action = %s and app_id = %s", (action, app_id)).fetchone()
    return row[0] if row else 0


def sweep_periods(*instances: Instance) -> list[str]:
    found = []
    for instance in instances:
        found += re.findall(r"job\.claimed job=sweep period=(\S+)", instance.output())
    return found


@dataclass
class Rig:
    world: SimulatedPaas
    slack: FakeSlack
    slow: SlowToAnswerSleeps
    database: str
    instances: list[Instance]

    def wake_calls(self, app_id: str) -> int:
        return sum(1 for c in self.world.calls if c.operation == "wake" and c.app == app_id)


@pytest.fixture
def rig(postgres, tmp_path: Path) -> Iterator[Rig]:
    """Two `serve` started together on one new PostgreSQL database, with Slack in HTTP mode."""
    slow: list[SlowToAnswerSleeps] = []
    with (
        processes.scalingo(tmp_path, lambda app: slow.append(SlowToAnswerSleeps(app)) or slow[0]) as (
            world,
            _,
            env,
        ),
        FakeSlack() as slack,
    ):
        for user in USERS:
            slack.add_user(user, f"User {user[-2:]}")
        database = postgres.new_database()
        env |= {
            "PROVIDER_REGION": "osc-fr1",
            "PROVIDER_SCALINGO_RATE_LIMIT": "600",  # sweeps every 2 s: a budget the test never waits on
            "START_AND_STOP_MAX_IDLE_TIME": "1",
            "START_AND_STOP_CHECKING_INTERVAL_CRON": "*/2 * * * * *",
            "PAASTIS_DRY_RUN": "false",
            "LOG_LEVEL": "info",
            "DATABASE_URL": database,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "PAASTIS_CHANNEL": CHANNEL,
        }
        world.add_app("shop", formation={"web": 1}, running=False, boot_seconds=3)
        world.add_app("big", formation={"web": 3, "worker": 1}, boot_seconds=3)
        world.add_app("busy", formation={"web": 1}, steady_every=1)
        world.add_app("docs", formation={"web": 1}, running=False, boot_seconds=5)
        world.add_app("wiki", formation={"web": 1}, running=False, boot_seconds=10)
        instances = [Instance(env, tmp_path, "a"), Instance(env, tmp_path, "b")]
        try:
            yield Rig(world, slack, slow[0], database, instances)
        finally:
            for instance in instances:
                instance.stop()
        outputs = "\n".join(i.output() for i in instances)
        assert "Traceback" not in outputs, outputs
        assert processes.TOKEN not in outputs


@pytest.mark.slow
def test_two_instances_on_one_postgresql_sweep_once_wake_once_and_survive_a_kill(rig: Rig) -> None:
    world, slack, database = rig.world, rig.slack, rig.database
    assert wait_until(lambda: all(i.up() for i in rig.instances), 30), [i.output() for i in rig.instances]
    assert wait_until(lambda: sum(i.leads() for i in rig.instances) == 1, 10)
    leader, follower = sorted(rig.instances, key=lambda i: not i.leads())

    # the leader sweeps: `big` (idle) is put to sleep; Scalingo's answer takes 30 s
    assert rig.slow.sleep_taken.wait(20), leader.output()

    # 20 people click Wake on `shop`, half on each instance: one wake at the provider
    shop = app_id_of(database, "shop")
    keys = [f"k{n}" for n in range(CLICKS)]
    with ThreadPoolExecutor(CLICKS) as pool:
        statuses = list(pool.map(lambda n: rig.instances[n % 2].click(slack, shop, USERS[n], keys[n]), range(CLICKS)))
    assert statuses == [200] * CLICKS
    assert slack.wait_for(
        lambda: all(slack.responses(k) and "is up" in slack.responses(k)[-1]["text"] for k in keys), 20
    ), [slack.responses(k) for k in keys]
    assert rig.wake_calls(shop) == 1
    assert "app.slept" not in leader.output()  # still in the middle of its sleep

    # someone wakes `docs` (5 s to boot) on the leader, which follows it
    docs = app_id_of(database, "docs")
    assert leader.click(slack, docs, USERS[1], "docs") == 200
    assert slack.wait_for(lambda: "Waking docs" in (slack.responses("docs") or [{}])[-1].get("text", ""), 5)

    # SIGKILL the leader mid-sleep and mid-wake: the other instance leads within 30 s
    killed_at = time.monotonic()
    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(timeout=5)
    assert wait_until(follower.leads, 30), follower.output()
    takeover = time.monotonic() - killed_at
    assert takeover < 30

    # the sleep it left is finished by the new leader; a wake restores web 3, worker 1
    big = app_id_of(database, "big")
    assert wait_until(lambda: "sleep.reconciled" in follower.output(), 15), follower.output()
    assert wait_until(lambda: world.app("big").state is AppState.SLEEPING, 30)
    assert follower.click(slack, big, USERS[0], "big") == 200
    assert slack.wait_for(lambda: "is up" in (slack.responses("big") or [{}])[-1].get("text", ""), 20)
    assert world.app("big").formation.amount("web") == 3
    assert world.app("big").formation.amount("worker") == 1
    assert count_events(database, "slept", big) == 1  # finished once, by the survivor
    assert count_events(database, "woke", shop) == 1

    # the wake of `docs` was followed to its end by the survivor: its message completed once
    assert slack.wait_for(lambda: "is up" in slack.responses("docs")[-1]["text"], 20), (
        [r["text"] for r in slack.responses("docs")],
        follower.output(),
    )
    assert sum("is up" in r["text"] for r in slack.responses("docs")) == 1
    assert rig.wake_calls(docs) == 1
    assert "wake.resumed" in follower.output()

    periods = sweep_periods(leader, follower)
    assert len(periods) >= 3
    assert len(periods) == len(set(periods))  # never twice for one scheduled time
    assert world.app("busy").state is AppState.RUNNING
    print(f"\ntakeover after SIGKILL: {takeover:.1f} s; sweeps: {len(periods)}")


@pytest.mark.slow
def test_a_wake_in_flight_when_an_instance_gets_sigterm_is_completed_by_the_other_never_told_failed(rig: Rig) -> None:
    world, slack = rig.world, rig.slack
    assert wait_until(lambda: all(i.up() for i in rig.instances), 30), [i.output() for i in rig.instances]
    assert wait_until(lambda: sum(i.leads() for i in rig.instances) == 1, 10)
    leader, follower = sorted(rig.instances, key=lambda i: not i.leads())

    # someone wakes `wiki` (10 s to boot) on the follower, which follows it; the platform stops it
    wiki = app_id_of(rig.database, "wiki")
    assert follower.click(slack, wiki, USERS[2], "wiki") == 200
    assert slack.wait_for(lambda: "Waking wiki" in (slack.responses("wiki") or [{}])[-1].get("text", ""), 5)
    follower.process.send_signal(signal.SIGTERM)
    assert follower.process.wait(timeout=20) == 0, follower.output()
    assert "wake.left_for_resume" in follower.output()

    # the leader takes the wake over and completes its message, once; nobody reads "failed"
    assert slack.wait_for(lambda: "is up" in slack.responses("wiki")[-1]["text"], 30), (
        slack.responses("wiki"),
        leader.output(),
    )
    texts = [r["text"] for r in slack.responses("wiki")]
    assert sum("is up" in t for t in texts) == 1
    assert not any("fail" in t for t in texts), texts
    assert rig.wake_calls(wiki) == 1
    assert world.app("wiki").state is AppState.RUNNING
    assert "wake.resumed" in leader.output()
    assert count_events(rig.database, "wake_failed", wiki) == 0
