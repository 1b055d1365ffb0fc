"""RowFilter, FamilyFilter, QualifierFilter, ValueFilter and DependentColumnFilter."""

from __future__ import annotations

from hedgerow.model.filters import (
    BinaryComparator,
    BinaryPrefixComparator,
    CompareOperator,
    DependentColumnFilter,
    FamilyFilter,
    QualifierFilter,
    RegexStringComparator,
    RowFilter,
    SubstringComparator,
    ValueFilter,
)

from ._data import ALL, TABLE, Recorder, row_keys, run

Op = CompareOperator


def test_row_filter_regex() -> None:
    assert row_keys(RowFilter(Op.EQUAL, RegexStringComparator(b"[13]$")), TABLE) == [
        "row1",
        "row3",
    ]
    f = Recorder(RowFilter(Op.NOT_EQUAL, BinaryComparator(b"row2")))
    assert row_keys(f, TABLE) == ["row1", "row3"]
    assert not any(c.row == b"row2" for c in f.cells)  # rejected by key: cells never offered


def test_family_filter_next_row_is_per_family() -> None:
    assert run(FamilyFilter(Op.EQUAL, BinaryComparator(b"b")), TABLE) == [
        line for line in ALL if " b:" in line
    ]
    assert run(FamilyFilter(Op.LESS, BinaryComparator(b"b")), TABLE) == [
        line for line in ALL if " a:" in line
    ]
    spy = Recorder(FamilyFilter(Op.EQUAL, BinaryComparator(b"b")))
    run(spy, TABLE[:1])
    # One a-cell was offered, then NEXT_ROW skipped the rest of family a only.
    assert spy.offered() == ["row1 a:q1@3=apple"] + [line for line in ALL[:8] if " b:" in line]


def test_qualifier_filter() -> None:
    assert run(QualifierFilter(Op.EQUAL, BinaryComparator(b"q1")), TABLE) == [
        "row1 a:q1@3=apple",
        "row1 a:q1@2=apricot",
        "row1 a:q1@1=avocado",
        "row1 b:q1@5=date",
        "row2 a:q1@3=grape",
        "row3 b:q1@6=lemon",
        "row3 b:q1@4=apple",
    ]
    assert run(QualifierFilter(Op.GREATER_OR_EQUAL, BinaryPrefixComparator(b"x")), TABLE) == [
        "row1 a:x1@1=cherry",
        "row3 a:x1@7=kiwi",
        "row3 b:y1@2=lime",
    ]


def test_value_filter_substring_sees_old_versions() -> None:
    f = ValueFilter(Op.EQUAL, SubstringComparator(b"APP"))
    # max_versions=1 is applied after the filter: row3's b:q1@4 is returned although
    # the newest version (lemon) is not.
    assert run(f, TABLE, max_versions=1) == [
        "row1 a:q1@3=apple",
        "row2 a:q2@3=apple",
        "row3 b:q1@4=apple",
    ]


def test_value_filter_not_equal_regex() -> None:
    f = ValueFilter(Op.NOT_EQUAL, RegexStringComparator(b"^[a-f]"))
    assert run(f, TABLE) == [
        "row2 a:q1@3=grape",
        "row2 a:q2@1=guava",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
        "row3 b:q1@6=lemon",
        "row3 b:y1@2=lime",
    ]


def test_value_filter_ordering_ops() -> None:
    f = ValueFilter(Op.LESS, BinaryComparator(b"b"))
    assert run(f, TABLE) == [line for line in ALL if line.split("=")[1] < "b"]
    f = ValueFilter(Op.GREATER, BinaryComparator(b"kiwi"))
    assert run(f, TABLE) == [line for line in ALL if line.split("=")[1] > "kiwi"]


def test_dependent_column_filter_two_args() -> None:
    assert run(DependentColumnFilter(b"a", b"q1"), TABLE) == [
        "row1 a:q1@3=apple",
        "row1 a:q1@2=apricot",
        "row1 a:q1@1=avocado",
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row1 b:q3@2=fig",
        "row2 a:q1@3=grape",
        "row2 a:q2@3=apple",
    ]


def test_dependent_column_filter_drop_dependent_column() -> None:
    assert run(DependentColumnFilter(b"a", b"q1", True), TABLE) == [
        "row1 a:q2@2=banana",
        "row1 a:x1@1=cherry",
        "row1 b:q3@2=fig",
        "row2 a:q2@3=apple",
    ]


def test_dependent_column_filter_with_value_comparison() -> None:
    f = DependentColumnFilter(b"a", b"q1", False, Op.EQUAL, BinaryComparator(b"apricot"))
    assert run(f, TABLE) == [
        "row1 a:q1@2=apricot",
        "row1 a:q2@2=banana",
        "row1 b:q3@2=fig",
    ]


def test_dependent_column_filter_after_version_count() -> None:
    # Version counting happens after filter_cell: a:q1@2 records stamp 2, then is
    # dropped as a second version, which also skips a:q1@1 (stamp 1 never recorded).
    # filter_row_cells then drops b:q1@5, b:q3@4 and a:x1@1.
    assert run(DependentColumnFilter(b"a", b"q1"), TABLE[:1], max_versions=1) == [
        "row1 a:q1@3=apple",
        "row1 a:q2@2=banana",
    ]
