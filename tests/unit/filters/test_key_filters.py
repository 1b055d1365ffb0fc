"""KeyOnly, FirstKeyOnly, Prefix, InclusiveStop, Page and RandomRow filters."""

from __future__ import annotations

import random

import pytest

from hedgerow.errors import InvalidArgument
from hedgerow.model.filters import (
    BinaryComparator,
    CompareOperator,
    FilterList,
    FirstKeyOnlyFilter,
    InclusiveStopFilter,
    KeyOnlyFilter,
    PageFilter,
    PrefixFilter,
    RandomRowFilter,
    SingleColumnValueFilter,
    apply_filter_to_rows,
)

from ._data import ALL, TABLE, Recorder, row_keys, run


def test_key_only_filter_empties_values() -> None:
    out = apply_filter_to_rows(KeyOnlyFilter(), TABLE)
    cells = [c for _, cs in out for c in cs]
    assert len(cells) == len(ALL)
    assert all(c.value == b"" for c in cells)
    assert [c.timestamp for c in cells[:3]] == [3, 2, 1]  # every version, keys intact


def test_key_only_filter_len_as_val() -> None:
    out = apply_filter_to_rows(KeyOnlyFilter(len_as_val=True), TABLE, max_versions=1)
    first = out[0][1][0]
    assert (first.qualifier, first.value) == (b"q1", (5).to_bytes(4, "big"))  # len("apple")


def test_first_key_only_filter_one_cell_per_row_across_families() -> None:
    assert run(FirstKeyOnlyFilter(), TABLE) == [
        "row1 a:q1@3=apple",
        "row2 a:q1@3=grape",
        "row3 a:x1@7=kiwi",
    ]


def test_prefix_filter_and_scan_end() -> None:
    assert row_keys(PrefixFilter(b"row2"), TABLE) == ["row2"]
    assert row_keys(PrefixFilter(b"row"), TABLE) == ["row1", "row2", "row3"]
    assert row_keys(PrefixFilter(b""), TABLE) == ["row1", "row2", "row3"]
    assert row_keys(PrefixFilter(b"row0"), TABLE) == []
    spy = Recorder()
    assert row_keys(FilterList(FilterList.MUST_PASS_ALL, [PrefixFilter(b"row1"), spy]), TABLE) == [
        "row1"
    ]
    assert spy.rows == [b"row1", b"row2"]  # row2 passes the prefix: the scan ends there


def test_prefix_filter_short_rows() -> None:
    f = PrefixFilter(b"abc")
    assert f.filter_row_key(b"ab") is True
    assert f.filter_all_remaining() is False
    assert f.filter_row_key(b"abcd") is False
    assert f.filter_row_key(b"b") is True
    assert f.filter_all_remaining() is True


def test_inclusive_stop_filter() -> None:
    assert row_keys(InclusiveStopFilter(b"row2"), TABLE) == ["row1", "row2"]
    assert row_keys(InclusiveStopFilter(b"row1x"), TABLE) == ["row1"]
    assert row_keys(InclusiveStopFilter(b"row0"), TABLE) == []
    spy = Recorder(InclusiveStopFilter(b"row1"))
    row_keys(spy, TABLE)
    assert spy.rows == [b"row1", b"row2"]  # row3 never offered


@pytest.mark.parametrize(
    ("size", "rows"), [(0, []), (1, ["row1"]), (2, ["row1", "row2"]), (9, ["row1", "row2", "row3"])]
)
def test_page_filter_limits_rows(size: int, rows: list[str]) -> None:
    assert row_keys(PageFilter(size), TABLE) == rows


def _scvf_grape() -> SingleColumnValueFilter:
    # latest_version_only=False: row1 keeps its (non-matching) cells until filter_row.
    return SingleColumnValueFilter(
        b"a", b"q1", CompareOperator.EQUAL, BinaryComparator(b"grape"), False, False
    )


def test_page_filter_counts_only_rows_reaching_filter_row() -> None:
    # SCVF first: row1 is rejected before PageFilter counts it (AND short-circuits filter_row).
    f = FilterList(FilterList.MUST_PASS_ALL, [_scvf_grape(), PageFilter(1)])
    assert row_keys(f, TABLE) == ["row2"]
    # PageFilter first: it counts row1, SCVF then drops row1, and the page is full.
    f = FilterList(FilterList.MUST_PASS_ALL, [PageFilter(1), _scvf_grape()])
    assert row_keys(f, TABLE) == []


def test_page_filter_does_not_count_rows_emptied_by_filter_cell() -> None:
    # With latest_version_only SCVF excludes every cell of row1: an empty row never
    # reaches filter_row, so PageFilter does not count it.
    scvf = SingleColumnValueFilter(b"a", b"q1", CompareOperator.EQUAL, BinaryComparator(b"grape"))
    f = FilterList(FilterList.MUST_PASS_ALL, [PageFilter(1), scvf])
    assert row_keys(f, TABLE) == ["row2"]


def test_page_filter_rejects_negative() -> None:
    with pytest.raises(InvalidArgument):
        PageFilter(-1)


def test_random_row_filter_uses_injected_rng() -> None:
    expected_rng = random.Random(7)
    expected = [r for r in ["row1", "row2", "row3"] if expected_rng.random() < 0.5]
    assert row_keys(RandomRowFilter(0.5, random.Random(7)), TABLE) == expected
    assert row_keys(RandomRowFilter(-1.0, random.Random(1)), TABLE) == []
    assert row_keys(RandomRowFilter(2.0, random.Random(1)), TABLE) == ["row1", "row2", "row3"]
    assert row_keys(RandomRowFilter(0.0, random.Random(1)), TABLE) == []
    # Whole rows are kept or dropped.
    kept = run(RandomRowFilter(0.5, random.Random(3)), TABLE)
    assert {line.split()[0] for line in kept} == {line.split()[0] for line in ALL if line in kept}
    assert [line for line in ALL if line.split()[0] in {k.split()[0] for k in kept}] == kept
