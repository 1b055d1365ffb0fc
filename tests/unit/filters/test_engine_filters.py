"""Filters run inside the engine give the same rows and cells as the reference evaluator.

The engine applies a scan's filter in ``Region._filtered`` / ``apply_row_filter``
(per-family seek positions, version counting after the filter, seeks to a later
row); ``hedgerow.model.filters.evaluate.apply_filter_to_rows`` is the executable
statement of the same protocol.  Here both run over one table whose data spans
several store files and the memstore, with cell, column, family and whole-row
deletes, and must agree.

The evaluator's candidates are the engine's own *unfiltered* scan with the
largest version limit (deletes already resolved); no column has more versions
than its family keeps, so applying the version limit before or after the filter
cannot differ.  Cells are compared on (row, family, qualifier, timestamp, value):
the ``seq`` of the engine's cells is left out, and the one-version dict API
(``max_versions=1``) carries only values and timestamps anyway.

Known gap, not tested here: the filters have no "reversed" mode (HBase's
``Filter.setReversed``), so a reverse scan with PrefixFilter or InclusiveStopFilter
ends at its first row that sorts above the prefix / stop row and returns nothing
from the top of the table; reverse scans below are checked for row-local filters.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow
from hedgerow.model.cell import Cell
from hedgerow.model.filters import (
    FILTER_NAMES,
    ColumnPaginationFilter,
    Filter,
    FilterList,
    FilterListOperator,
    FuzzyRowFilter,
    MultiRowRangeFilter,
    PageFilter,
    RandomRowFilter,
    RowRange,
    ValueFilter,
    WhileMatchFilter,
    apply_filter_to_rows,
    parse_filter,
)
from hedgerow.model.filters.comparators import BinaryComparator, CompareOperator
from hedgerow.model.read_spec import ReadSpec, ScanRange

Key = tuple[bytes, bytes, bytes, int, bytes]  # (row, family, qualifier, ts, value)
Rows = list[tuple[bytes, list[Key]]]

# ---- the data set ------------------------------------------------------------------------

#: 60 rows; the first letter cycles a, b, c so key order interleaves the numbers
#: (a00 a03 ... a57 b01 ... c59).
ROWS = [f"{'abc'[i % 3]}{i:02d}".encode() for i in range(60)]
FAMILIES = {"cf1": {"max_versions": 3}, "cf2": {"max_versions": 2}}
COLUMNS = {
    b"cf1": ([b"q1", b"q2", b"q3", b"x1"], [10, 20, 30]),
    b"cf2": ([b"q1", b"q2", b"y"], [10, 20]),
}
WORDS = [
    b"apple",
    b"apricot",
    b"Banana",
    b"blueberry",
    b"cherry",
    b"date",
    b"elder",
    b"fig",
    b"grape",
    b"kiwi",
    b"lemon",
    b"",
    b"melon",
    b"Mango",
]
SPLIT_KEYS = [b"a21", b"b", b"b31", b"c"]
N_BATCHES = 4


def _load(conn: Any, name: str, split_keys: list[bytes] | None) -> None:
    """Write the data set in batches, flushing between them; the last batch stays in memory.

    Each column gets at most its family's VERSIONS puts (each at a distinct
    timestamp), written in a random batch, so versions of one column are spread
    over several store files and the memstore, often newest first.
    """
    conn.create_table(name, FAMILIES, split_keys=split_keys)
    t = conn.table(name)
    rng = random.Random(20261126)
    batches: list[list[tuple[bytes, bytes, int, bytes]]] = [[] for _ in range(N_BATCHES)]
    written: list[tuple[bytes, bytes, int]] = []  # (row, column, ts) of every put
    for row in ROWS:
        for fam, (quals, stamps) in COLUMNS.items():
            for q in quals:
                if rng.random() < 0.25:
                    continue
                n = rng.randint(1, len(stamps))
                for ts in sorted(rng.sample(stamps, n)):
                    col = fam + b":" + q
                    batches[rng.randrange(N_BATCHES)].append((row, col, ts, rng.choice(WORDS)))
                    written.append((row, col, ts))
    deletes: list[list[tuple[str, bytes, Any]]] = [[] for _ in range(N_BATCHES)]
    for row, col, ts in rng.sample(written, 40):  # single versions
        deletes[rng.choice((2, 3))].append(("cell", row, (col, ts)))
    for row in rng.sample(ROWS, 8):  # columns, all versions at or below 20
        col = rng.choice([f + b":" + q for f, (qs, _) in COLUMNS.items() for q in qs])
        deletes[rng.choice((2, 3))].append(("columns", row, ([col], 20)))
    for row in rng.sample(ROWS, 5):  # a whole family
        deletes[rng.choice((1, 3))].append(("columns", row, ([b"cf2"], None)))
    for row in rng.sample(ROWS, 3):  # whole rows, everything
        deletes[rng.choice((2, 3))].append(("row", row, None))
    for row in rng.sample(ROWS, 4):  # whole rows at or below ts 15
        deletes[rng.choice((1, 2))].append(("row", row, 15))
    for i in range(N_BATCHES):
        for row, col, ts, value in batches[i]:
            t.put(row, {col: value}, timestamp=ts)
        for kind, row, arg in deletes[i]:
            if kind == "cell":
                t.delete_cell(row, arg[0], timestamp=arg[1])
            elif kind == "columns":
                t.delete(row, columns=arg[0], timestamp=arg[1])
            else:
                t.delete(row, timestamp=arg)
        if i < N_BATCHES - 1:
            conn.flush_table(name)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("engine-filters")
    c = hedgerow.connect(
        str(path),
        flush_size_bytes=4096,
        background=False,
        # keep the store files apart (no minor compaction merges them)
        compaction_min_files=50,
        compaction_max_files=60,
    )
    _load(c, "t", None)
    _load(c, "split", SPLIT_KEYS)
    yield c
    c.close()


@pytest.fixture(scope="module")
def table(conn: Any) -> Any:
    return conn.table("t")


@pytest.fixture(scope="module")
def split_table(conn: Any) -> Any:
    return conn.table("split")


# ---- helpers -----------------------------------------------------------------------------


def _keys(rows: Any) -> Rows:
    """(row, [Cell]) pairs -> (row, [(row, family, qualifier, ts, value)])."""
    out: Rows = []
    for row, cells in rows:
        assert all(c.row == row for c in cells)
        out.append((row, [(c.row, c.family, c.qualifier, c.timestamp, c.value) for c in cells]))
    return out


def _dict_keys(rows: Any) -> Rows:
    """(row, {b"fam:qual": (value, ts)}) pairs (the max_versions=1 API) -> the same shape."""
    out: Rows = []
    for row, data in rows:
        cells = []
        for col, (value, ts) in data.items():
            fam, _, qual = col.partition(b":")
            cells.append((row, fam, qual, ts, value))
        out.append((row, cells))
    return out


def _as_filter(f: str | Filter) -> Filter:
    return parse_filter(f) if isinstance(f, str) else f.clone()


_CANDIDATES: dict[tuple[str, str], list[tuple[bytes, list[Cell]]]] = {}


def candidates(t: Any, **kw: Any) -> list[tuple[bytes, list[Cell]]]:
    """The engine's unfiltered scan: every visible version (no column exceeds 3).

    Cached per table and arguments: the tables do not change after loading.
    """
    key = (t.name, repr(sorted(kw.items())))
    rows = _CANDIDATES.get(key)
    if rows is None:
        rows = _CANDIDATES[key] = list(t.scan(max_versions=3, **kw))
    assert rows, "the candidate scan must not be empty"
    return rows


def expected(f: str | Filter, cands: list[tuple[bytes, list[Cell]]], v: int) -> Rows:
    return _keys(apply_filter_to_rows(_as_filter(f), cands, max_versions=v))


def engine(t: Any, f: str | Filter, v: int, **kw: Any) -> Rows:
    """The engine's filtered scan through the public API (cells for v > 1, dicts for v == 1)."""
    if v == 1:
        return _dict_keys(t.scan(filter=f, include_timestamp=True, **kw))
    return _keys(t.scan(filter=f, max_versions=v, **kw))


