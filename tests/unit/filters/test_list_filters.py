"""FilterList (AND / OR / nested), SkipFilter and WhileMatchFilter."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from hedgerow.model.cell import Cell
from hedgerow.model.filters import (
    BinaryComparator,
    ColumnPaginationFilter,
    ColumnPrefixFilter,
    ColumnRangeFilter,
    CompareOperator,
    FamilyFilter,
    Filter,
    FilterList,
    FilterListOperator,
    FirstKeyOnlyFilter,
    KeyOnlyFilter,
    MultipleColumnPrefixFilter,
    PrefixFilter,
    QualifierFilter,
    ReturnCode,
    RowFilter,
    SkipFilter,
    SubstringComparator,
    TimestampsFilter,
    ValueFilter,
    WhileMatchFilter,
    apply_filter_to_rows,
)
from hedgerow.model.filters.list_filters import merge_and, merge_or

from ._data import ALL, TABLE, Recorder, Row, cell, row_keys, run, show

Op = CompareOperator
AND = FilterListOperator.MUST_PASS_ALL
OR = FilterListOperator.MUST_PASS_ONE
RC = ReturnCode

# The tables from HBase's FilterListWithAND / FilterListWithOR javadoc:
# row = the sub-filter's code (localRC), column = the code merged so far (rc).
_ORDER = [
    RC.INCLUDE,
    RC.INCLUDE_AND_NEXT_COL,
    RC.INCLUDE_AND_SEEK_NEXT_ROW,
    RC.SKIP,
    RC.NEXT_COL,
    RC.NEXT_ROW,
    RC.SEEK_NEXT_USING_HINT,
]
_N = {
    "I": RC.INCLUDE,
    "IC": RC.INCLUDE_AND_NEXT_COL,
    "IR": RC.INCLUDE_AND_SEEK_NEXT_ROW,
    "S": RC.SKIP,
    "C": RC.NEXT_COL,
    "R": RC.NEXT_ROW,
    "H": RC.SEEK_NEXT_USING_HINT,
}
AND_TABLE = """
I  IC IR S  C  R  H
IC IC IR C  C  R  H
IR IR IR R  R  R  H
S  C  R  S  C  R  H
C  C  R  C  C  R  H
R  R  R  R  R  R  H
H  H  H  H  H  H  H
"""
OR_TABLE = """
I  I  I  I  I  I  I
I  IC IC I  IC IC I
I  IC IR I  IC IR I
I  I  I  S  S  S  S
I  IC IC S  C  C  S
I  IC IR S  C  R  S
I  I  I  S  S  S  H
"""


def _table(text: str) -> list[list[ReturnCode]]:
    return [[_N[x] for x in line.split()] for line in text.strip().splitlines()]


def test_and_merge_matches_hbase_table() -> None:
    table = _table(AND_TABLE)
    for i, local in enumerate(_ORDER):
        for j, rc in enumerate(_ORDER):
            assert merge_and(rc, local) is table[i][j], (rc, local)


def test_or_merge_matches_hbase_table() -> None:
    table = _table(OR_TABLE)
    for i, local in enumerate(_ORDER):
        for j, rc in enumerate(_ORDER):
            assert merge_or(rc, local) is table[i][j], (rc, local)
    assert merge_or(None, RC.NEXT_ROW) is RC.NEXT_ROW


def test_and_list() -> None:
    f = FilterList(
        AND,
        [
            ValueFilter(Op.EQUAL, SubstringComparator(b"a")),
            FamilyFilter(Op.EQUAL, BinaryComparator(b"b")),
        ],
    )
    assert run(f, TABLE) == ["row1 b:q1@5=date", "row3 b:q1@4=apple"]


def test_or_list() -> None:
    f = FilterList(OR, [QualifierFilter(Op.EQUAL, BinaryComparator(b"x1")), TimestampsFilter([5])])
    assert run(f, TABLE) == [
        "row1 a:x1@1=cherry",
        "row1 b:q1@5=date",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
    ]


def test_or_list_with_hints_takes_the_smaller_hint() -> None:
    f = FilterList(OR, [ColumnPrefixFilter(b"x"), ColumnPrefixFilter(b"q3")])
    spy = Recorder(f)
    assert run(spy, TABLE) == [
        "row1 a:x1@1=cherry",
        "row1 b:q3@4=elder",
        "row1 b:q3@2=fig",
        "row3 a:x1@7=kiwi",
    ]
    assert "row1 a:q2@2=banana" not in spy.offered()  # both hinted past it


def test_nested_lists() -> None:
    rows_1_or_3 = FilterList(OR, [PrefixFilter(b"row1"), PrefixFilter(b"row3")])
    f = FilterList(AND, [rows_1_or_3, FirstKeyOnlyFilter()])
    assert run(f, TABLE) == ["row1 a:q1@3=apple", "row3 a:x1@7=kiwi"]


def test_and_list_does_not_feed_excluded_cells_to_later_filters() -> None:
    # HBASE-20565: the pagination counter only sees cells the prefix filter passed.
    f = FilterList(AND, [ColumnPrefixFilter(b"q"), ColumnPaginationFilter(1, 1)])
    assert run(f, TABLE) == ["row1 a:q2@2=banana", "row2 a:q2@3=apple"]


def test_list_transform_cell() -> None:
    f = FilterList(AND, [KeyOnlyFilter(), ValueFilter(Op.EQUAL, BinaryComparator(b"kiwi"))])
    assert run(f, TABLE) == ["row3 a:x1@7="]
    # OR transforms only with the sub-filters that included the cell.
    q3_keys = FilterList(AND, [KeyOnlyFilter(), QualifierFilter(Op.EQUAL, BinaryComparator(b"q3"))])
    f = FilterList(OR, [ValueFilter(Op.EQUAL, BinaryComparator(b"kiwi")), q3_keys])
    assert run(f, TABLE) == ["row1 b:q3@4=", "row1 b:q3@2=", "row3 a:x1@7=kiwi"]


def test_empty_lists_pass_everything() -> None:
    assert run(FilterList(AND, []), TABLE) == ALL
    assert run(FilterList(OR, []), TABLE) == ALL


def test_list_row_level_semantics() -> None:
    done = PrefixFilter(b"a")
    done.filter_row_key(b"b")  # now past its prefix: filter_all_remaining
    live = PrefixFilter(b"")
    assert FilterList(AND, [done, live]).filter_all_remaining() is True
    assert FilterList(OR, [done, live]).filter_all_remaining() is False
    assert FilterList(OR, [done]).filter_all_remaining() is True
    f = FilterList(OR, [RowFilter(Op.EQUAL, BinaryComparator(b"row1")), PrefixFilter(b"row3")])
    assert row_keys(f, TABLE) == ["row1", "row3"]


def test_skip_filter_drops_rows_with_any_failing_cell() -> None:
    f = SkipFilter(ValueFilter(Op.NOT_EQUAL, BinaryComparator(b"fig")))
    assert row_keys(f, TABLE) == ["row2", "row3"]
    assert run(f, TABLE) == [line for line in ALL if not line.startswith("row1")]


def test_while_match_filter_stops_at_first_failure() -> None:
    f = WhileMatchFilter(ValueFilter(Op.NOT_EQUAL, BinaryComparator(b"guava")))
    # row2 is returned with the cells accepted before guava; then the scan ends.
    assert run(f, TABLE) == ALL[:8] + ["row2 a:q1@3=grape", "row2 a:q2@3=apple"]


def test_while_match_filter_on_row_key() -> None:
    spy = Recorder(WhileMatchFilter(RowFilter(Op.LESS, BinaryComparator(b"row2"))))
    assert row_keys(spy, TABLE) == ["row1"]
    assert spy.rows == [b"row1", b"row2"]


def test_skip_and_while_in_lists() -> None:
    skip = SkipFilter(ValueFilter(Op.NOT_EQUAL, BinaryComparator(b"kiwi")))
    f = FilterList(OR, [skip, PrefixFilter(b"row3")])
    assert row_keys(f, TABLE) == ["row1", "row2", "row3"]
    f = FilterList(AND, [skip, PrefixFilter(b"row")])
    assert row_keys(f, TABLE) == ["row1", "row2"]


# -- property: AND / OR of cell predicates equal the brute-force answer -------------

_QUALS = [b"", b"a", b"ab", b"b", b"ba", b"c"]


Pred = Callable[[Cell], bool]


def _leaf(kind: int, arg: int) -> tuple[Filter, Pred]:
    """A cell-level filter and a plain predicate that decides the same cells."""
    q = _QUALS[arg % len(_QUALS)]
    if kind == 0:
        return ColumnPrefixFilter(q), lambda c: c.qualifier.startswith(q)
    if kind == 1:
        hi = _QUALS[(arg // 7) % len(_QUALS)]
        return ColumnRangeFilter(q or None, arg % 2 == 0, hi or None, arg % 3 == 0), (
            lambda c: (
                (not q or c.qualifier > q or (c.qualifier == q and arg % 2 == 0))
                and (not hi or c.qualifier < hi or (c.qualifier == hi and arg % 3 == 0))
            )
        )
    if kind == 2:
        stamps = {arg % 4, (arg // 4) % 4}
        return TimestampsFilter(stamps), lambda c: c.timestamp in stamps
    if kind == 3:
        prefixes = sorted({q, _QUALS[(arg // 5) % len(_QUALS)]})
        return MultipleColumnPrefixFilter(prefixes), lambda c: any(
            c.qualifier.startswith(p) for p in prefixes
        )
    value = bytes([97 + arg % 3])
    return ValueFilter(Op.EQUAL, BinaryComparator(value)), lambda c: c.value == value


@st.composite
def _trees(draw: st.DrawFn, depth: int = 0) -> tuple[Filter, Pred]:
    if depth >= 2 or draw(st.booleans()):
        return _leaf(draw(st.integers(0, 4)), draw(st.integers(0, 200)))
    op = draw(st.sampled_from([AND, OR]))
    kids = [draw(_trees(depth + 1)) for _ in range(draw(st.integers(1, 3)))]
    preds = [k[1] for k in kids]
    if op is AND:
        return FilterList(op, [k[0] for k in kids]), lambda c: all(p(c) for p in preds)
    return FilterList(op, [k[0] for k in kids]), lambda c: any(p(c) for p in preds)


@st.composite
def _rows(draw: st.DrawFn) -> list[Row]:
    rows: list[Row] = []
    for r in sorted(draw(st.sets(st.sampled_from([b"r1", b"r2", b"r3", b"r4"]), min_size=1))):
        cells = set()
        for _ in range(draw(st.integers(1, 8))):
            fam = draw(st.sampled_from([b"f", b"g"]))
            qual = draw(st.sampled_from(_QUALS))
            ts = draw(st.integers(0, 3))
            cells.add((fam, qual, ts))
        made = [cell(r, f, q, ts, bytes([97 + draw(st.integers(0, 2))])) for f, q, ts in cells]
        made.sort(key=lambda c: (c.family, c.qualifier, -c.timestamp))
        rows.append((r, made))
    return rows


@settings(max_examples=300, deadline=None)
@given(tree=_trees(), rows=_rows())
def test_lists_of_cell_predicates_match_brute_force(
    tree: tuple[Filter, Pred], rows: list[Row]
) -> None:
    f, predicate = tree
    expected = [(r, [c for c in cs if predicate(c)]) for r, cs in rows]
    expected = [(r, cs) for r, cs in expected if cs]
    assert show(apply_filter_to_rows(f, rows)) == show(expected)
