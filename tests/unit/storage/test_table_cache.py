"""Table cache: the open-handle bound, LRU order, reopen on demand, pins, missing files,
thread safety; and the engine reading through it (max_open_files)."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path
from typing import Any

import pytest

import hedgerow
from hedgerow.errors import ClosedError, CorruptionError, InvalidArgument, RegionClosed
from hedgerow.storage.fs import LocalFS, LocalRandomAccessFile
from hedgerow.storage.table_cache import TableCache


def make_files(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = tmp_path / f"f{i:03d}"
        p.write_bytes(b"%04d" % i * 16)
        paths.append(str(p))
    return paths


def test_bound_lru_order_and_reopen(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 5)
    cache = TableCache(LocalFS(), capacity=2)
    files = [cache.open(p) for p in paths]
    assert cache.open_handles == 0  # opening costs nothing until the first read
    assert files[0].pread(4, 0) == b"0000"
    assert files[1].pread(4, 4) == b"0001"
    assert files[0].pread(4, 8) == b"0000"  # 0 is now the most recently used
    assert files[2].pread(4, 0) == b"0002"  # evicts 1, not 0
    assert cache.open_handles == 2
    assert [f._handle is not None for f in files] == [True, False, True, False, False]
    assert files[1].pread(4, 0) == b"0001"  # reopened on demand; evicts 0
    assert [f._handle is not None for f in files] == [False, True, True, False, False]
    assert files[3].size() == 64
    assert cache.stats() == {"open_files": 2, "capacity": 2, "opens": 5, "evictions": 3}
    cache._check()
    for f in files:
        f.close()
    assert cache.open_handles == 0
    with pytest.raises(ClosedError, match="f000"):
        files[0].pread(1, 0)
    files[0].close()  # idempotent


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity >= 1"):
        TableCache(LocalFS(), capacity=0)


class GatedFS(LocalFS):
    """LocalFS whose handles can block inside pread and record closes during a read."""

    def __init__(self) -> None:
        self.gate: dict[str, threading.Event] = {}
        self.inside: dict[str, threading.Event] = {}
        self.closed_while_reading: list[str] = []
        self.open_calls: dict[str, int] = {}

    def open_read(self, path: str) -> Any:
        self.open_calls[path] = self.open_calls.get(path, 0) + 1
        fs = self
        base = LocalRandomAccessFile(path)

        class Handle:
            def __init__(self) -> None:
                self.path = path
                self.reading = 0

            def pread(self, n: int, offset: int) -> bytes:
                self.reading += 1
                try:
                    if path in fs.gate:
                        fs.inside[path].set()
                        assert fs.gate[path].wait(10)
                    return base.pread(n, offset)
                finally:
                    self.reading -= 1

            def size(self) -> int:
                return base.size()

            def close(self) -> None:
                if self.reading:
                    fs.closed_while_reading.append(path)
                base.close()

        return Handle()


def test_a_handle_in_use_is_never_closed(tmp_path: Path) -> None:
    """A read blocked inside pread pins its handle: other files' reads past the capacity
    leave it open (the bound is exceeded by the pinned one), and a close of its file
    waits for the read to return."""
    paths = make_files(tmp_path, 4)
    fs = GatedFS()
    cache = TableCache(fs, capacity=1)
    files = [cache.open(p) for p in paths]
    fs.gate[paths[0]] = threading.Event()
    fs.inside[paths[0]] = threading.Event()
    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.append(files[0].pread(4, 0)))
    t.start()
    try:
        assert fs.inside[paths[0]].wait(10)
        for f in files[1:]:  # each needs the one slot; only idle handles may go
            assert f.pread(4, 0) == f.path[-3:].encode().rjust(4, b"0")
        assert files[0]._handle is not None
        # the pinned one fills the budget: each other handle went when its read returned
        assert cache.open_handles == 1
        files[0].close()  # the reader is done with it, but a read is in flight
        assert files[0]._handle is not None
    finally:
        fs.gate[paths[0]].set()
        t.join(10)
    assert got == [b"0000"]
    assert fs.closed_while_reading == []
    assert files[0]._handle is None  # closed by the read that pinned it
    assert cache.open_handles == 0
    cache._check()


def test_two_readers_opening_one_file_keep_one_handle(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 1)
    barrier = threading.Barrier(2, timeout=10)

    class RacingFS(LocalFS):
        def open_read(self, path: str) -> LocalRandomAccessFile:
            h = LocalRandomAccessFile(path)
            barrier.wait()  # both readers are past the "no handle yet" check
            return h

    cache = TableCache(RacingFS(), capacity=4)
    f = cache.open(paths[0])
    out: list[bytes] = []
    threads = [threading.Thread(target=lambda: out.append(f.pread(4, 0))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert out == [b"0000", b"0000"]
    assert cache.open_handles == 1 and cache.stats()["opens"] == 1
    cache._check()


def test_missing_file_on_reopen(tmp_path: Path) -> None:
    """A file removed while its handle was evicted: RegionClosed when its store is closed
    (the region's directory went after a split, merge, truncate or delete; the request is
    routed again), CorruptionError naming it when the store still serves it."""
    paths = make_files(tmp_path, 3)
    cache = TableCache(LocalFS(), capacity=1)
    store_closed = {"yes": False}
    gone = cache.open(paths[0], owner_closed=lambda: store_closed["yes"])
    other = cache.open(paths[1])
    assert gone.pread(4, 0) == b"0000"
    assert other.pread(4, 0) == b"0001"  # evicts paths[0]
    os.remove(paths[0])
    with pytest.raises(CorruptionError, match="store file is missing.*f000"):
        gone.pread(4, 0)
    store_closed["yes"] = True
    with pytest.raises(RegionClosed, match="route the request again"):
        gone.pread(4, 0)
    cache._check()
    assert cache._pinned == 0


def test_threads_reading_many_files_through_a_small_cache(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 20)
    cache = TableCache(LocalFS(), capacity=3)
    files = [cache.open(p) for p in paths]
    errors: list[BaseException] = []

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(2000):
                i = rng.randrange(len(files))
                k = rng.randrange(16)
                assert files[i].pread(4, 4 * k) == b"%04d" % i
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[0]
    assert cache.open_handles <= 3
    cache._check()
    stats = cache.stats()
    assert stats["opens"] - stats["evictions"] == stats["open_files"]
    for f in files:
        f.close()
    assert cache.open_handles == 0


# ---- the engine reads through it -------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


ROWS = 30


def row(i: int) -> bytes:
    return b"r%04d" % i


def many_files_table(path: str, files: int, **options: Any) -> hedgerow.Connection:
    """A table whose one store holds ``files`` store files (no compaction), each holding
    column ``cf:<k>`` of all ``ROWS`` rows in 512-byte blocks (so a scan reads every file
    block by block as it goes)."""
    conn = hedgerow.connect(
        path,
        background=False,
        compaction_min_files=1000,
        compaction_max_files=1000,
        **options,
    )
    conn.create_table("t", {"cf": {"block_cache_enabled": False, "block_size": 512}})
    t = conn.table("t")
    for k in range(files):
        for i in range(ROWS):
            t.put(row(i), {b"cf:%d" % k: b"%d." % i + b"x" * 100})
        conn.flush_table("t")
    return conn


def expected(i: int, files: int) -> dict[bytes, bytes]:
    return {b"cf:%d" % k: b"%d." % i + b"x" * 100 for k in range(files)}


def test_engine_reads_every_file_within_the_budget(tmp_path: Path) -> None:
    before = open_fds()
    conn = many_files_table(str(tmp_path / "db"), 40, max_open_files=4)
    try:
        rs = conn.backend.region_server  # type: ignore[attr-defined]
        assert rs.table_cache.capacity == 4
        assert rs.region_metrics()[0]["store_files"] == 40
        t = conn.table("t")
        for i in random.Random(1).sample(range(ROWS), ROWS):
            assert t.row(row(i)) == expected(i, 40)
        assert list(t.scan()) == [(row(i), expected(i, 40)) for i in range(ROWS)]
        assert [k for k, _ in t.scan(reverse=True)][:3] == [row(29), row(28), row(27)]
        assert rs.table_cache.open_handles <= 4
        # 40 store files, meta's, the WAL, manifests, LOCK: well under 40 more descriptors
        assert open_fds() - before < 4 + 16
        assert conn.backend.status()["table_cache"]["open_files"] <= 4  # type: ignore[attr-defined]
        rs.table_cache._check()
    finally:
        conn.close()
    assert open_fds() <= before + 1


def test_a_scan_survives_its_region_being_split_and_its_files_evicted(tmp_path: Path) -> None:
    """A scan over a region that is split mid-way: the parent's directory is removed while
    the scan still holds its files, and with a 2-handle budget their handles are evicted;
    reopening one finds it gone, its store is closed, so the scan resumes on the daughters
    (RegionClosed) and returns every row once, whole."""
    import hedgerow.storage.table_cache as tc

    conn = many_files_table(str(tmp_path / "db"), 8, max_open_files=2)
    missing: list[str] = []
    orig = tc.CachedFile._missing

    def spy(self: tc.CachedFile) -> Exception:
        e = orig(self)
        missing.append(type(e).__name__)
        return e

    try:
        tc.CachedFile._missing = spy  # type: ignore[method-assign]
        t = conn.table("t")
        it = iter(t.scan(batch_size=1))
        got = [next(it) for _ in range(3)]
        conn.admin().split("t", row(15))
        for i in range(ROWS):  # reads of the daughters' linked files evict every handle
            assert t.row(row(i)) == expected(i, 8)
        got += list(it)
        assert got == [(row(i), expected(i, 8)) for i in range(ROWS)]
        assert missing and set(missing) == {"RegionClosed"}
    finally:
        tc.CachedFile._missing = orig  # type: ignore[method-assign]
        conn.close()


def test_max_open_files_option() -> None:
    import resource

    from hedgerow.engine.config import EngineConfig, max_open_files

    assert max_open_files(EngineConfig(max_open_files=7)) == 7
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    auto = max_open_files(EngineConfig())
    assert auto == (1 << 20 if soft == resource.RLIM_INFINITY else max(8, soft // 2))
    with pytest.raises(InvalidArgument, match="max_open_files must be >= 0"):
        EngineConfig.from_options({"max_open_files": -1})
    with pytest.raises(InvalidArgument, match="max_open_files must be an integer"):
        EngineConfig.from_options({"max_open_files": "10"})