def engine_cells(conn: Any, t: Any, f: str | Filter, v: int, rng: ScanRange | None = None) -> Rows:
    """The engine's filtered scan below the client: the full cell list, even for v == 1."""
    spec = ReadSpec(max_versions=v, filter=_as_filter(f))
    return _keys(conn.backend.scan(t.name, rng or ScanRange(), spec))


def _row_names(rows: Rows) -> list[bytes]:
    return [r for r, _ in rows]


# ---- the filter strings ------------------------------------------------------------------

#: Each of the 19 registered names, each comparator and each compare operator, lists,
#: SKIP/WHILE and nesting.  Row keys: a00 a03 .. a57 b01 .. b58 c02 .. c59.
FILTER_STRINGS = [
    # key filters
    "KeyOnlyFilter()",
    "KeyOnlyFilter(true)",
    "FirstKeyOnlyFilter()",
    "PrefixFilter('b')",
    "PrefixFilter('c1')",
    "PrefixFilter('zz')",
    "PageFilter(7)",
    "PageFilter(0)",
    "InclusiveStopFilter('b10')",
    # column filters
    "ColumnPrefixFilter('q')",
    "ColumnPrefixFilter('x')",
    "MultipleColumnPrefixFilter('q1', 'x', 'y')",
    "ColumnCountGetFilter(3)",
    "ColumnPaginationFilter(2, 1)",
    "ColumnPaginationFilter(3, 0)",
    "TimestampsFilter(10, 30)",
    "TimestampsFilter()",
    "ColumnRangeFilter('q1', true, 'q3', false)",
    "ColumnRangeFilter('q2', false, 'y', true)",
    # compare filters: every comparator and operator
    "RowFilter(<, 'binary:b')",
    "RowFilter(>=, 'binaryprefix:b2')",
    "RowFilter(=, 'regexstring:^[ac][0-9]5$')",
    "RowFilter(!=, 'substring:3')",
    "FamilyFilter(=, 'binary:cf2')",
    "FamilyFilter(<=, 'binary:cf1')",
    "QualifierFilter(>, 'binary:q2')",
    "QualifierFilter(=, 'binaryprefix:q')",
    "QualifierFilter(!=, 'regexstring:^q[12]$')",
    "ValueFilter(=, 'binary:apple')",
    "ValueFilter(<, 'binary:c')",
    "ValueFilter(>=, 'binary:kiwi')",
    "ValueFilter(>, 'binaryprefix:d')",
    "ValueFilter(<=, 'binaryprefix:b')",
    "ValueFilter(=, 'substring:AN')",
    "ValueFilter(!=, 'binaryprefix:b')",
    "ValueFilter(=, 'regexstring:^(fig|kiwi)$')",
    "ValueFilter(!=, 'substring:e')",
    # value filters
    "SingleColumnValueFilter('cf1', 'q1', =, 'binary:apple')",
    "SingleColumnValueFilter('cf1', 'q1', >=, 'binary:d', true, true)",
    "SingleColumnValueFilter('cf2', 'y', =, 'substring:e', true, false)",
    "SingleColumnValueFilter('cf1', 'q3', !=, 'regexstring:^[a-f]', false, false)",
    "SingleColumnValueExcludeFilter('cf1', 'q2', !=, 'binary:fig')",
    "SingleColumnValueExcludeFilter('cf2', 'q1', <, 'binary:g', true, true)",
    "DependentColumnFilter('cf1', 'q1')",
    "DependentColumnFilter('cf2', 'q2', true)",
    "DependentColumnFilter('cf1', 'q1', false, =, 'binaryprefix:a')",
    "DependentColumnFilter('cf1', 'x1', true, >, 'binary:e')",
    "ColumnValueFilter('cf1', 'q3', =, 'binary:cherry')",
    "ColumnValueFilter('cf2', 'q1', >, 'binary:f')",
    # lists, SKIP, WHILE, nesting
    "PrefixFilter('a') AND ValueFilter(=, 'regexstring:e')",
    "RowFilter(<, 'binary:a30') OR RowFilter(>, 'binary:c40')",
    "SKIP ValueFilter(!=, 'binary:apple')",
    "SKIP ValueFilter(=, 'substring:a')",
    "WHILE RowFilter(<, 'binary:b15')",
    "WHILE ValueFilter(!=, 'binary:kiwi')",
    "WHILE (PrefixFilter('a') OR ValueFilter(=, 'binary:fig'))",
    "FamilyFilter(=, 'binary:cf1') AND QualifierFilter(=, 'binary:q1') OR "
    "ValueFilter(=, 'binary:lemon')",
    "(PrefixFilter('b') OR PrefixFilter('c')) AND (SKIP ValueFilter(!=, 'binary:')) "
    "AND PageFilter(5)",
    "FirstKeyOnlyFilter() AND KeyOnlyFilter()",
    "ColumnPrefixFilter('x') OR TimestampsFilter(20)",
    "ColumnPrefixFilter('y') OR ColumnRangeFilter('q2', true, 'q3', true)",
    "SKIP (QualifierFilter(!=, 'binary:q3') OR ValueFilter(=, 'substring:a'))",
    "ColumnCountGetFilter(2) AND ValueFilter(!=, 'binary:')",
    "PageFilter(4) AND SingleColumnValueFilter('cf1', 'q1', =, 'binaryprefix:a', true, true)",
    "SingleColumnValueFilter('cf1', 'q1', =, 'binaryprefix:a', true, true) AND PageFilter(4)",
    "ColumnPaginationFilter(3, 0) OR FirstKeyOnlyFilter()",
    "InclusiveStopFilter('a30') OR PrefixFilter('c')",
    "ValueFilter(<=, 'binary:cherry') AND ValueFilter(>, 'binary:apple')",
    "(FamilyFilter(=, 'binary:cf2') AND (ValueFilter(=, 'binary:fig') OR "
    "ValueFilter(=, 'binary:kiwi'))) OR (SKIP QualifierFilter(=, 'binaryprefix:q'))",
    "WHILE SKIP ValueFilter(!=, 'binary:Mango')",
    "KeyOnlyFilter() AND DependentColumnFilter('cf2', 'q1', false)",
    "MultipleColumnPrefixFilter('q2', 'q3') AND TimestampsFilter(20, 30) AND "
    "ColumnPaginationFilter(1, 1)",
]


