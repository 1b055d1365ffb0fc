"""Tests for region/mvcc.py: the read point advances only past a completed prefix."""

from __future__ import annotations

import random
import threading
import time

import pytest

from hedgerow.region.mvcc import MVCC


def test_begin_assigns_consecutive_numbers() -> None:
    m = MVCC(10)
    assert m.read_point == 10
    assert m.last_assigned == 10
    assert [m.begin() for _ in range(3)] == [11, 12, 13]
    assert m.last_assigned == 13
    assert m.read_point == 10


def test_in_order_completes() -> None:
    m = MVCC(0)
    a, b = m.begin(), m.begin()
    m.complete(a)
    assert m.read_point == 1
    m.complete(b)
    assert m.read_point == 2


def test_out_of_order_completes_wait_for_the_prefix() -> None:
    m = MVCC(0)
    s1, s2, s3, s4 = (m.begin() for _ in range(4))
    m.complete(s2)
    assert m.read_point == 0
    m.complete(s4)
    assert m.read_point == 0
    m.complete(s1)
    assert m.read_point == 2  # 1 and 2 are done; 3 is not
    m.complete(s3)
    assert m.read_point == 4


def test_reverse_order_completes() -> None:
    m = MVCC(100)
    seqs = [m.begin() for _ in range(5)]
    for s in reversed(seqs[1:]):
        m.complete(s)
        assert m.read_point == 100
    m.complete(seqs[0])
    assert m.read_point == 105


def test_random_completion_orders_match_model() -> None:
    rng = random.Random(42)
    for _ in range(200):
        start = rng.randint(0, 1000)
        m = MVCC(start)
        n = rng.randint(1, 30)
        seqs = [m.begin() for _ in range(n)]
        order = seqs[:]
        rng.shuffle(order)
        done: set[int] = set()
        last = start
        for s in order:
            m.complete(s)
            done.add(s)
            expected = start
            while expected + 1 in done:
                expected += 1
            assert m.read_point == expected
            assert m.read_point >= last  # never goes backwards
            last = m.read_point
        assert m.read_point == start + n


def test_interleaved_begin_and_complete() -> None:
    m = MVCC(0)
    s1 = m.begin()
    s2 = m.begin()
    m.complete(s2)
    s3 = m.begin()
    m.complete(s1)
    assert m.read_point == 2
    m.complete(s3)
    assert m.read_point == 3


# ------------------------------------------------------------------ wait_for


def test_wait_for_already_visible_returns_immediately() -> None:
    m = MVCC(5)
    t0 = time.monotonic()
    assert m.wait_for(5, timeout_s=5) is True
    assert m.wait_for(3, timeout_s=5) is True
    assert time.monotonic() - t0 < 1


def test_wait_for_times_out() -> None:
    m = MVCC(0)
    m.begin()
    t0 = time.monotonic()
    assert m.wait_for(1, timeout_s=0.05) is False
    assert time.monotonic() - t0 >= 0.04


def test_wait_for_blocks_until_visible() -> None:
    m = MVCC(0)
    s1, s2 = m.begin(), m.begin()
    results: dict[str, object] = {}
    returned = threading.Event()

    def waiter() -> None:
        results["ok"] = m.wait_for(s2, timeout_s=10)
        results["rp"] = m.read_point
        returned.set()

    t = threading.Thread(target=waiter)
    t.start()
    m.complete(s2)  # finished but not visible: 1 is still pending
    assert not returned.wait(0.1), "wait_for returned before the write was visible"
    m.complete(s1)
    assert returned.wait(5)
    t.join(5)
    assert results == {"ok": True, "rp": 2}


def test_many_writers_and_waiters() -> None:
    m = MVCC(0)
    errors: list[BaseException] = []
    lock = threading.Lock()  # the region's update lock: begin happens under it

    def writer(seed: int) -> None:
        r = random.Random(seed)
        try:
            for _ in range(50):
                with lock:
                    s = m.begin()
                if r.random() < 0.3:
                    time.sleep(0.0005)
                m.complete(s)
                assert m.wait_for(s, timeout_s=10), f"seq {s} never became visible"
                assert m.read_point >= s
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[0]
    assert m.read_point == m.last_assigned == 400


# ------------------------------------------------------------------ advance_to


def test_advance_to_jumps_forward() -> None:
    m = MVCC(0)
    m.advance_to(50)
    assert m.read_point == 50
    assert m.last_assigned == 50
    assert m.begin() == 51


def test_advance_to_never_goes_backwards() -> None:
    m = MVCC(20)
    m.advance_to(10)
    assert m.read_point == 20
    assert m.begin() == 21


def test_advance_to_with_writes_in_flight_raises() -> None:
    m = MVCC(0)
    s = m.begin()
    with pytest.raises(RuntimeError, match="in flight"):
        m.advance_to(10)
    assert m.read_point == 0
    m.complete(s)
    m.advance_to(10)
    assert m.read_point == 10
