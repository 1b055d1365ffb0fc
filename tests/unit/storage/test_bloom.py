"""Bloom filter builder and reader (``_core.BloomBuilder`` / ``BloomFilter``, rust/src/sstable)."""

from __future__ import annotations

import random

import pytest
from xxhash import xxh3_64_intdigest

from hedgerow._core import BlockFormatError, BloomBuilder, BloomFilter
from hedgerow.model.keys import column_prefix, encode_key, row_prefix
from hedgerow.storage.sstable_format import BloomType


def _rows(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return sorted({b"r" + rng.randbytes(rng.randrange(1, 10)) for _ in range(n)})


def test_no_false_negatives_and_fp_rate_under_2_percent():
    rows = _rows(10_000, seed=1)
    b = BloomBuilder(BloomType.ROW)
    b.add_keys([encode_key(r, b"q", 1, 4, 1) for r in rows])
    f = BloomFilter(b.finish())
    assert f.num_items == len(rows)
    assert all(f.may_contain_row(r) for r in rows)
    present = set(rows)
    rng = random.Random(99)
    probes = [b"x" + rng.randbytes(8) for _ in range(20_000)]
    probes = [p for p in probes if p not in present]
    fp = sum(f.may_contain_row(p) for p in probes) / len(probes)
    assert fp < 0.02, fp


def test_row_items_deduplicated_across_blocks():
    keys = [encode_key(b"row", b"q%d" % i, 1, 4, 1) for i in range(5)]
    b = BloomBuilder(BloomType.ROW)
    b.add_keys(keys[:2])
    b.add_keys(keys[2:])  # same row continues in the next block
    b.add_keys([])
    assert b.num_items == 1


def test_rowcol_filter_checks_columns():
    keys = sorted(
        encode_key(b"r%d" % r, b"c%d" % c, ts, 4, 1)
        for r in range(50)
        for c in range(0, 20, 2)
        for ts in (1, 2)
    )
    b = BloomBuilder(BloomType.ROWCOL)
    b.add_keys(keys)
    assert b.num_items == 50 * 10  # two versions of a column count once
    f = BloomFilter(b.finish())
    assert all(f.may_contain_rowcol(b"r%d" % r, b"c%d" % c) for r in range(50) for c in (0, 18))
    misses = sum(f.may_contain_rowcol(b"r%d" % r, b"c%d" % c) for r in range(50) for c in (1, 3))
    assert misses < 10
    # a ROWCOL filter cannot answer row questions: always "maybe"
    assert f.may_contain_row(b"nope")


def test_row_filter_answers_maybe_for_columns():
    b = BloomBuilder(BloomType.ROW)
    b.add(row_prefix(b"a"))
    f = BloomFilter(b.finish())
    assert f.may_contain_rowcol(b"zzz", b"q")
    assert f.may_contain_row(b"a")


@pytest.mark.parametrize("bloom_type", [BloomType.ROW, BloomType.ROWCOL])
def test_items_of_keys_use_escaped_prefixes(bloom_type):
    row = b"a\x00b"
    k = encode_key(row, b"q\x00", 3, 8, 4)
    item = row_prefix(row) if bloom_type == BloomType.ROW else column_prefix(row, b"q\x00")
    from_keys, from_item = BloomBuilder(bloom_type), BloomBuilder(bloom_type)
    from_keys.add_keys([k])
    from_item.add(item)
    assert from_keys.finish() == from_item.finish()


def test_empty_filter_contains_nothing():
    f = BloomFilter(BloomBuilder(BloomType.ROW).finish())
    assert f.num_items == 0
    assert not f.may_contain_row(b"a")


@pytest.mark.parametrize(
    "bad", [b"", b"\x01\x07\x01\x00\x00\x00\x00\x00", b"\x01\x07\x09\x00" + bytes(12)]
)
def test_malformed_filter_rejected(bad):
    with pytest.raises(BlockFormatError):
        BloomFilter(bad)


def test_encoding_is_stable():
    b = BloomBuilder(BloomType.ROW)
    b.add(b"r\x00\x01")
    # xxh3_64 = 0xace8063fda132727: a = 0xda132727 % 64 = 39, b = 0xace8063f % 64 = 63 (= -1)
    # so bits 39, 38, ..., 33 are set: byte 4 of the bit array is 0xfe.
    # header: type ROW, k=7, hash_fn 1, pad, 1 item; then 64 bits
    assert b.finish().hex() == "010701000100000000000000fe000000"


def _reference_bits(items: list[bytes], m: int, k: int) -> bytes:
    """The docstring's definition, written the slow obvious way."""
    bits = bytearray(m // 8)
    for item in items:
        h = xxh3_64_intdigest(item)
        for i in range(k):
            p = ((h & 0xFFFFFFFF) + i * (h >> 32)) % m
            bits[p >> 3] |= 1 << (p & 7)
    return bytes(bits)


@pytest.mark.parametrize("n", [1, 7, 1000, 70_000])
def test_vectorised_build_matches_reference(n):
    rng = random.Random(n)
    items = [rng.randbytes(12) for _ in range(n)]
    b = BloomBuilder(BloomType.ROWCOL)
    for item in items:
        b.add(item)
    payload = b.finish()
    m = (len(payload) - 8) * 8
    assert m == max(64, ((n * 10 + 7) // 8) * 8)
    assert payload[8:] == _reference_bits(items, m, 7)