def test_the_strings_cover_every_name_comparator_and_operator() -> None:
    text = " ".join(FILTER_STRINGS)
    assert len(FILTER_STRINGS) >= 40
    assert len(FILTER_NAMES) == 19
    for name in FILTER_NAMES:
        assert f"{name}(" in text, name
    for comparator in ("binary:", "binaryprefix:", "regexstring:", "substring:"):
        assert f"'{comparator}" in text, comparator
    for op in ("<", "<=", "=", "!=", ">=", ">"):
        assert f"({op}, " in text or f", {op}, " in text, op
    for keyword in (" AND ", " OR ", "SKIP ", "WHILE "):
        assert keyword in text, keyword


# ---- engine == evaluator -------------------------------------------------------------------


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("text", FILTER_STRINGS)
def test_filter_string_in_engine_matches_evaluator(table: Any, text: str, v: int) -> None:
    want = expected(text, candidates(table), v)
    assert engine(table, text, v) == want


@pytest.mark.parametrize("text", FILTER_STRINGS)
def test_filter_string_full_cells_at_one_version(conn: Any, table: Any, text: str) -> None:
    """Below the dict API: the engine returns exactly one version per column at v == 1."""
    assert engine_cells(conn, table, text, 1) == expected(text, candidates(table), 1)


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("text", FILTER_STRINGS)
def test_filter_string_on_presplit_table(split_table: Any, text: str, v: int) -> None:
    """One filter instance travels across the regions and still agrees with the evaluator."""
    assert len(split_table.regions()) == len(SPLIT_KEYS) + 1
    want = expected(text, candidates(split_table), v)
    assert engine(split_table, text, v) == want


