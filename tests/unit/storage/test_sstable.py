"""Store files end to end: SSTableWriter -> SSTableReader, corruption, cache use, dump."""

from __future__ import annotations

import io
import os
import random
import threading
from bisect import bisect_left

import pytest
from crc32c import crc32c

from hedgerow._internal import invariants
from hedgerow.errors import ClosedError, CorruptionError, FormatVersionError, InvalidArgument
from hedgerow.model.cell import KeyType
from hedgerow.model.keys import encode_key, row_end, row_of, row_prefix, split_key
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_dump import dump_sstable
from hedgerow.storage.sstable_format import FOOTER, FOOTER_CRC_COVERS, FOOTER_SIZE
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.sstable_writer import SSTableWriter

_TYPES = [KeyType.PUT] * 6 + [
    KeyType.DELETE,
    KeyType.DELETE_COLUMN,
    KeyType.DELETE_FAMILY,
    KeyType.DELETE_FAMILY_VERSION,
]


def make_entries(rng: random.Random, n: int) -> list[tuple[bytes, bytes]]:
    """Sorted, unique (internal key, value) pairs: few rows, several columns and versions."""
    rows = [rng.randbytes(rng.randrange(1, 6)) for _ in range(max(1, n // 8))]
    keys = set()
    while len(keys) < n:
        keys.add(
            encode_key(
                rng.choice(rows),
                rng.choice([b"", b"a", b"b\x00c", "é".encode(), rng.randbytes(3)]),
                rng.randrange(0, 1 << 40),
                rng.choice(_TYPES),
                rng.randrange(1, 1 << 63),
            )
        )
    return [(k, rng.randbytes(rng.choice([0, 1, 10, 100]))) for k in sorted(keys)]


def write(path, entries, *, block_size=256, compression="none", bloom="ROW", extra=None):
    w = SSTableWriter(
        LocalFS(),
        str(path),
        family=b"cf",
        block_size_bytes=block_size,
        compression=compression,
        bloom_filter_type=bloom,
        created_ms=1234,
    )
    for k, v in entries:
        w.add(k, v)
    return w.finish(extra)


def open_reader(path, cache=None, **kw):
    return SSTableReader.open(LocalFS(), str(path), file_id=7, cache=cache, **kw)


@pytest.mark.parametrize("block_size", [256, 4096])
@pytest.mark.parametrize("compression", ["none", "lz4", "zstd"])
@pytest.mark.parametrize("bloom", ["NONE", "ROW", "ROWCOL"])
def test_round_trip_and_random_ranges(tmp_path, block_size, compression, bloom):
    rng = random.Random(f"{block_size}{compression}{bloom}")
    entries = make_entries(rng, 1500)
    keys = [k for k, _ in entries]
    path = tmp_path / "f.sst"
    props = write(path, entries, block_size=block_size, compression=compression, bloom=bloom)
    r = open_reader(path, cache=BlockCache(1 << 20))
    try:
        assert list(r.iter_from()) == entries
        for _ in range(60):
            a = rng.choice([b"", rng.choice(keys), rng.randbytes(3)])
            b = rng.choice([None, rng.choice(keys), rng.randbytes(3), a])
            i = bisect_left(keys, a)
            j = len(keys) if b is None else max(i, bisect_left(keys, b))
            assert list(r.iter_from(a, b)) == entries[i:j], (a, b)
        for row in {row_of(k) for k in rng.sample(keys, 50)}:
            lo, hi = row_prefix(row), row_end(row)
            expect = [e for e in entries if lo <= e[0] < hi]
            assert r.get_row(lo, hi) == expect
            assert r.may_contain_row(row)
            for key, _ in expect:
                assert r.may_contain_rowcol(row, split_key(key)[1])
        absent = b"\xff\xff\xff\xff\xff\xff\xff"
        assert r.get_row(row_prefix(absent), row_end(absent)) == []
        assert r.properties == props
        assert props.bloom_type == bloom
        assert props.compression == compression
    finally:
        r.close()


def test_properties(tmp_path):
    rng = random.Random(5)
    entries = make_entries(rng, 500)
    props = write(tmp_path / "p.sst", entries, extra={"max_seq": 99, "flushed_seq": 98})
    decoded = [split_key(k) for k, _ in entries]
    assert props.entries == 500
    assert props.first_key == entries[0][0]
    assert props.last_key == entries[-1][0]
    assert props.min_seq == min(d[4] for d in decoded)
    assert props.max_seq == max(d[4] for d in decoded)
    assert props.min_ts == min(d[2] for d in decoded)
    assert props.max_ts == max(d[2] for d in decoded)
    assert props.delete_markers == sum(d[3] != KeyType.PUT for d in decoded)
    assert props.family == b"cf"
    assert props.created_ms == 1234
    assert props.extra == {"max_seq": 99, "flushed_seq": 98}
    assert props.raw_key_bytes == sum(len(k) for k, _ in entries)
    assert props.raw_value_bytes == sum(len(v) for _, v in entries)
    assert props.file_size == os.path.getsize(tmp_path / "p.sst")
    r = open_reader(tmp_path / "p.sst")
    assert r.properties == props
    r.close()


def test_empty_file(tmp_path):
    props = write(tmp_path / "e.sst", [])
    assert props.entries == 0
    assert (props.first_key, props.last_key, props.min_seq, props.max_ts) == (b"", b"", 0, 0)
    r = open_reader(tmp_path / "e.sst", cache=BlockCache(1 << 20))
    assert list(r.iter_from()) == []
    assert r.get_row(row_prefix(b"a"), row_end(b"a")) == []
    assert not r.may_contain_row(b"a")
    r.close()


def test_huge_value(tmp_path):
    big = random.Random(1).randbytes(1 << 20)
    entries = [
        (encode_key(b"a", b"q", 1, KeyType.PUT, 1), b"small"),
        (encode_key(b"b", b"q", 1, KeyType.PUT, 2), big),
        (encode_key(b"c", b"q", 1, KeyType.PUT, 3), b""),
    ]
    for compression in ("none", "zstd"):
        path = tmp_path / f"h-{compression}.sst"
        write(path, entries, block_size=4096, compression=compression)
        r = open_reader(path, cache=BlockCache(8 << 20))
        assert list(r.iter_from()) == entries
        assert r.get_row(row_prefix(b"b"), row_end(b"b")) == [entries[1]]
        r.close()


def test_multi_level_index(tmp_path):
    rng = random.Random(11)
    entries = make_entries(rng, 6000)
    keys = [k for k, _ in entries]
    props = write(tmp_path / "m.sst", entries, block_size=128)
    assert props.index_depth >= 2
    cache = BlockCache(16 << 20)
    r = open_reader(tmp_path / "m.sst", cache=cache)
    assert r.footer.index_depth == props.index_depth
    levels = {lvl for lvl, *_ in r.index_entries()}
    assert levels == set(range(1, props.index_depth + 1))
    assert len(list(r.index_entries(level=1))) == props.data_blocks
    assert list(r.iter_from()) == entries
    for _ in range(30):
        a, b = sorted([rng.choice(keys), rng.randbytes(4)])
        i, j = bisect_left(keys, a), bisect_left(keys, b)
        assert list(r.iter_from(a, b)) == entries[i:j]
    for k in rng.sample(keys, 100):
        row = row_of(k)
        lo, hi = row_prefix(row), row_end(row)
        assert r.get_row(lo, hi) == entries[bisect_left(keys, lo) : bisect_left(keys, hi)]
    r.close()


@pytest.mark.parametrize("block_size", [64, 4096])
def test_last_key_before(tmp_path, block_size):
    rng = random.Random(block_size)
    entries = make_entries(rng, 2000)
    keys = [k for k, _ in entries]
    props = write(tmp_path / "b.sst", entries, block_size=block_size)
    r = open_reader(tmp_path / "b.sst", cache=BlockCache(16 << 20))
    probes = [b"", b"\xff" * 9, keys[0], keys[-1], *rng.sample(keys, 200)]
    probes += [rng.randbytes(4) for _ in range(200)]
    probes += [k + b"\x00" for k in rng.sample(keys, 50)]
    for probe in probes:
        i = bisect_left(keys, probe)
        assert r.last_key_before(probe) == (keys[i - 1] if i else None), probe
    r.close()
    write(tmp_path / "e.sst", [])
    r = open_reader(tmp_path / "e.sst")
    assert r.last_key_before(b"x") is None
    r.close()
    assert props.index_depth >= (2 if block_size == 64 else 1)


def test_iteration_is_lazy(tmp_path):
    entries = make_entries(random.Random(3), 2000)
    props = write(tmp_path / "l.sst", entries, block_size=256)
    cache = BlockCache(1 << 22)
    r = open_reader(tmp_path / "l.sst", cache=cache)
    it = r.iter_from()
    assert next(it) == entries[0]
    # only the path to the first data block was read: depth-1 index blocks + 1 data block
    assert cache.misses == props.index_depth
    r.close()


def test_cache_hits_and_cache_blocks_false(tmp_path):
    entries = make_entries(random.Random(4), 300)
    write(tmp_path / "c.sst", entries, block_size=256)
    row = row_of(entries[100][0])
    cache = BlockCache(1 << 22)
    r = open_reader(tmp_path / "c.sst", cache=cache)
    first = r.get_row(row_prefix(row), row_end(row))
    misses = cache.misses
    assert r.get_row(row_prefix(row), row_end(row)) == first
    assert cache.misses == misses and cache.hits >= 1
    assert all(k[0] == 7 for k in cache.cached_keys())
    r.close()

    nocache = BlockCache(1 << 22)
    r2 = open_reader(tmp_path / "c.sst", cache=nocache, cache_blocks=False)
    assert list(r2.iter_from()) == entries
    data_offsets = {off for _, _, off, _ in r2.index_entries(level=1)}
    cached_offsets = {off for _, off in nocache.cached_keys()}
    assert data_offsets and not data_offsets & cached_offsets  # index blocks only
    r2.close()

    r3 = open_reader(tmp_path / "c.sst", cache=None)
    assert list(r3.iter_from()) == entries
    r3.close()
    with pytest.raises(ClosedError):
        list(r3.iter_from())


def test_concurrent_readers_share_one_reader(tmp_path):
    rng = random.Random(8)
    entries = make_entries(rng, 3000)
    keys = [k for k, _ in entries]
    write(tmp_path / "t.sst", entries, block_size=200, compression="lz4")
    cache = BlockCache(8 * 1024)  # small: forces evictions and re-reads
    r = open_reader(tmp_path / "t.sst", cache=cache)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(150):
                row = row_of(local.choice(keys))
                lo, hi = row_prefix(row), row_end(row)
                assert r.get_row(lo, hi) == entries[bisect_left(keys, lo) : bisect_left(keys, hi)]
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.evictions > 0
    r.close()


# -- corruption -------------------------------------------------------------------


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("compression", ["none", "lz4"])
def test_flipped_data_byte_detected_on_read(tmp_path, compression):
    entries = make_entries(random.Random(9), 1000)
    path = tmp_path / "x.sst"
    write(path, entries, block_size=512, compression=compression)
    r = open_reader(path)
    handles = [(off, size) for _, _, off, size in r.index_entries(level=1)]
    r.close()
    assert len(handles) > 3
    victim_off, victim_size = handles[2]
    _flip(path, victim_off + victim_size // 2)
    r = open_reader(path, cache=BlockCache(1 << 20))  # open does not touch data blocks
    it = r.iter_from()
    with pytest.raises(CorruptionError) as exc:
        for _ in it:
            pass
    assert str(path) in str(exc.value)
    assert exc.value.offset == victim_off
    assert f"offset {victim_off}" in str(exc.value)
    # blocks before the damage are still readable
    first_row = row_of(entries[0][0])
    assert r.get_row(row_prefix(first_row), row_end(first_row))
    r.close()


def test_flipped_trailer_byte_detected(tmp_path):
    entries = make_entries(random.Random(10), 200)
    path = tmp_path / "t.sst"
    write(path, entries, block_size=512)
    r = open_reader(path)
    off, size = next(iter((o, s) for _, _, o, s in r.index_entries(level=1)))
    r.close()
    _flip(path, off + size)  # the block-type byte is covered by the checksum
    r = open_reader(path)
    with pytest.raises(CorruptionError, match="checksum"):
        list(r.iter_from())
    r.close()


def test_bad_magic_fails_open(tmp_path):
    path = tmp_path / "m.sst"
    write(path, make_entries(random.Random(1), 50))
    _flip(path, os.path.getsize(path) - 3)
    with pytest.raises(CorruptionError, match="magic") as exc:
        open_reader(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("keep", [0, 10, FOOTER_SIZE - 1, -1, -100])
def test_truncated_file_fails_open(tmp_path, keep):
    path = tmp_path / "t.sst"
    write(path, make_entries(random.Random(1), 50))
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(CorruptionError) as exc:
        open_reader(path)
    assert str(path) in str(exc.value)


def _rewrite_footer(path, **changes):
    data = bytearray(path.read_bytes())
    fields = list(FOOTER.unpack_from(data, len(data) - FOOTER_SIZE))
    names = ["mo", "ms", "io", "is", "bo", "bs", "depth", "version", "crc", "magic"]
    for name, value in changes.items():
        fields[names.index(name)] = value
    footer = bytearray(FOOTER.pack(*fields))
    if "crc" not in changes:
        fields[8] = crc32c(bytes(footer[:FOOTER_CRC_COVERS]))
        footer = bytearray(FOOTER.pack(*fields))
    data[-FOOTER_SIZE:] = footer
    path.write_bytes(bytes(data))


def test_unknown_version_fails_open(tmp_path):
    path = tmp_path / "v.sst"
    write(path, make_entries(random.Random(1), 50))
    _rewrite_footer(path, version=2)
    with pytest.raises(FormatVersionError, match="version 2") as exc:
        open_reader(path)
    assert str(path) in str(exc.value)


def test_footer_checksum_and_bad_handles(tmp_path):
    path = tmp_path / "f.sst"
    write(path, make_entries(random.Random(1), 50))
    original = path.read_bytes()
    _rewrite_footer(path, crc=12345)
    with pytest.raises(CorruptionError, match="footer checksum"):
        open_reader(path)
    path.write_bytes(original)
    _rewrite_footer(path, mo=len(original))
    with pytest.raises(CorruptionError, match="past the data"):
        open_reader(path)
    path.write_bytes(original)
    _rewrite_footer(path, depth=0)
    with pytest.raises(CorruptionError, match="depth"):
        open_reader(path)


def test_damaged_root_index_or_meta_fails_open(tmp_path):
    path = tmp_path / "r.sst"
    write(path, make_entries(random.Random(1), 50))
    original = path.read_bytes()
    mo, ms, io_, is_, *_ = FOOTER.unpack_from(original, len(original) - FOOTER_SIZE)
    for offset in (io_ + is_ // 2, mo + ms // 2):
        path.write_bytes(original)
        _flip(path, offset)
        with pytest.raises(CorruptionError, match="checksum"):
            open_reader(path)


# -- writer contract ----------------------------------------------------------------


def test_out_of_order_keys_rejected_under_invariants(tmp_path, monkeypatch):
    monkeypatch.setattr(invariants, "ENABLED", True)
    w = SSTableWriter(
        LocalFS(),
        str(tmp_path / "o.sst"),
        family=b"cf",
        block_size_bytes=256,
        compression="none",
        bloom_filter_type="ROW",
    )
    w.add(encode_key(b"b", b"q", 1, 4, 1), b"")
    with pytest.raises(AssertionError, match="out of order"):
        w.add(encode_key(b"a", b"q", 1, 4, 1), b"")
    with pytest.raises(AssertionError, match="out of order"):
        w.add(encode_key(b"b", b"q", 1, 4, 1), b"")  # equal is not increasing
    w.abandon()


def test_abandon_removes_partial_file_and_finish_is_once(tmp_path):
    path = tmp_path / "a.sst"
    w = SSTableWriter(
        LocalFS(),
        str(path),
        family=b"cf",
        block_size_bytes=64,
        compression="zstd",
        bloom_filter_type="NONE",
    )
    for k, v in make_entries(random.Random(2), 100):
        w.add(k, v)
    assert path.exists()
    w.abandon()
    w.abandon()
    assert not path.exists()

    path2 = tmp_path / "b.sst"
    w2 = SSTableWriter(
        LocalFS(),
        str(path2),
        family=b"cf",
        block_size_bytes=64,
        compression="none",
        bloom_filter_type="rowcol",
    )
    w2.finish()
    with pytest.raises(ClosedError):
        w2.finish()
    w2.abandon()  # no-op after a successful finish
    assert path2.exists()


@pytest.mark.parametrize(
    "kw",
    [{"compression": "snappy"}, {"bloom_filter_type": "BLOCK"}, {"block_size_bytes": 0}],
)
def test_bad_options_rejected(tmp_path, kw):
    args = {
        "family": b"cf",
        "block_size_bytes": 256,
        "compression": "none",
        "bloom_filter_type": "ROW",
    }
    args.update(kw)
    with pytest.raises(InvalidArgument):
        SSTableWriter(LocalFS(), str(tmp_path / "bad.sst"), **args)


def test_compression_shrinks_compressible_data(tmp_path):
    entries = [(encode_key(b"row%06d" % i, b"q", 1, 4, 1), b"v" * 200) for i in range(2000)]
    sizes = {
        c: write(tmp_path / f"{c}.sst", entries, block_size=4096, compression=c).file_size
        for c in ("none", "lz4", "zstd")
    }
    assert sizes["lz4"] < sizes["none"] / 3
    assert sizes["zstd"] < sizes["none"] / 3


def test_dump(tmp_path):
    entries = [
        (encode_key(b"r\x01", b"a", 9, KeyType.DELETE_COLUMN, 4), b""),
        (encode_key(b"r\x01", "ü".encode(), 5, KeyType.PUT, 3), b"hello\x00"),
    ]
    write(tmp_path / "d.sst", entries, extra={"flushed_seq": 4})
    out = io.StringIO()
    dump_sstable(LocalFS(), str(tmp_path / "d.sst"), out)
    text = out.getvalue()
    assert "r\\x01/\\xc3\\xbc/5/PUT/seq=3 = hello\\x00" in text
    assert "r\\x01/a/9/DELETE_COLUMN/seq=4 = \n" in text
    assert "flushed_seq" in text
    assert "2 entries" in text
    out = io.StringIO()
    dump_sstable(LocalFS(), str(tmp_path / "d.sst"), out, values=False)
    assert "(6 bytes)" in out.getvalue()


def test_failpoint_before_sync_then_abandon(tmp_path):
    from hedgerow._internal import failpoints

    path = tmp_path / "fp.sst"
    w = SSTableWriter(
        LocalFS(),
        str(path),
        family=b"cf",
        block_size_bytes=256,
        compression="none",
        bloom_filter_type="ROW",
    )
    for k, v in make_entries(random.Random(12), 50):
        w.add(k, v)
    failpoints.arm("storage.sstable.before_sync")
    try:
        with pytest.raises(failpoints.FailpointError):
            w.finish()
    finally:
        failpoints.disarm("storage.sstable.before_sync")
    w.abandon()
    assert not path.exists()
