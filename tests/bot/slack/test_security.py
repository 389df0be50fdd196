"""Forged, malformed, oversized and replayed requests (issue 10, items 1, 6, 7): nothing
unverified is acted on, Paastis never posts outside Slack, and a flood of forgeries never
delays a genuine command."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from tests.bot.slack.conftest import ADMIN, ALICE, SECRET, Rig, signed_headers
from tests.bot.slack.test_errors import button
from tests.bot.slack.test_server import command_body, http, running
from tests.fakes.slack_api import FakeSlack


class Recorder:
    """A server outside Slack (an attacker's): counts what reaches it, answers after `delay` s."""

    def __init__(self, delay: float = 0.0) -> None:
        self.hits: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                recorder.hits.append(self.path)
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def evil() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.close()


def forged_click(response_url: str) -> str:
    return "payload=" + quote(json.dumps(button(response_url=response_url)))


MALFORMED_HEADERS = {
    "a timestamp that is not a number": {"x-slack-request-timestamp": ["x"], "x-slack-signature": ["v0=abc"]},
    "an empty timestamp": {"x-slack-request-timestamp": [""], "x-slack-signature": ["v0=abc"]},
    "a float timestamp": {"x-slack-request-timestamp": ["1.7e9"], "x-slack-signature": ["v0=abc"]},
    "no signature": {"x-slack-request-timestamp": [str(int(time.time()))]},
    "no headers at all": {},
    "a signature of another scheme": {"x-slack-request-timestamp": [str(int(time.time()))], "x-slack-signature": ["x"]},
}


@pytest.mark.parametrize("headers", MALFORMED_HEADERS.values(), ids=MALFORMED_HEADERS.keys())
def test_a_malformed_signature_header_is_a_401_and_nothing_is_posted(rig: Rig, evil: Recorder, caplog, headers) -> None:
    from slack_bolt.request import BoltRequest

    body = forged_click(evil.url)
    with caplog.at_level(logging.INFO):
        response = rig.bolt.dispatch(
            BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"], **headers})
        )
        rig.bolt.listener_runner.listener_executor.submit(lambda: None).result()
    time.sleep(0.2)  # what would have been posted has had time to leave
    assert response.status == 401
    assert evil.hits == []
    assert rig.wake_calls("shop-demo") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_paastis_never_posts_to_a_response_url_outside_slack(rig: Rig, evil: Recorder, caplog) -> None:
    """A signed payload whose response_url points elsewhere: the acknowledgement answers,
    nothing leaves for that URL — neither the wake's progress nor an apology."""
    body = urlencode(
        {
            "command": "/paastis",
            "text": "wake shop-demo",
            "user_id": ALICE,
            "user_name": "alice",
            "channel_id": "C0GENERAL",
            "team_id": "T0TEST",
            "response_url": evil.url,
        }
    )
    with caplog.at_level(logging.WARNING):
        with rig.held_wakes():
            response = rig.dispatch(body)
            assert rig.slack.wait_for(lambda: rig.wake_threads)  # the wake began: its answers were sent
        assert (response.status, response.body) == (200, "")
        assert rig.paastis.engine.wait_idle(5)
        assert rig.side.response_urls.flush()
        rig.dispatch(forged_click(evil.url).replace("paastis.wake", "paastis.bogus"))
        time.sleep(0.3)
    assert evil.hits == []
    assert "slack.response_url_refused" in caplog.text
    assert "host=127.0.0.1" in caplog.text


def test_a_replayed_signed_request_is_answered_without_acting(rig: Rig) -> None:
    body = urlencode(
        {
            "command": "/paastis",
            "text": "keep hello 2h",
            "user_id": ADMIN,
            "user_name": "ada",
            "channel_id": "C0GENERAL",
            "team_id": "T0TEST",
            "response_url": rig.slack.response_url("replay"),
        }
    )
    headers = signed_headers(body)
    from slack_bolt.request import BoltRequest

    first = rig.bolt.dispatch(BoltRequest(body=body, headers=headers))
    again = rig.bolt.dispatch(BoltRequest(body=body, headers=headers))  # the same bytes, 2 s later or at once
    assert (first.status, again.status) == (200, 200)
    assert rig.last_response("replay")["text"].startswith("📌 hello stays awake until")
    rig.bolt.listener_runner.listener_executor.submit(lambda: None).result()  # what was queued before ran
    assert rig.side.response_urls.flush()
    assert len(rig.slack.responses("replay")) == 1  # the replay was not acted on
    assert [e.action for e in rig.paastis.store.events(limit=10)].count("kept") == 1
    fresh = rig.dispatch(body, timestamp=int(time.time()) + 1)  # signed again, a new timestamp: a new request
    assert fresh.status == 200
    assert rig.slack.wait_for(lambda: len(rig.slack.responses("replay")) == 2)
    assert rig.slack.responses("replay")[1]["text"].startswith("📌 hello stays awake until")


# -- over HTTP -----------------------------------------------------------------------------


class Silent:
    """A server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/never"

    def close(self) -> None:
        self._stop.set()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def test_48_forgeries_pointing_at_a_silent_server_never_delay_a_genuine_command(
    tmp_path: Path, slack: FakeSlack
) -> None:
    silent = Silent()
    try:
        with running(tmp_path, slack) as port:
            forged = forged_click(silent.url)
            headers = {"x-slack-request-timestamp": ["x"], "x-slack-signature": ["v0=forged"]}
            headers["content-type"] = ["application/x-www-form-urlencoded"]
            with ThreadPoolExecutor(48) as pool:
                forgeries = [pool.submit(http, port, "/slack/events", forged, headers) for _ in range(48)]
                time.sleep(0.5)  # the forgeries are in
                body = command_body(slack, "status")
                started = time.monotonic()
                status, answer = http(port, "/slack/events", body, signed_headers(body))
                took = time.monotonic() - started
                codes = [f.result()[0] for f in forgeries]
            assert slack.wait_for(lambda: slack.responses("http"))  # the answer, through the response_url
        assert (status, answer) == (200, "")
        assert slack.responses("http")[0]["text"] == "3 apps · 2 running · 1 asleep"
        assert took < 2.0, took
        assert set(codes) == {401}
        assert silent.accepted == []
    finally:
        silent.close()


def test_a_body_over_1_mib_is_refused_before_it_is_read(tmp_path: Path, slack: FakeSlack) -> None:
    with running(tmp_path, slack) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            started = time.monotonic()
            conn.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: paastis\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 314572800\r\n\r\n" + b"x" * 65536
            )  # 300 MiB announced, 64 KiB sent: the answer must not wait for the rest
            answer = conn.recv(200).decode(errors="replace")
            took = time.monotonic() - started
        assert answer.startswith("HTTP/1.1 413"), answer
        assert took < 2.0
        small = command_body(slack, "status")
        assert http(port, "/slack/events", small, signed_headers(small))[0] == 200


def test_every_verified_request_still_works_with_the_signature_checked_by_paastis(rig: Rig) -> None:
    """The plain cases stay as they were: a good signature passes, a wrong or stale one is a 401."""
    body = urlencode({"command": "/paastis", "text": "help", "user_id": ALICE, "response_url": "x"})
    assert rig.dispatch(body).status == 200
    assert rig.dispatch(body, secret="wrong").status == 401
    assert rig.dispatch(body, timestamp=int(time.time()) - 301).status == 401
    assert rig.dispatch(body, timestamp=int(time.time()) + 301).status == 401
    assert SECRET not in body


@pytest.mark.parametrize(
    ("api_url", "url", "allowed"),
    [
        ("https://slack.com/api/", "https://hooks.slack.com/commands/T0/1/abc", True),
        ("https://slack.com/api/", "https://hooks.slack.com:443/actions/T0/1/abc", True),
        ("https://slack.com/api/", "http://hooks.slack.com/commands/T0/1/abc", False),  # not https
        ("https://slack.com/api/", "https://hooks.slack.com.evil.example/x", False),
        ("https://slack.com/api/", "https://evil.example/hooks.slack.com/x", False),
        ("https://slack.com/api/", "https://user:pw@hooks.slack.com/x", False),
        ("https://slack.com/api/", "https://slack.com.evil.example/api/", False),
        ("https://slack-gov.com/api/", "https://hooks.slack-gov.com/commands/T0/1/abc", True),
        ("http://127.0.0.1:8123/api/", "http://127.0.0.1:8123/response/r1", True),  # a test's fake Slack
        ("http://127.0.0.1:8123/api/", "http://127.0.0.1:8124/response/r1", False),  # another port
        ("https://slack.com/api/", "not a url", False),
    ],
)
def test_response_urls_are_slacks_own(api_url: str, url: str, allowed: bool) -> None:
    from bot.slack.response_urls import ResponseUrls
    from tests.fakes.clock import FakeClock

    urls = ResponseUrls(api_url, FakeClock())
    try:
        assert urls.allows(url) is allowed
    finally:
        urls.close()