def test_the_data_spans_memstore_store_files_and_deletes(table: Any) -> None:
    cells = [c for _, cs in candidates(table) for c in cs]
    seen_rows = {c.row for c in cells}
    assert len(seen_rows) < len(ROWS)  # whole-row deletes removed some rows
    by_col: dict[tuple[bytes, bytes, bytes], int] = {}
    for c in cells:
        k = (c.row, c.family, c.qualifier)
        by_col[k] = by_col.get(k, 0) + 1
    assert max(by_col.values()) == 3
    assert {c.family for c in cells} == {b"cf1", b"cf2"}
    assert all(n <= 2 for (_, f, _), n in by_col.items() if f == b"cf2")
    assert len(cells) > 300


# ---- programmatic filters ------------------------------------------------------------------


def _programmatic() -> list[tuple[str, Filter]]:
    gt_kiwi = ValueFilter(CompareOperator.GREATER, BinaryComparator(b"kiwi"))
    return [
        ("fuzzy", FuzzyRowFilter([(b"a\x003", b"\x00\x01\x00"), (b"\x0015", b"\x01\x00\x00")])),
        ("fuzzy-none", FuzzyRowFilter([(b"z\x00", b"\x00\x01")])),
        (
            "multirange",
            MultiRowRangeFilter(
                [
                    RowRange(b"a10", True, b"a20", False),
                    RowRange(b"b", True, b"b13", True),
                    RowRange(b"b40", False, b"b46", True),
                    RowRange(b"c50", False, b"", False),
                ]
            ),
        ),
        ("random", RandomRowFilter(0.5, random.Random(7))),
        ("random-all", RandomRowFilter(2.0, random.Random(7))),
        ("pagination-offset", ColumnPaginationFilter(2, column_offset=b"q2")),
        ("pagination-offset-x", ColumnPaginationFilter(1, column_offset=b"x")),
        (
            "fuzzy-or-range",
            FilterList(
                FilterListOperator.MUST_PASS_ONE,
                [
                    FuzzyRowFilter([(b"c\x00\x00", b"\x00\x01\x01")]),
                    MultiRowRangeFilter([RowRange(b"a30", True, b"a40", True)]),
                ],
            ),
        ),
        (
            "range-and-value",
            FilterList(
                FilterListOperator.MUST_PASS_ALL,
                [MultiRowRangeFilter([RowRange(b"b", True, b"c", False)]), gt_kiwi],
            ),
        ),
        (
            "while-value",
            WhileMatchFilter(ValueFilter(CompareOperator.NOT_EQUAL, BinaryComparator(b"fig"))),
        ),
    ]


