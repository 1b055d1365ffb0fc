"""ColumnPrefix, MultipleColumnPrefix, ColumnCountGet, ColumnPagination, ColumnRange, Timestamps."""

from __future__ import annotations

import pytest

from hedgerow.errors import InvalidArgument
from hedgerow.model.filters import (
    ColumnCountGetFilter,
    ColumnPaginationFilter,
    ColumnPrefixFilter,
    ColumnRangeFilter,
    MultipleColumnPrefixFilter,
    TimestampsFilter,
)

from ._data import TABLE, Recorder, run


def test_column_prefix_filter() -> None:
    assert run(ColumnPrefixFilter(b"q"), TABLE, max_versions=1) == [
        "row1 a:q1@3=apple",
        "row1 a:q2@2=banana",
        "row1 b:q1@5=date",
        "row1 b:q3@4=elder",
        "row2 a:q1@3=grape",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
        "row3 b:q1@6=lemon",
    ]


def test_column_prefix_filter_seeks_with_hints() -> None:
    spy = Recorder(ColumnPrefixFilter(b"q3"))
    assert run(spy, TABLE) == ["row1 b:q3@4=elder", "row1 b:q3@2=fig"]
    assert spy.offered()[:5] == [
        "row1 a:q1@3=apple",  # hint -> a:q3, skipping q1's versions and q2
        "row1 a:x1@1=cherry",  # above the prefix: NEXT_ROW for family a
        "row1 b:q1@5=date",  # hint -> b:q3
        "row1 b:q3@4=elder",
        "row1 b:q3@2=fig",
    ]
    assert len(spy.cells) == 5 + 2 + 3  # row2: a:q1, b:q2; row3: a:x1, b:q1, b:y1


def test_multiple_column_prefix_filter() -> None:
    f = MultipleColumnPrefixFilter([b"x", b"q2"])
    assert run(f, TABLE) == [
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row2 a:q2@3=apple",
        "row2 a:q2@1=guava",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
    ]


def test_multiple_column_prefix_filter_overlapping_prefixes() -> None:
    # HBase checks only the largest prefix <= qualifier and would miss q2 under {q, q1}.
    assert run(MultipleColumnPrefixFilter([b"q", b"q1"]), TABLE) == run(
        ColumnPrefixFilter(b"q"), TABLE
    )


def test_multiple_column_prefix_filter_edges() -> None:
    assert len(run(MultipleColumnPrefixFilter([]), TABLE)) == 16
    with pytest.raises(InvalidArgument, match="distinct"):
        MultipleColumnPrefixFilter([b"a", b"a"])


def test_column_count_get_filter_ends_scan_at_first_wide_row() -> None:
    assert run(ColumnCountGetFilter(2), TABLE) == ["row1 a:q1@3=apple", "row1 a:q2@2=banana"]


def test_column_count_get_filter_newest_version_of_each_column() -> None:
    assert run(ColumnCountGetFilter(10), TABLE) == [
        "row1 a:q1@3=apple",
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row1 b:q1@5=date",
        "row1 b:q3@4=elder",
        "row2 a:q1@3=grape",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
        "row3 b:q1@6=lemon",
        "row3 b:y1@2=lime",
    ]
    get_row2 = [TABLE[1]]
    assert run(ColumnCountGetFilter(3), get_row2) == [
        "row2 a:q1@3=grape",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
    ]


def test_column_pagination_filter_offset() -> None:
    assert run(ColumnPaginationFilter(2, 1), TABLE) == [
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
        "row3 b:q1@6=lemon",
        "row3 b:y1@2=lime",
    ]
    assert run(ColumnPaginationFilter(0, 0), TABLE) == []


def test_column_pagination_filter_column_offset() -> None:
    assert run(ColumnPaginationFilter(2, column_offset=b"q2"), TABLE) == [
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
        "row3 b:q1@6=lemon",
    ]


def test_column_pagination_filter_rejects_negative() -> None:
    with pytest.raises(InvalidArgument):
        ColumnPaginationFilter(-1, 0)
    with pytest.raises(InvalidArgument):
        ColumnPaginationFilter(1, -1)


def test_column_range_filter_bounds() -> None:
    assert run(ColumnRangeFilter(b"q2", True, b"x1", False), TABLE) == [
        "row1 a:q2@2=banana",
        "row1 b:q3@4=elder",
        "row1 b:q3@2=fig",
        "row2 a:q2@3=apple",
        "row2 a:q2@1=guava",
        "row2 b:q2@5=honeydew",
    ]
    assert run(ColumnRangeFilter(b"q2", False, b"x1", True), TABLE) == [
        "row1 a:x1@1=cherry",
        "row1 b:q3@4=elder",
        "row1 b:q3@2=fig",
        "row3 a:x1@7=kiwi",
    ]


def test_column_range_filter_unbounded() -> None:
    assert run(ColumnRangeFilter(None, True, b"q1", True), TABLE, max_versions=1) == [
        "row1 a:q1@3=apple",
        "row1 b:q1@5=date",
        "row2 a:q1@3=grape",
        "row3 b:q1@6=lemon",
    ]
    assert run(ColumnRangeFilter(b"y", True, None, False), TABLE) == ["row3 b:y1@2=lime"]


def test_timestamps_filter() -> None:
    assert run(TimestampsFilter([5, 3]), TABLE) == [
        "row1 a:q1@3=apple",
        "row1 b:q1@5=date",
        "row2 a:q1@3=grape",
        "row2 a:q2@3=apple",
        "row2 b:q2@5=honeydew",
    ]
    assert run(TimestampsFilter([]), TABLE) == []


def test_timestamps_filter_sees_older_versions_before_version_count() -> None:
    assert run(TimestampsFilter([2]), TABLE, max_versions=1) == [
        "row1 a:q1@2=apricot",
        "row1 a:q2@2=banana",
        "row1 b:q3@2=fig",
        "row3 b:y1@2=lime",
    ]


def test_timestamps_filter_next_col_below_minimum() -> None:
    spy = Recorder(TimestampsFilter([3]))
    run(spy, TABLE[:1])
    offered = spy.offered()
    assert "row1 a:q1@1=avocado" not in offered  # a:q1@2 < 3 gave NEXT_COL
    assert "row1 b:q3@4=elder" in offered  # 4 > 3: SKIP, keep looking
    assert "row1 b:q3@2=fig" in offered  # 2 < 3: NEXT_COL
    with pytest.raises(InvalidArgument):
        TimestampsFilter([-1])
