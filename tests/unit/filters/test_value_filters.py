"""SingleColumnValueFilter, SingleColumnValueExcludeFilter and ColumnValueFilter."""

from __future__ import annotations

from hedgerow.model.filters import (
    BinaryComparator,
    ColumnValueFilter,
    CompareOperator,
    SingleColumnValueExcludeFilter,
    SingleColumnValueFilter,
)

from ._data import ALL, TABLE, Recorder, row_keys, run

Op = CompareOperator


def scvf(value: bytes, op: Op = Op.EQUAL, **kw: bool) -> SingleColumnValueFilter:
    return SingleColumnValueFilter(b"a", b"q1", op, BinaryComparator(value), **kw)


def test_scvf_returns_whole_matching_rows_and_rows_missing_the_column() -> None:
    assert run(scvf(b"grape"), TABLE) == [line for line in ALL if line.startswith(("row2", "row3"))]


def test_scvf_filter_if_missing() -> None:
    assert row_keys(scvf(b"grape", filter_if_missing=True), TABLE) == ["row2"]


def test_scvf_latest_version_only() -> None:
    # a:q1 of row1 is apple@3, apricot@2: only the newest is tested by default.
    assert row_keys(scvf(b"apricot"), TABLE) == ["row3"]
    assert row_keys(scvf(b"apricot", latest_version_only=False), TABLE) == ["row1", "row3"]
    assert run(scvf(b"apricot", latest_version_only=False), TABLE[:1]) == ALL[:8]


def test_scvf_compare_direction() -> None:
    f = SingleColumnValueFilter(b"a", b"q2", Op.LESS, BinaryComparator(b"b"))
    # row1 a:q2=banana is not < b; row2 a:q2=apple is; row3 lacks the column.
    assert row_keys(f, TABLE) == ["row2", "row3"]


def test_scvf_stops_reading_a_rejected_row() -> None:
    spy = Recorder(scvf(b"grape"))
    run(spy, TABLE[:1])
    # apple@3 fails: NEXT_ROW for family a, and every b cell gets NEXT_ROW too.
    assert spy.offered() == ["row1 a:q1@3=apple", "row1 b:q1@5=date"]


def test_scvf_is_family_essential() -> None:
    assert scvf(b"x").is_family_essential(b"b") is True
    assert scvf(b"x", filter_if_missing=True).is_family_essential(b"b") is False
    assert scvf(b"x", filter_if_missing=True).is_family_essential(b"a") is True


def test_scv_exclude_filter_drops_tested_column() -> None:
    f = SingleColumnValueExcludeFilter(b"a", b"q1", Op.EQUAL, BinaryComparator(b"grape"))
    assert run(f, TABLE) == [
        "row2 a:q2@3=apple",
        "row2 a:q2@1=guava",
        "row2 b:q2@5=honeydew",
    ] + [line for line in ALL if line.startswith("row3")]


def test_column_value_filter_returns_only_matching_cells() -> None:
    f = ColumnValueFilter(b"b", b"q1", Op.EQUAL, BinaryComparator(b"lemon"))
    assert run(f, TABLE) == ["row3 b:q1@6=lemon"]
    f = ColumnValueFilter(b"b", b"q1", Op.NOT_EQUAL, BinaryComparator(b"lemon"))
    assert run(f, TABLE) == ["row1 b:q1@5=date", "row3 b:q1@4=apple"]
    f = ColumnValueFilter(b"b", b"q1", Op.NOT_EQUAL, BinaryComparator(b"lemon"))
    assert run(f, TABLE, max_versions=1) == ["row1 b:q1@5=date", "row3 b:q1@4=apple"]


def test_column_value_filter_skips_other_columns() -> None:
    spy = Recorder(ColumnValueFilter(b"b", b"q1", Op.EQUAL, BinaryComparator(b"date")))
    assert run(spy, TABLE[:1]) == ["row1 b:q1@5=date"]
    assert spy.offered() == [
        "row1 a:q1@3=apple",  # NEXT_COL
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row1 b:q1@5=date",
        "row1 b:q3@4=elder",  # after the column: NEXT_ROW
    ]