PROGRAMMATIC = _programmatic()


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("name", [n for n, _ in PROGRAMMATIC])
def test_programmatic_filter_in_engine_matches_evaluator(
    table: Any, split_table: Any, name: str, v: int
) -> None:
    f = dict(PROGRAMMATIC)[name]
    for t in (table, split_table):
        want = expected(f, candidates(t), v)
        # Table.scan copies the filter; f itself stays unused
        assert engine(t, f, v) == want
    if not name.endswith("-none"):
        assert expected(f, candidates(table), v)  # the case selects something


def test_random_row_filter_is_reproducible_with_a_seeded_rng(table: Any) -> None:
    a = engine(table, RandomRowFilter(0.3, random.Random(11)), 1)
    b = engine(table, RandomRowFilter(0.3, random.Random(11)), 1)
    c = engine(table, RandomRowFilter(0.3, random.Random(12)), 1)
    assert a == b and a != c
    assert 0 < len(a) < len(candidates(table))


# ---- scan ranges, columns, reverse, limit ----------------------------------------------------

RANGE_CASES: list[dict[str, Any]] = [
    {"row_start": b"a20", "row_stop": b"b40"},
    {"row_start": b"b", "row_stop": b"c"},
    {"row_start": b"b05"},
    {"row_stop": b"a40"},
    {"row_prefix": b"c"},
    {"row_start": b"a30", "row_stop": b"b20", "start_inclusive": False, "stop_inclusive": True},
]
RANGE_FILTERS = [
    "ValueFilter(<, 'binary:c')",
    "FirstKeyOnlyFilter() AND KeyOnlyFilter()",
    "PageFilter(3)",
    "WHILE ValueFilter(!=, 'binary:kiwi')",
    "ColumnPaginationFilter(2, 1)",
    "SingleColumnValueFilter('cf1', 'q1', <, 'binary:g', true, false)",
    "PrefixFilter('b')",
    "InclusiveStopFilter('b20')",
    "ColumnRangeFilter('q2', true, 'x1', true) OR SKIP ValueFilter(!=, 'binary:fig')",
]


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("text", RANGE_FILTERS)
@pytest.mark.parametrize("rng", range(len(RANGE_CASES)))
def test_filter_with_row_range(table: Any, split_table: Any, rng: int, text: str, v: int) -> None:
    kw = RANGE_CASES[rng]
    for t in (table, split_table):
        assert engine(t, text, v, **kw) == expected(text, candidates(t, **kw), v)


