"""Tests for storage/memstore.py (the core's MemStore): ranges vs a sorted model, sizes,
freeze, cells, threads."""

from __future__ import annotations

import bisect
import random
import threading

import pytest

from hedgerow.model.keys import encode_key
from hedgerow.storage.memstore import MemStore

_OVERHEAD = 120  # memstore._ENTRY_OVERHEAD, pinned: flush decisions depend on it


def random_key(rng: random.Random) -> bytes:
    row = bytes(rng.choice(b"\x00\x01ab\xff") for _ in range(rng.randint(1, 4)))
    qual = bytes(rng.choice(b"\x00xy") for _ in range(rng.randint(0, 2)))
    return encode_key(row, qual, rng.randint(0, 50), rng.choice([4, 8, 14]), rng.randint(0, 10**6))


def filled(n: int, seed: int) -> tuple[MemStore, dict[bytes, bytes]]:
    rng = random.Random(seed)
    m = MemStore()
    model: dict[bytes, bytes] = {}
    while len(model) < n:
        k = random_key(rng)
        v = rng.randbytes(rng.randint(0, 8))
        m.add(k, v)
        model[k] = v
    return m, model


# ------------------------------------------------------------------ iter_range


def test_iter_range_matches_sorted_model() -> None:
    m, model = filled(1500, seed=1)  # > 256 entries: several chunks
    keys = sorted(model)
    assert len(m) == 1500
    assert list(m.iter_range()) == [(k, model[k]) for k in keys]
    rng = random.Random(2)
    probes = keys + [random_key(rng) for _ in range(200)] + [b"", b"\x00", b"\xff" * 30]
    for _ in range(400):
        start = rng.choice(probes)
        stop = rng.choice(probes + [None])  # type: ignore[list-item]
        lo = bisect.bisect_left(keys, start)
        hi = len(keys) if stop is None else bisect.bisect_left(keys, stop)
        expected = [(k, model[k]) for k in keys[lo : max(lo, hi)]]
        assert list(m.iter_range(start, stop)) == expected, (start, stop)


@pytest.mark.parametrize("n", [255, 256, 257, 512, 513])
def test_iter_range_chunk_boundaries(n: int) -> None:
    m = MemStore()
    keys = [b"k%05d" % i for i in range(n)]
    for k in reversed(keys):
        m.add(k, k[::-1])
    assert [k for k, _ in m.iter_range()] == keys
    assert [v for _, v in m.iter_range()] == [k[::-1] for k in keys]
    # stop exactly on a chunk boundary, start just after one
    assert [k for k, _ in m.iter_range(stop=keys[min(256, n - 1)])] == keys[: min(256, n - 1)]
    b = min(255, n - 1)
    assert [k for k, _ in m.iter_range(keys[b])] == keys[b:]
    assert [k for k, _ in m.iter_range(keys[b] + b"\x00")] == keys[b + 1 :]


def test_iter_range_empty_and_inverted() -> None:
    m = MemStore()
    assert list(m.iter_range()) == []
    m.add(b"b", b"1")
    m.add(b"d", b"2")
    assert list(m.iter_range(b"c", b"c")) == []
    assert list(m.iter_range(b"d", b"b")) == []
    assert list(m.iter_range(b"b", b"d")) == [(b"b", b"1")]
    assert list(m.iter_range(b"b", b"d\x00")) == [(b"b", b"1"), (b"d", b"2")]
    assert list(m.iter_range(b"e")) == []


# ------------------------------------------------------------------ add, sizes


def test_overwrite_same_key() -> None:
    m = MemStore()
    m.add(b"key", b"aaa")
    size = m.size_bytes
    assert size == 3 + 3 + _OVERHEAD
    m.add(b"key", b"bbb")
    assert len(m) == 1
    assert m.size_bytes == size
    assert list(m.iter_range()) == [(b"key", b"bbb")]
    assert m.add_many([(b"key", b"ccc")]) == 0
    assert list(m.iter_range()) == [(b"key", b"ccc")]
    m._check()


def test_overwrite_with_longer_value_updates_size() -> None:
    m = MemStore()
    m.add(b"key", b"a")
    m.add(b"key", b"a" * 100)
    assert m.size_bytes == 3 + 100 + _OVERHEAD


def test_size_accounting() -> None:
    m = MemStore()
    assert m.size_bytes == 0
    m.add(b"abc", b"12345")
    assert m.size_bytes == 8 + _OVERHEAD
    added = m.add_many([(b"x", b""), (b"yy", b"zz"), (b"x", b"")])
    assert added == (1 + _OVERHEAD) + (4 + _OVERHEAD)
    assert m.size_bytes == 8 + 1 + 4 + 3 * _OVERHEAD
    assert len(m) == 3

    big, model = filled(600, seed=3)
    assert big.size_bytes == sum(len(k) + len(v) + _OVERHEAD for k, v in model.items())


def test_add_many_inserts_sorted() -> None:
    m = MemStore()
    entries = [(b"k%03d" % i, b"v%d" % i) for i in random.Random(4).sample(range(300), 300)]
    m.add_many(entries)
    assert list(m.iter_range()) == sorted(entries)
    m._check()


