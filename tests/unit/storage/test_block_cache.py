"""Block cache: byte budget, LRU order, counters, evict_file, thread safety."""

from __future__ import annotations

import random
import threading

import pytest

from hedgerow.storage.block_cache import BlockCache


def test_budget_respected_and_lru_evicted_first():
    c = BlockCache(100)
    c.put((1, 0), "a", 40)
    c.put((1, 1), "b", 40)
    assert c.get((1, 0)) == "a"  # (1, 0) is now most recently used
    c.put((1, 2), "c", 40)  # over budget: evicts (1, 1), the least recently used
    assert c.used_bytes == 80 <= c.capacity_bytes
    assert c.get((1, 1)) is None
    assert c.get((1, 0)) == "a"
    assert c.get((1, 2)) == "c"
    assert c.evictions == 1
    assert (c.hits, c.misses) == (3, 1)
    assert c.stats() == {
        "capacity_bytes": 100,
        "used_bytes": 80,
        "in_memory_bytes": 0,
        "entries": 2,
        "hits": 3,
        "misses": 1,
        "evictions": 1,
    }


def test_replace_updates_charge():
    c = BlockCache(100)
    c.put((1, 0), "a", 10)
    c.put((1, 0), "a2", 30)
    assert c.used_bytes == 30
    assert len(c) == 1
    assert c.get((1, 0)) == "a2"


def test_oversized_value_not_cached():
    c = BlockCache(100)
    c.put((1, 0), "small", 10)
    c.put((1, 1), "huge", 101)
    assert c.get((1, 1)) is None
    assert c.get((1, 0)) == "small"
    assert c.evictions == 0


def test_zero_capacity_caches_nothing():
    c = BlockCache(0)
    c.put((1, 0), "a", 1)
    assert c.get((1, 0)) is None
    assert c.used_bytes == 0


def test_many_evictions_keep_most_recent():
    c = BlockCache(10 * 7)
    for i in range(100):
        c.put((0, i), i, 7)
    assert len(c) == 10
    assert [c.get((0, i)) for i in range(90, 100)] == list(range(90, 100))
    assert c.evictions == 90


def test_evict_file_drops_only_that_file():
    c = BlockCache(1000)
    for f in (1, 2):
        for off in range(5):
            c.put((f, off * 100), (f, off), 10)
    assert c.evict_file(1) == 5
    assert c.evict_file(1) == 0
    assert c.used_bytes == 50
    assert all(c.get((1, off * 100)) is None for off in range(5))
    assert all(c.get((2, off * 100)) == (2, off) for off in range(5))
    assert c.evictions == 0
    c.check()


def test_clear():
    c = BlockCache(1000)
    c.put((1, 0), "a", 10)
    c.clear()
    assert (len(c), c.used_bytes) == (0, 0)
    assert c.get((1, 0)) is None


def test_negative_capacity_rejected():
    with pytest.raises(ValueError):
        BlockCache(-1)


def test_concurrent_access_from_threads():
    c = BlockCache(5000)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        try:
            rng = random.Random(seed)
            barrier.wait()
            for _ in range(5000):
                key = (rng.randrange(4), rng.randrange(200))
                got = c.get(key)
                if got is not None:
                    assert got == key  # never another key's value
                else:
                    c.put(key, key, rng.randrange(1, 100))
                if rng.random() < 0.001:
                    c.evict_file(rng.randrange(4))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stats = c.stats()
    assert stats["hits"] + stats["misses"] == 8 * 5000
    assert c.used_bytes <= c.capacity_bytes
    c.check()


def test_in_memory_blocks_outlive_ordinary_ones():
    """HBase IN_MEMORY: a scan of ordinary blocks does not push in-memory blocks out."""
    c = BlockCache(1000)  # in-memory share: 250 bytes
    c.put((9, 0), "hot", 100, in_memory=True)
    c.put((9, 1), "hot2", 100, in_memory=True)
    for i in range(50):  # a long scan through ordinary blocks
        c.put((1, i), f"b{i}", 100)
    assert c.get((9, 0)) == "hot" and c.get((9, 1)) == "hot2"
    assert c.stats()["in_memory_bytes"] == 200
    assert c.used_bytes == 1000 and c.evictions == 42
    # beyond its share the in-memory list evicts its own least recently used block
    c.put((9, 2), "hot3", 100, in_memory=True)  # 300 > 250
    c.put((1, 99), "x", 100)
    assert c.get((9, 0)) is None and c.get((9, 1)) == "hot2" and c.get((9, 2)) == "hot3"
    # and evict_file and replacing a key keep the accounting right
    assert c.evict_file(9) == 2
    assert c.stats()["in_memory_bytes"] == 0
    c.put((1, 99), "y", 50, in_memory=True)
    assert c.get((1, 99)) == "y" and c.stats()["in_memory_bytes"] == 50