COLUMN_CASES: list[list[bytes]] = [
    [b"cf1:q1", b"cf2"],
    [b"cf2:y", b"cf1:x1", b"cf1:q2"],
    [b"cf1"],
    [b"cf2:q1"],
]
COLUMN_FILTERS = [
    "ValueFilter(>=, 'binary:d')",
    "FirstKeyOnlyFilter()",
    "ColumnCountGetFilter(2)",
    "ColumnPrefixFilter('q')",
    "SingleColumnValueFilter('cf1', 'q1', =, 'regexstring:^[a-f]', true, true)",
    "SingleColumnValueFilter('cf1', 'q1', =, 'regexstring:^[a-f]', false, true)",
    "DependentColumnFilter('cf2', 'q1', true)",
    "PageFilter(6) AND QualifierFilter(!=, 'binary:q1')",
    "SKIP TimestampsFilter(10, 20)",
]


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("text", COLUMN_FILTERS)
@pytest.mark.parametrize("cols", range(len(COLUMN_CASES)))
def test_filter_with_columns(table: Any, cols: int, text: str, v: int) -> None:
    columns = COLUMN_CASES[cols]
    got = engine(table, text, v, columns=columns)
    assert got == expected(text, candidates(table, columns=columns), v)


#: Filters whose decision about a row depends only on that row (no scan-wide state,
#: no seeks into later rows), so a reverse scan returns the forward result reversed.
#: Not ColumnCountGetFilter: as in HBase, its ``filter_all_remaining`` turns true (and
#: ends the scan) in the first row with more than ``limit`` columns.
ROW_LOCAL = [
    "ValueFilter(=, 'regexstring:an')",
    "KeyOnlyFilter(true)",
    "FirstKeyOnlyFilter()",
    "ColumnPaginationFilter(2, 2)",
    "RowFilter(!=, 'substring:1')",
    "FamilyFilter(>, 'binary:cf1')",
    "QualifierFilter(<=, 'binary:q2')",
    "TimestampsFilter(20)",
    "ColumnRangeFilter('q2', true, 'q3', true)",
    "ColumnPrefixFilter('x') OR ColumnPrefixFilter('y')",
    "MultipleColumnPrefixFilter('q2', 'y')",
    "SingleColumnValueFilter('cf2', 'q2', <, 'binary:f', true, true)",
    "SingleColumnValueExcludeFilter('cf1', 'q1', >, 'binary:c')",
    "DependentColumnFilter('cf1', 'q2', false, !=, 'binary:kiwi')",
    "ColumnValueFilter('cf1', 'x1', <, 'binary:e')",
    "SKIP ValueFilter(!=, 'binary:')",
    "QualifierFilter(=, 'binary:q1') AND ValueFilter(<, 'binary:m')",
]


@pytest.mark.parametrize("v", [1, 3])
@pytest.mark.parametrize("text", ROW_LOCAL)
def test_reverse_scan_is_the_forward_result_reversed(
    table: Any, split_table: Any, text: str, v: int
) -> None:
    for t in (table, split_table):
        forward = engine(t, text, v)
        assert forward, text
        assert engine(t, text, v, reverse=True) == forward[::-1]
        assert forward == expected(text, candidates(t), v)
        # a bounded reverse scan: row_start is the high end
        part = [(r, cs) for r, cs in forward if b"a30" < r <= b"b40"]
        got = engine(t, text, v, reverse=True, row_start=b"b40", row_stop=b"a30")
        assert got == part[::-1]


@pytest.mark.parametrize(
    "text",
    [
        "ValueFilter(=, 'substring:e')",
        "PrefixFilter('b')",
        "PageFilter(9)",
        "SKIP ValueFilter(!=, 'binary:apple')",
        "WHILE RowFilter(<, 'binary:c20')",
    ],
)
@pytest.mark.parametrize("limit", [1, 4, 25, 100])
def test_filter_with_limit(table: Any, split_table: Any, text: str, limit: int) -> None:
    for t in (table, split_table):
        want = expected(text, candidates(t), 3)[:limit]
        assert engine(t, text, 3, limit=limit) == want
        assert len(want) == min(limit, len(expected(text, candidates(t), 3)))