def test_freeze_makes_writes_raise() -> None:
    m = MemStore()
    m.add(b"a", b"1")
    m.freeze()
    assert m.frozen
    with pytest.raises(RuntimeError, match="frozen"):
        m.add(b"b", b"2")
    with pytest.raises(RuntimeError, match="frozen"):
        m.add_many([(b"b", b"2")])
    with pytest.raises(RuntimeError, match="frozen"):
        m.add(b"a", b"overwrite")
    # reads still work and nothing changed
    assert list(m.iter_range()) == [(b"a", b"1")]
    assert len(m) == 1 and m.size_bytes == 2 + _OVERHEAD


# ------------------------------------------------------------------ point lookups


def test_last_key_before_and_first_last() -> None:
    m = MemStore()
    assert m.last_key_before(b"z") is None
    assert m.first_key() is None and m.last_key() is None
    m, model = filled(700, seed=5)
    keys = sorted(model)
    assert m.first_key() == keys[0] and m.last_key() == keys[-1]
    rng = random.Random(6)
    for probe in keys[:50] + [random_key(rng) for _ in range(300)] + [b"", b"\xff" * 40]:
        i = bisect.bisect_left(keys, probe)
        assert m.last_key_before(probe) == (keys[i - 1] if i else None)
    assert m.last_key_before(keys[0]) is None
    assert m.last_key_before(keys[1]) == keys[0]


# ------------------------------------------------------------------ invariants


def test_check_passes() -> None:
    # the damage-detection half lives in rust/src/memstore.rs (check_detects_bad_accounting):
    # the map is not reachable from Python
    m, _ = filled(300, seed=7)
    m._check()
    m.remove_many([k for k, _ in list(m.iter_range())[::3]])
    m._check()


# ------------------------------------------------------------------ cells (the write path)


def test_add_cells_encodes_keys_and_remove_cells_undoes_it() -> None:
    m = MemStore()
    m.add(b"other", b"x")
    cells = [
        (b"r\x00w", b"q", 5, 4, b"v1"),
        (b"r", b"", 7, 14, b""),
        (b"r\x00w", b"q", 5, 4, b"v2"),  # same cell twice in a batch: the last wins
    ]
    added = m.add_cells(cells, 9)
    k1 = encode_key(b"r\x00w", b"q", 5, 4, 9)
    k2 = encode_key(b"r", b"", 7, 14, 9)
    assert dict(m.iter_range()) == {b"other": b"x", k1: b"v2", k2: b""}
    assert added == len(k1) + 2 + len(k2) + 2 * _OVERHEAD
    m.freeze()  # a failed write's rollback still works on a snapshot
    m.remove_cells(cells, 9)
    assert list(m.iter_range()) == [(b"other", b"x")]
    assert m.size_bytes == 6 + _OVERHEAD
    with pytest.raises(RuntimeError, match="frozen"):
        m.add_cells(cells, 10)


def test_bad_inputs_raise_and_change_nothing() -> None:
    m = MemStore()
    with pytest.raises(TypeError):
        m.add(b"k", "str")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.add_many([(b"a", b"1"), (b"b",)])  # type: ignore[list-item]
    with pytest.raises(OverflowError):
        m.add_cells([(b"r", b"q", -1, 4, b"v")], 1)
    with pytest.raises(OverflowError):
        m.add_cells([(b"r", b"q", 1, 256, b"v")], 1)
    assert len(m) == 0 and m.size_bytes == 0


def test_items_equals_iter_range() -> None:
    m, model = filled(800, seed=9)
    keys = sorted(model)
    for lo, hi in [(0, 800), (10, 11), (5, 700), (300, 300)]:
        start = keys[lo]
        stop = keys[hi] if hi < 800 else b"\xff" * 40
        assert m.items(start, stop) == list(m.iter_range(start, stop))


# ------------------------------------------------------------------ concurrency


def test_concurrent_writer_and_readers() -> None:
    rng = random.Random(8)
    pending = list({random_key(rng) for _ in range(30000)})
    rng.shuffle(pending)
    m = MemStore()
    for k in pending[:1000]:
        m.add(k, k[-4:])
    written = pending[:1000]  # appended by the writer after each add
    errors: list[BaseException] = []
    scans = [0]
    overlapping = [0]  # scans that ran entirely while the writer was writing
    done = threading.Event()
    started = threading.Event()

    def writer() -> None:
        started.wait(10)
        try:
            for i, k in enumerate(pending[1000:]):
                if i % 50 == 0:
                    m.add_many([(k, k[-4:])])
                else:
                    m.add(k, k[-4:])
                written.append(k)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            done.set()

    def reader(seed: int) -> None:
        r = random.Random(seed)
        try:
            while not done.is_set() or scans[0] < 6:
                before = set(written[: len(written)])
                during = not done.is_set()
                start = r.choice([b"", *before]) if r.random() < 0.5 else b""
                got = list(m.iter_range(start))
                keys = [k for k, _ in got]
                assert all(a < b for a, b in zip(keys, keys[1:], strict=False)), "not sorted"
                assert all(v == k[-4:] for k, v in got), "value does not belong to key"
                missing = {k for k in before if k >= start} - set(keys)
                assert not missing, f"{len(missing)} keys present before the scan are missing"
                scans[0] += 1
                if during and not done.is_set():
                    overlapping[0] += 1
                started.set()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]
    assert scans[0] >= 6
    assert overlapping[0] >= 1, "no scan overlapped the writer; the test proved nothing"
    assert len(m) == len(pending)
    assert [k for k, _ in m.iter_range()] == sorted(pending)
    m._check()
