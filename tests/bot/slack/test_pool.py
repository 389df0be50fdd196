"""The listener pool lets acknowledgements go first: an answer waits while a request is being
acknowledged, and a steady stream of requests delays answers without stopping them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.slack.pool import ListenerPool


@pytest.fixture
def pool() -> Iterator[ListenerPool]:
    p = ListenerPool(2, quiet=0.05, patience=10)
    yield p
    p.shutdown(wait=True)


def test_an_answer_waits_while_a_request_is_being_acknowledged(pool: ListenerPool) -> None:
    ran = threading.Event()
    with pool.acknowledging():
        pool.submit(ran.set)
        assert not ran.wait(0.5)  # far longer than `quiet`: held by the acknowledgement alone
    assert ran.wait(5)


def test_answers_asked_in_a_quiet_moment_run(pool: ListenerPool) -> None:
    with pool.acknowledging():
        pass
    done = [pool.submit(lambda n=n: n) for n in range(5)]
    assert [f.result(timeout=5) for f in done] == [0, 1, 2, 3, 4]


def test_a_steady_stream_of_requests_delays_answers_but_never_stops_them() -> None:
    pool = ListenerPool(1, quiet=0.05, patience=0.3)
    ran = threading.Event()
    try:
        with pool.acknowledging():  # a request that never ends
            pool.submit(ran.set)
            assert ran.wait(5)
    finally:
        pool.shutdown(wait=True)


def test_answers_start_in_the_order_they_were_asked() -> None:
    pool = ListenerPool(1, quiet=0.01, patience=10)
    started: list[int] = []
    try:
        with pool.acknowledging():
            futures = [pool.submit(started.append, n) for n in range(50)]
        for future in futures:
            future.result(timeout=5)
    finally:
        pool.shutdown(wait=True)
    assert started == list(range(50))