# ---- PageFilter across regions, WhileMatchFilter --------------------------------------------


def _region_row_counts(t: Any) -> list[int]:
    counts = []
    for r in t.regions():
        start = r["start_key"] or None
        stop = r["end_key"] or None
        counts.append(len(list(t.scan(row_start=start, row_stop=stop))))
    return counts


@pytest.mark.parametrize("n", [1, 5, 12, 25, 40, 1000])
def test_page_filter_returns_n_rows_in_total_across_regions(
    conn: Any, split_table: Any, n: int
) -> None:
    counts = _region_row_counts(split_table)
    assert len(counts) == 5 and min(counts) >= 5
    total = sum(counts)
    want = min(n, total)
    for text in (f"PageFilter({n})", f"KeyOnlyFilter() AND PageFilter({n})"):
        rows = list(split_table.scan(filter=text))
        assert len(rows) == want, text
        assert [r for r, _ in rows] == [r for r, _ in split_table.scan(limit=want)]
    # The engine shares the one filter instance between the regions: the filter it
    # was given has counted every row (a per-region copy would leave it untouched,
    # and per-region page limits would return up to n rows per region).
    pf = PageFilter(n)
    got = list(conn.backend.scan(split_table.name, ScanRange(), ReadSpec(filter=pf)))
    assert len(got) == want
    assert pf.filter_all_remaining() is (n <= total)
    # reverse scans count across regions too
    rev = list(split_table.scan(filter=f"PageFilter({n})", reverse=True))
    assert [r for r, _ in rev] == [r for r, _ in split_table.scan(reverse=True, limit=want)]


def test_page_filter_small_pages_would_exceed_n_if_counted_per_region(split_table: Any) -> None:
    """PageFilter(n) with n smaller than every region: still n rows, not n per region."""
    counts = _region_row_counts(split_table)
    n = min(counts) - 1
    assert len(list(split_table.scan(filter=f"PageFilter({n})"))) == n < n * len(counts)


