"""FuzzyRowFilter and MultiRowRangeFilter, including seek-hint correctness properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters import (
    FuzzyRowFilter,
    MultiRowRangeFilter,
    RowRange,
    apply_filter_to_rows,
)

from ._data import Recorder, cell, row_keys


def rows_of(*keys: bytes) -> list[tuple[bytes, list[Cell]]]:
    return [(k, [cell(k, b"f", b"q", 1, b"v")]) for k in sorted(keys)]


FUZZY_ROWS = rows_of(
    b"u1_a", b"u1_b", b"u2_a", b"u3_c", b"u3_z", b"u5_b", b"u9_a", b"v1_a", b"w0_a"
)


def test_fuzzy_row_filter_matches_and_seeks() -> None:
    spy = Recorder(FuzzyRowFilter([(b"u?_a", b"\x00\x01\x00\x00")]))
    assert row_keys(spy, FUZZY_ROWS) == ["u1_a", "u2_a", "u9_a"]
    offered = [c.row for c in spy.cells]
    # u3_c hints to u4_a, so u3_z is never read; v1_a has no later match: the scan ends.
    assert offered == [b"u1_a", b"u1_b", b"u2_a", b"u3_c", b"u5_b", b"u9_a", b"v1_a"]


def test_fuzzy_row_filter_several_patterns_and_longer_rows() -> None:
    f = FuzzyRowFilter([(b"u?_b", b"\x00\x01\x00\x00"), (b"w", b"\x00")])
    assert row_keys(f, FUZZY_ROWS) == ["u1_b", "u5_b", "w0_a"]
    # Rows shorter than the pattern never match (HBase would accept "u1").
    assert row_keys(FuzzyRowFilter([(b"u1_", b"\x00\x00\x00")]), rows_of(b"u1", b"u1_")) == ["u1_"]


def test_fuzzy_row_filter_validates() -> None:
    with pytest.raises(InvalidArgument, match="lengths"):
        FuzzyRowFilter([(b"ab", b"\x00")])
    with pytest.raises(InvalidArgument, match="mask"):
        FuzzyRowFilter([(b"a", b"\x02")])


def test_fuzzy_hint_rolls_over_0xff() -> None:
    f = FuzzyRowFilter([(b"\x00\x00a", b"\x01\x01\x00")])
    hint = f.get_next_cell_hint(cell(b"\x05\xffb", b"f", b"q", 1, b""))
    assert hint is not None and hint.row == b"\x06\x00a"
    assert f.get_next_cell_hint(cell(b"\xff\xffb", b"f", b"q", 1, b"")) is None
    assert f.filter_all_remaining() is True


RANGE_ROWS = rows_of(*[b"r%d" % i for i in range(10)])


def test_multi_row_range_filter_merges_and_seeks() -> None:
    ranges = [
        RowRange(b"r1", True, b"r3", False),
        RowRange(b"r2", True, b"r4", True),
        RowRange(b"r7", False, b"r8", True),
    ]
    spy = Recorder(MultiRowRangeFilter(ranges))
    assert row_keys(spy, RANGE_ROWS) == ["r1", "r2", "r3", "r4", "r8"]
    assert spy.rows == [b"r0", b"r1", b"r2", b"r3", b"r4", b"r5", b"r8", b"r9"]


def test_multi_row_range_filter_unbounded_and_invalid() -> None:
    assert row_keys(MultiRowRangeFilter([(b"", True, b"r2", False)]), RANGE_ROWS) == ["r0", "r1"]
    assert row_keys(MultiRowRangeFilter([(b"r8", True, b"", False)]), RANGE_ROWS) == ["r8", "r9"]
    assert row_keys(MultiRowRangeFilter([(b"r5", True, b"r5", True)]), RANGE_ROWS) == ["r5"]
    assert row_keys(MultiRowRangeFilter([(b"r5", False, b"r5", True)]), RANGE_ROWS) == []
    assert row_keys(MultiRowRangeFilter([]), RANGE_ROWS) == []
    with pytest.raises(InvalidArgument, match="start"):
        MultiRowRangeFilter([(b"b", True, b"a", True)])


# -- properties: hints never skip a matching row ------------------------------------

_ALPHABET = st.sampled_from([0, 1, 2, 0xFE, 0xFF])
_KEYS = st.lists(_ALPHABET, min_size=0, max_size=4).map(bytes)


def _matches(row: bytes, key: bytes, mask: bytes) -> bool:
    if len(row) < len(key):
        return False
    return all(m == 1 or row[i] == key[i] for i, m in enumerate(mask))


@settings(max_examples=400, deadline=None)
@given(
    rows=st.sets(_KEYS.filter(bool), min_size=1, max_size=25),
    patterns=st.lists(
        st.lists(st.tuples(_ALPHABET, st.sampled_from([0, 1])), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
)
def test_fuzzy_filter_equals_brute_force(
    rows: set[bytes], patterns: list[list[tuple[int, int]]]
) -> None:
    pairs = [(bytes(k for k, _ in p), bytes(m for _, m in p)) for p in patterns]
    data = rows_of(*rows)
    expected = [r.decode("latin-1") for r, _ in data if any(_matches(r, k, m) for k, m in pairs)]
    assert row_keys(FuzzyRowFilter(pairs), data) == expected


@settings(max_examples=400, deadline=None)
@given(
    rows=st.sets(_KEYS.filter(bool), min_size=1, max_size=25),
    ranges=st.lists(st.tuples(_KEYS, st.booleans(), _KEYS, st.booleans()), max_size=4),
)
def test_multi_row_range_filter_equals_brute_force(
    rows: set[bytes], ranges: list[tuple[bytes, bool, bytes, bool]]
) -> None:
    ranges = [r for r in ranges if not r[2] or r[0] <= r[2]]

    def inside(row: bytes) -> bool:
        for start, s_inc, stop, e_inc in ranges:
            low_ok = row > start or (row == start and (s_inc or not start))
            high_ok = not stop or row < stop or (row == stop and e_inc)
            if low_ok and high_ok:
                return True
        return False

    data = rows_of(*rows)
    expected = [r.decode("latin-1") for r, _ in data if inside(r)]
    assert row_keys(MultiRowRangeFilter(ranges), data) == expected
    assert apply_filter_to_rows(MultiRowRangeFilter(ranges), []) == []
