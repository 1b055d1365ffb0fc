"""Tests for storage/wal_edit.py: the WAL record payload encoding."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgerow.errors import CorruptionError
from hedgerow.model.cell import MAX_TIMESTAMP, KeyType
from hedgerow.storage.wal_edit import WalEdit, decode_edit, encode_edit

_cell = st.tuples(
    st.binary(min_size=1, max_size=8),
    st.binary(max_size=16),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([int(k) for k in KeyType]),
    st.binary(max_size=64),
)
_edit = st.builds(
    WalEdit,
    st.text(max_size=30),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.lists(
        st.tuples(st.binary(min_size=1, max_size=16), st.lists(_cell, min_size=1, max_size=4)),
        min_size=1,
        max_size=4,
    ),
)


@given(_edit)
def test_round_trip(edit: WalEdit) -> None:
    assert decode_edit(encode_edit(edit)) == edit


def test_edge_values() -> None:
    edit = WalEdit(
        "tbl,\u00e9,1",
        2**63 - 1,
        [
            (b"row", [(b"cf", "q\u2603".encode(), MAX_TIMESTAMP, KeyType.PUT, b"")]),
            (b"\x00", [(b"cf", b"", 0, KeyType.DELETE_FAMILY, b"")]),
        ],
    )
    back = decode_edit(encode_edit(edit))
    assert back == edit
    assert back.rows[0][1][0][4] == b""
    assert type(back.rows) is list and type(back.rows[0][1]) is list


def test_encoding_is_plain_msgpack_arrays() -> None:
    data = encode_edit(WalEdit("r", 5, [(b"k", [(b"f", b"q", 1, 4, b"v")])]))
    assert msgpack.unpackb(data) == ["r", 5, [[b"k", [[b"f", b"q", 1, 4, b"v"]]]]]


def test_edit_without_rows_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_edit(WalEdit("r", 1, []))


@pytest.mark.parametrize(
    "obj",
    [
        ["r", 1],
        ["r", -1, [[b"k", [[b"f", b"q", 1, 4, b"v"]]]]],
        [b"r", 1, [[b"k", [[b"f", b"q", 1, 4, b"v"]]]]],
        ["r", 1, []],
        ["r", 1, [["k", [[b"f", b"q", 1, 4, b"v"]]]]],
        ["r", 1, [[b"k", [[b"f", b"q", "1", 4, b"v"]]]]],
        ["r", 1, [[b"k", [[b"f", b"q", 1, 4]]]]],
        ["r", True, [[b"k", [[b"f", b"q", 1, 4, b"v"]]]]],
        {"r": 1},
    ],
)
def test_malformed_payloads_raise_corruption(obj: object) -> None:
    with pytest.raises(CorruptionError):
        decode_edit(msgpack.packb(obj, use_bin_type=True))


def test_garbage_raises_corruption() -> None:
    with pytest.raises(CorruptionError):
        decode_edit(b"\xc1\xc1\xc1")
    with pytest.raises(CorruptionError):
        decode_edit(b"")
