"""Filters in reversed scans: the engine tells the filter (HBase Filter.setReversed)."""

from __future__ import annotations

from pathlib import Path

import pytest

import hedgerow
from hedgerow.model.filters import (
    FilterList,
    FilterListOperator,
    FuzzyRowFilter,
    MultiRowRangeFilter,
    PrefixFilter,
    RowRange,
    WhileMatchFilter,
)

ROWS = [b"a1", b"b1", b"b2", b"b3", b"c1", b"c2", b"d1"]


@pytest.fixture
def table(tmp_path: Path) -> hedgerow.Table:
    conn = hedgerow.connect(str(tmp_path / "db"))
    conn.create_table("t", {"cf": {}}, split_keys=[b"b2", b"c2"])
    t = conn.table("t")
    for r in ROWS:
        t.put(r, {b"cf:q": r})
    return t


def _rows(t: hedgerow.Table, **kw: object) -> list[bytes]:
    return [r for r, _ in t.scan(**kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "flt",
    [
        "PrefixFilter('b')",
        "InclusiveStopFilter('b2')",
        "PrefixFilter('c') AND KeyOnlyFilter()",
        "WHILE PrefixFilter('b')",
    ],
)
def test_row_filters_reverse_is_forward_reversed(table: hedgerow.Table, flt: str) -> None:
    forward = _rows(table, filter=flt)
    backward = _rows(table, filter=flt, reverse=True)
    if "InclusiveStop" in flt:
        # reversed, the stop row is a lower bound: rows from the top down to it
        assert backward == [r for r in reversed(ROWS) if r >= b"b2"]
        assert forward == [r for r in ROWS if r <= b"b2"]
    elif "WHILE" in flt:
        assert forward == []  # a1 does not match: the scan ends at once
        assert backward == []  # d1 does not match either
    else:
        assert forward and backward == forward[::-1]


def test_prefix_filter_reverse_keeps_all_matching_rows(table: hedgerow.Table) -> None:
    assert _rows(table, filter="PrefixFilter('b')", reverse=True) == [b"b3", b"b2", b"b1"]


def test_filter_objects_reverse(table: hedgerow.Table) -> None:
    fuzzy = FuzzyRowFilter([(b"?1", b"\x01\x00")])
    assert _rows(table, filter=fuzzy, reverse=True) == [b"d1", b"c1", b"b1", b"a1"]
    ranges = MultiRowRangeFilter([RowRange(b"b2", True, b"c2", False)])
    assert _rows(table, filter=ranges, reverse=True) == [b"c1", b"b3", b"b2"]
    both = FilterList(
        FilterListOperator.MUST_PASS_ALL,
        [PrefixFilter(b"c"), WhileMatchFilter(PrefixFilter(b"c"))],
    )
    assert _rows(table, filter=both, reverse=True) == []  # d1 ends the WHILE at once
    assert _rows(table, filter=both, reverse=True, row_start=b"c9") == [b"c2", b"c1"]
