"""The store-file writer, reader and block cache of the Rust core (RFC 0002 phase 2):
Python file systems (MemFS, FaultFS) through the core's seam, error mapping, batching,
and the cache shared between the core's reader and Python callers."""

from __future__ import annotations

import errno
import random

import pytest

from hedgerow._core import Block
from hedgerow.errors import InvalidArgument, StorageError, StorageFull
from hedgerow.model.keys import encode_key, row_end, row_prefix
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.faultfs import FaultFS
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.memfs import MemFS
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.sstable_writer import SSTableWriter


def entries(n: int) -> list[tuple[bytes, bytes]]:
    return [(encode_key(b"row%05d" % i, b"q", 10, 4, i + 1), b"v%d" % i) for i in range(n)]


def writer(fs, path: str, block_size: int = 256) -> SSTableWriter:
    return SSTableWriter(
        fs,
        path,
        family=b"cf",
        block_size_bytes=block_size,
        compression="lz4",
        bloom_filter_type="ROW",
    )


def test_memfs_round_trip_matches_localfs_bytes(tmp_path):
    es = entries(700)
    mem = MemFS()
    mem.makedirs("/d")
    for fs, path in ((mem, "/d/f.sst"), (LocalFS(), str(tmp_path / "f.sst"))):
        w = writer(fs, path)
        w.add_batch([k for k, _ in es[:300]], [v for _, v in es[:300]])
        for k, v in es[300:]:
            w.add(k, v)
        props = w.finish({"flushed_seq": 9})
        assert props.entries == 700 and props.index_depth >= 2
    assert mem.read_all("/d/f.sst") == (tmp_path / "f.sst").read_bytes()
    r = SSTableReader.open(mem, "/d/f.sst", file_id=1, cache=BlockCache(1 << 20))
    assert list(r.iter_from()) == es
    assert r.get_row(row_prefix(b"row00123"), row_end(b"row00123")) == [es[123]]
    assert list(r.iter_from(es[10][0], es[500][0])) == es[10:500]
    assert r.last_key_before(es[400][0]) == es[399][0]
    r.close()


def test_out_of_order_batch_is_invalid_argument(tmp_path):
    es = entries(3)
    w = writer(LocalFS(), str(tmp_path / "o.sst"))
    with pytest.raises(InvalidArgument, match="out of order"):
        w.add_batch([es[1][0], es[0][0]], [b"", b""])
    w.abandon()
    assert not (tmp_path / "o.sst").exists()


def test_write_fault_reaches_the_caller_and_abandon_cleans_up():
    fs = FaultFS(MemFS(), random.Random(1))
    fs.makedirs("/d")
    fs.fail_next("write", errno=errno.ENOSPC)
    w = writer(fs, "/d/f.sst", block_size=64)
    es = entries(50)
    with pytest.raises(OSError) as got:
        w.add_batch([k for k, _ in es], [v for _, v in es])
        w.finish()
    assert got.value.errno == errno.ENOSPC
    w.abandon()
    assert not fs.exists("/d/f.sst")


def test_read_fault_is_storage_error_naming_file_and_offset():
    fs = FaultFS(MemFS(), random.Random(1))
    fs.makedirs("/d")
    w = writer(fs, "/d/f.sst")
    es = entries(200)
    w.add_batch([k for k, _ in es], [v for _, v in es])
    w.finish()
    r = SSTableReader.open(fs, "/d/f.sst", file_id=1, cache=None)
    fs.fail_next("pread", errno=errno.EIO)
    with pytest.raises(StorageError, match="reading store file /d/f.sst at offset") as got:
        r.get_row(row_prefix(b"row00100"), row_end(b"row00100"))
    assert not isinstance(got.value, StorageFull)
    assert r.get_row(row_prefix(b"row00100"), row_end(b"row00100")) == [es[100]]
    r.close()


def test_core_reader_fills_the_shared_cache_with_blocks(tmp_path):
    es = entries(500)
    path = str(tmp_path / "c.sst")
    w = writer(LocalFS(), path)
    w.add_batch([k for k, _ in es], [v for _, v in es])
    w.finish()
    cache = BlockCache(1 << 20)
    r = SSTableReader.open(LocalFS(), path, file_id=5, cache=cache)
    assert list(r.iter_from()) == es
    misses = cache.misses
    assert list(r.iter_from()) == es
    assert cache.misses == misses  # the second pass is all hits
    key = cache.cached_keys()[0]
    assert key[0] == 5 and isinstance(cache.get(key), Block)
    cache.check()
    n = len(cache.cached_keys())
    assert cache.evict_file(5) == n and len(cache) == 0
    r.close()


def test_large_cache_is_sharded():
    assert BlockCache(1 << 20).shards == 1
    assert BlockCache(64 << 20).shards == 2
    assert BlockCache(256 << 20).shards == 8  # 32 MiB each
    with pytest.raises(ValueError):
        BlockCache(100, in_memory_fraction=1.5)
