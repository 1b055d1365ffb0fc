"""Tests for model/keys.py: round trips, HBase cell order as byte order, bounds, docs examples."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgerow.model.cell import MAX_TIMESTAMP, KeyType
from hedgerow.model.keys import (
    KEY_SUFFIX_LEN,
    TERM,
    column_prefix,
    decode_key,
    encode_key,
    escape,
    row_end,
    row_of,
    row_prefix,
    split_key,
    unescape,
)

# Bytes biased towards the ones the escaping scheme treats specially.
_special = st.sampled_from([0x00, 0x01, 0x02, 0xFE, 0xFF, 0x61, 0x62])
_text = st.lists(_special, max_size=6).map(bytes)
_row = st.lists(_special, min_size=1, max_size=6).map(bytes)
_types = st.sampled_from([int(t) for t in KeyType])
_ts = st.one_of(st.integers(0, 5), st.integers(0, MAX_TIMESTAMP))
_seq = st.one_of(st.integers(0, 5), st.integers(0, 2**64 - 1))
_coord = st.tuples(_row, _text, _ts, _types, _seq)

TRICKY = [
    b"",
    b"\x00",
    b"\xff",
    b"\x00\x01",
    b"\x00\x00",
    b"\x00\xff",
    b"\xff\x00",
    b"a\x00\x01b",
    b"\x00\x01\x00\x02",
    b"\x01",
    b"a",
    b"ab",
    b"a\x00",
]


def hbase_order(c: tuple[bytes, bytes, int, int, int]) -> tuple[bytes, bytes, int, int, int]:
    """CellComparatorImpl: row asc, qualifier asc, ts desc, type desc, seq desc."""
    row, qual, ts, typ, seq = c
    return (row, qual, -ts, -typ, -seq)


# ------------------------------------------------------------------ round trip


def test_round_trip_tricky_bytes() -> None:
    for row in TRICKY:
        for qual in TRICKY:
            for typ in KeyType:
                c = (row, qual, 1234, int(typ), 99)
                key = encode_key(*c)
                assert split_key(key) == c
                assert row_of(key) == row
                assert len(key) == len(escape(row)) + len(escape(qual)) + 4 + KEY_SUFFIX_LEN


@given(_coord)
@settings(max_examples=300, deadline=None)
def test_round_trip_random(c: tuple[bytes, bytes, int, int, int]) -> None:
    key = encode_key(*c)
    assert split_key(key) == c
    assert decode_key(key) == c
    assert row_of(key) == c[0]


def test_extreme_suffix_values() -> None:
    for ts in (0, 1, MAX_TIMESTAMP):
        for seq in (0, 1, 2**63 - 1, 2**64 - 1):
            assert split_key(encode_key(b"r", b"", ts, 4, seq)) == (b"r", b"", ts, 4, seq)
    assert KEY_SUFFIX_LEN == 17


def test_escape_is_reversible_and_has_no_terminator() -> None:
    for b in TRICKY:
        e = escape(b)
        assert unescape(e) == b
        assert TERM not in e
        assert e.count(b"\x00") == b.count(b"\x00")
    assert escape(b"a\x00b") == b"a\x00\xffb"
    assert escape(b"abc") == b"abc"


# ------------------------------------------------------------------ order


@given(_coord, _coord)
@settings(max_examples=300, deadline=None)
def test_pairwise_order_matches_hbase(
    a: tuple[bytes, bytes, int, int, int], b: tuple[bytes, bytes, int, int, int]
) -> None:
    ka, kb = encode_key(*a), encode_key(*b)
    assert (ka < kb) == (hbase_order(a) < hbase_order(b))
    assert (ka == kb) == (a == b)


@given(st.lists(_coord, min_size=20, max_size=150))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sorted_encoded_equals_encoded_sorted(
    coords: list[tuple[bytes, bytes, int, int, int]],
) -> None:
    encoded = sorted(encode_key(*c) for c in coords)
    expected = [encode_key(*c) for c in sorted(coords, key=hbase_order)]
    assert encoded == expected


def test_order_thousands_of_seeded_tuples() -> None:
    rng = random.Random(20240611)
    alphabet = [0, 1, 2, 0xFE, 0xFF, 0x61]
    types = [int(t) for t in KeyType]

    def text(min_len: int) -> bytes:
        return bytes(rng.choice(alphabet) for _ in range(rng.randint(min_len, 4)))

    coords = [
        (
            text(1),
            text(0),
            rng.choice([0, 1, 7, MAX_TIMESTAMP]),
            rng.choice(types),
            rng.randint(0, 3),
        )
        for _ in range(5000)
    ]
    coords = list(set(coords))
    assert len(coords) > 2000  # enough distinct cells, with many equal rows/qualifiers/ts
    encoded = sorted(encode_key(*c) for c in coords)
    assert [split_key(k) for k in encoded] == sorted(coords, key=hbase_order)


def test_specific_order_rules() -> None:
    # shorter row first, even when the longer one continues with 0x00
    assert encode_key(b"a", b"z", 0, 4, 0) < encode_key(b"a\x00", b"", 9, 14, 9)
    assert encode_key(b"a\x00", b"", 0, 4, 0) < encode_key(b"a\x01", b"", 0, 4, 0)
    # empty qualifier first
    assert encode_key(b"r", b"", 0, 4, 0) < encode_key(b"r", b"\x00", 9, 4, 9)
    # newer timestamp first
    assert encode_key(b"r", b"q", 10, 4, 0) < encode_key(b"r", b"q", 9, 4, 0)
    # delete markers before puts at equal timestamp, DeleteFamily first
    at = [encode_key(b"r", b"", 5, int(t), 1) for t in KeyType]
    assert sorted(at) == [encode_key(b"r", b"", 5, t, 1) for t in (14, 12, 10, 8, 4)]
    # later write (higher seq) first
    assert encode_key(b"r", b"q", 5, 4, 8) < encode_key(b"r", b"q", 5, 4, 7)


# ------------------------------------------------------------------ bounds


@given(st.lists(_coord, min_size=1, max_size=60), _row, _text)
@settings(max_examples=150, deadline=None)
def test_row_and_column_bounds(
    coords: list[tuple[bytes, bytes, int, int, int]], row: bytes, qual: bytes
) -> None:
    coords = coords + [(row, qual, 0, 4, 0), (row, qual, MAX_TIMESTAMP, 14, 2**64 - 1)]
    lo, hi = row_prefix(row), row_end(row)
    cp = column_prefix(row, qual)
    assert lo < hi
    assert cp.startswith(lo)
    for c in coords:
        key = encode_key(*c)
        if c[0] == row:
            assert key.startswith(lo)
            assert lo <= key < hi
        else:
            assert not key.startswith(lo)
            if c[0] < row:
                assert key < lo
            else:
                assert key >= hi
        if c[0] == row and c[1] == qual:
            assert key.startswith(cp) and key >= cp
        else:
            assert not key.startswith(cp)
            if (c[0], c[1]) < (row, qual):
                assert key < cp
            else:
                assert key > cp


def test_bounds_prefix_rows() -> None:
    # rows that extend ``row`` sort after row_end(row); shorter ones before row_prefix(row)
    row = b"a\x00"
    assert row_prefix(row) == b"a\x00\xff\x00\x01"
    assert row_end(row) == b"a\x00\xff\x00\x02"
    assert encode_key(b"a\x00\x00", b"", 0, 4, 0) >= row_end(row)
    assert encode_key(b"a\x00\x01", b"", 0, 4, 0) >= row_end(row)
    assert encode_key(b"a", b"\xff" * 5, 0, 4, 0) < row_prefix(row)
    assert column_prefix(b"r", b"q\x00") == b"r\x00\x01q\x00\xff\x00\x01"


# ------------------------------------------------------------------ docs/formats/keys.md


def test_docs_worked_example_put() -> None:
    key = encode_key(b"row1", b"q", 1700000000000, KeyType.PUT, 7)
    assert key.hex(" ") == (
        "72 6f 77 31 00 01 71 00 01 ff ff fe 74 30 1a 97 ff fb ff ff ff ff ff ff ff f8"
    )
    assert split_key(key) == (b"row1", b"q", 1700000000000, 4, 7)


def test_docs_worked_example_row_delete() -> None:
    key = encode_key(b"a\x00b", b"", 1700000000000, KeyType.DELETE_FAMILY, 9)
    assert key.hex(" ") == (
        "61 00 ff 62 00 01 00 01 ff ff fe 74 30 1a 97 ff f1 ff ff ff ff ff ff ff f6"
    )
    assert split_key(key) == (b"a\x00b", b"", 1700000000000, 14, 9)


def test_docstring_example() -> None:
    assert encode_key(b"r", b"q", 1, 4, 7).hex() == "720001710001fffffffffffffffefbfffffffffffffff8"


# ------------------------------------------------------------------ the compiled core's errors


def test_out_of_range_fields_and_malformed_keys_raise() -> None:
    # rust/src/keys.rs: a field outside its on-disk width is an error, never wrapped
    for ts, typ, seq in [(-1, 4, 0), (1 << 64, 4, 0), (0, 256, 0), (0, -1, 0), (0, 4, -1)]:
        with pytest.raises(OverflowError):
            encode_key(b"r", b"q", ts, typ, seq)
    good = encode_key(b"r\x00w", b"q", 1, 4, 2)
    for bad in [b"", b"r", good[:-1], good + b"x", b"r\x00\x01q\x00\x01"]:
        with pytest.raises(ValueError, match="not an internal key"):
            split_key(bad)
    with pytest.raises(ValueError, match="not an internal key"):
        row_of(b"no terminator")
    assert row_of(good) == b"r\x00w"