def test_while_match_ends_the_scan_at_the_first_non_match(table: Any, split_table: Any) -> None:
    for t in (table, split_table):
        all_rows = [r for r, _ in t.scan()]
        stop_at = all_rows[len(all_rows) // 2]
        text = f"WHILE RowFilter(!=, 'binary:{stop_at.decode()}')"
        got = [r for r, _ in t.scan(filter=text)]
        # every later row matches RowFilter(!=) too, yet none is returned
        assert got == all_rows[: len(all_rows) // 2]
        assert [r for r, _ in t.scan(filter=text[len("WHILE ") :])] == [
            r for r in all_rows if r != stop_at
        ]

    # A value-driven stop: the first row with a cell valued "kiwi" (at v=1, the newest
    # versions) ends the scan; later rows without kiwi are still not returned.
    cands = candidates(table)
    latest = apply_filter_to_rows(None, cands, max_versions=1)
    first_kiwi = next(i for i, (_, cs) in enumerate(latest) if any(c.value == b"kiwi" for c in cs))
    later_clean = [r for r, cs in latest[first_kiwi + 1 :] if all(c.value != b"kiwi" for c in cs)]
    assert later_clean, "the data set needs kiwi-free rows after the first kiwi"
    got = engine(table, "WHILE ValueFilter(!=, 'binary:kiwi')", 1)
    names = _row_names(got)
    assert names[:first_kiwi] == [r for r, _ in latest[:first_kiwi]]
    # the row holding the first kiwi ends early: its cells before the kiwi, if any
    assert len(names) in (first_kiwi, first_kiwi + 1)
    if len(names) > first_kiwi:
        assert names[-1] == latest[first_kiwi][0]
        assert all(value != b"kiwi" for _, _, _, _, value in got[-1][1])
    assert not set(names) & set(later_clean)


# ---- Table.row / Table.rows with a filter -------------------------------------------------


def _expected_row(t: Any, row: bytes, f: str | Filter, **kw: Any) -> dict[bytes, Any]:
    cands = [(r, cs) for r, cs in candidates(t, **kw) if r == row]
    out: dict[bytes, Any] = {}
    for _, cells in apply_filter_to_rows(_as_filter(f), cands, max_versions=1):
        for c in cells:
            out.setdefault(c.family + b":" + c.qualifier, (c.value, c.timestamp))
    return out


ROW_FILTERS = [
    "ValueFilter(=, 'regexstring:^[a-f]')",
    "KeyOnlyFilter()",
    "FirstKeyOnlyFilter()",
    "ColumnPaginationFilter(2, 1)",
    "SingleColumnValueFilter('cf1', 'q1', =, 'binaryprefix:a', true, true)",
    "SingleColumnValueExcludeFilter('cf1', 'q2', !=, 'binary:fig')",
    "DependentColumnFilter('cf1', 'q1', true)",
    "FamilyFilter(=, 'binary:cf2') OR QualifierFilter(=, 'binary:x1')",
    "PrefixFilter('b')",
    "PageFilter(1)",
    "WHILE ValueFilter(!=, 'binary:kiwi')",
    "TimestampsFilter(10)",
]


@pytest.mark.parametrize("text", ROW_FILTERS)
def test_table_row_with_filter(table: Any, split_table: Any, text: str) -> None:
    for t in (table, split_table):
        seen_nonempty = False
        for row in ROWS:
            want = _expected_row(t, row, text)
            assert t.row(row, filter=text, include_timestamp=True) == want, row
            # a Filter object works too, and is not consumed by the call
            obj = parse_filter(text)
            assert t.row(row, filter=obj, include_timestamp=True) == want, row
            assert t.row(row, filter=obj) == {k: v for k, (v, _) in want.items()}
            seen_nonempty = seen_nonempty or bool(want)
        assert seen_nonempty, text


def test_table_row_with_filter_and_columns(table: Any) -> None:
    text = "ValueFilter(>=, 'binary:d')"
    for row in ROWS:
        want = _expected_row(table, row, text, columns=[b"cf1:q1", b"cf2"])
        got = table.row(row, columns=[b"cf1:q1", b"cf2"], filter=text, include_timestamp=True)
        assert got == want


@pytest.mark.parametrize("text", ROW_FILTERS)
def test_table_rows_with_filter(table: Any, text: str) -> None:
    want = []
    for row in ROWS:
        d = _expected_row(table, row, text)
        if d:
            want.append((row, d))
    assert table.rows(ROWS, filter=text, include_timestamp=True) == want
    assert table.rows(ROWS, filter=parse_filter(text), include_timestamp=True) == want


def test_table_rows_gets_a_fresh_filter_per_row(table: Any) -> None:
    """PageFilter(1) and WHILE keep scan-wide state; each row's Get starts afresh."""
    stored = {r for r, _ in table.scan()}
    present = [r for r in ROWS if r in stored]  # rows() keeps the order it was given
    assert len(present) < len(ROWS)
    assert [r for r, _ in table.rows(ROWS, filter="PageFilter(1)")] == present
    obj = PageFilter(1)
    assert [r for r, _ in table.rows(ROWS, filter=obj)] == present
    assert not obj.filter_all_remaining()  # the caller's object was not used
    # a stop in one row does not end the others
    text = "WHILE ValueFilter(!=, 'binary:kiwi')"
    assert [r for r, _ in table.rows(ROWS, filter=text)] == [
        r for r in ROWS if _expected_row(table, r, text)
    ]


def test_table_row_filter_argument_is_validated(table: Any) -> None:
    from hedgerow.errors import FilterSyntaxError, InvalidArgument

    with pytest.raises(InvalidArgument):
        table.row(ROWS[0], filter=42)
    with pytest.raises(InvalidArgument):
        table.rows(ROWS, filter=["PageFilter(1)"])
    with pytest.raises(FilterSyntaxError):
        table.row(ROWS[0], filter="NoSuchFilter()")
    with pytest.raises(FilterSyntaxError):
        table.rows([], filter="PageFilter(")
    assert table.row(ROWS[0], filter=None) == table.row(ROWS[0])
    assert table.rows(ROWS[:5], filter=None) == table.rows(ROWS[:5])
