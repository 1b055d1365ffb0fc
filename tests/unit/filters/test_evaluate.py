"""The reference evaluator: per-row protocol, per-family seeks, hints, version counting."""

from __future__ import annotations

from hedgerow.model.cell import Cell
from hedgerow.model.filters import (
    FilterBase,
    ReturnCode,
    apply_filter_to_rows,
    first_on_row,
    first_on_row_col,
)

from ._data import ALL, TABLE, Recorder, Scripted, run, table

RC = ReturnCode


def test_no_filter_and_version_limit() -> None:
    assert run(None, TABLE) == ALL
    assert run(None, TABLE, max_versions=1) == [
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
    assert run(FilterBase(), TABLE, max_versions=2)[:3] == ALL[:2] + ["row1 a:q2@2=banana"]


def test_version_overflow_skips_rest_of_column() -> None:
    spy = Recorder()
    run(spy, TABLE[:1], max_versions=1)
    assert "row1 a:q1@1=avocado" not in spy.offered()  # a:q1@2 overflowed: NEXT_COL
    assert "row1 a:q1@2=apricot" in spy.offered()


def test_next_row_moves_only_that_family() -> None:
    f = Recorder(Scripted(lambda c: RC.NEXT_ROW if c.family == b"a" else RC.INCLUDE))
    assert run(f, TABLE) == [line for line in ALL if " b:" in line]
    assert [c.qualifier for c in f.cells if c.row == b"row1"] == [b"q1", b"q1", b"q3", b"q3"]


def test_include_and_seek_next_row_and_next_col() -> None:
    f = Scripted(lambda c: RC.INCLUDE_AND_SEEK_NEXT_ROW)
    assert run(f, TABLE) == [
        "row1 a:q1@3=apple",
        "row1 b:q1@5=date",
        "row2 a:q1@3=grape",
        "row2 b:q2@5=honeydew",
        "row3 a:x1@7=kiwi",
        "row3 b:q1@6=lemon",
    ]
    f = Scripted(lambda c: RC.INCLUDE_AND_NEXT_COL)
    assert run(f, TABLE) == run(None, TABLE, max_versions=1)
    f = Scripted(lambda c: RC.NEXT_COL if c.timestamp > 2 else RC.INCLUDE)
    assert "row1 a:q1@2=apricot" not in run(f, TABLE)


def test_hint_into_a_later_row_skips_that_family_in_between() -> None:
    def verdict(c: Cell) -> ReturnCode:
        if c.row == b"row1" and c.family == b"a":
            return RC.SEEK_NEXT_USING_HINT
        return RC.INCLUDE

    spy = Recorder(Scripted(verdict, lambda c: first_on_row(b"row3")))
    out = run(spy, TABLE)
    assert out == [line for line in ALL if not line.startswith("row1 a:") and "row2 a:" not in line]
    assert not any(c.row == b"row2" and c.family == b"a" for c in spy.cells)


def test_row_behind_every_family_position_is_not_visited() -> None:
    rows = table({"r1": ["a:q@1=x", "b:q@1=y"], "r2": ["a:q@1=z"], "r3": ["a:q@1=w"]})

    def verdict(c: Cell) -> ReturnCode:
        return RC.SEEK_NEXT_USING_HINT if c.row == b"r1" and c.family == b"a" else RC.INCLUDE

    spy = Recorder(Scripted(verdict, lambda c: first_on_row(b"r3")))
    assert run(spy, rows) == ["r1 b:q@1=y", "r3 a:q@1=w"]
    assert spy.rows == [b"r1", b"r3"]


def test_hint_within_row_and_backward_hint() -> None:
    f = Scripted(
        lambda c: RC.SEEK_NEXT_USING_HINT if c.qualifier < b"q3" else RC.INCLUDE,
        lambda c: first_on_row_col(c.row, c.family, b"q3"),
    )
    assert run(f, TABLE[:1]) == [
        "row1 a:x1@1=cherry",
        "row1 b:q3@4=elder",
        "row1 b:q3@2=fig",
    ]
    # A hint that does not move forward acts as SKIP.
    back = Scripted(lambda c: RC.SEEK_NEXT_USING_HINT, lambda c: first_on_row(b"row0"))
    spy = Recorder(back)
    assert run(spy, TABLE) == []
    assert len(spy.cells) == len(ALL)
    none = Scripted(lambda c: RC.SEEK_NEXT_USING_HINT)
    assert run(none, TABLE) == []


class _RowProtocol(FilterBase):
    """Records the row-level calls the evaluator makes."""

    def __init__(self, has_row: bool) -> None:
        self.has_row = has_row
        self.calls: list[str] = []

    def reset(self) -> None:
        self.calls.append("reset")

    def filter_row_key(self, row: bytes) -> bool:
        self.calls.append("key:" + row.decode())
        return row == b"row2"

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return RC.SKIP if cell.row == b"row3" else RC.INCLUDE

    def has_filter_row(self) -> bool:
        return self.has_row

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        self.calls.append(f"cells:{len(cells)}")
        return cells[:1]

    def filter_row(self) -> bool:
        self.calls.append("row")
        return False


def test_row_level_call_order() -> None:
    f = _RowProtocol(has_row=True)
    assert run(f, TABLE) == ["row1 a:q1@3=apple"]
    # row2 rejected by key; row3 empty after filter_cell: filter_row not called.
    assert f.calls == [
        "reset",
        "key:row1",
        "cells:8",
        "row",
        "reset",
        "key:row2",
        "reset",
        "key:row3",
        "cells:0",
    ]
    g = _RowProtocol(has_row=False)
    assert len(run(g, TABLE)) == 8
    assert g.calls == ["reset", "key:row1", "row", "reset", "key:row2", "reset", "key:row3"]


def test_filter_all_remaining_mid_row_returns_partial_row() -> None:
    class StopAfterTwo(FilterBase):
        n = 0

        def filter_all_remaining(self) -> bool:
            return self.n >= 2

        def filter_cell(self, cell: Cell) -> ReturnCode:
            self.n += 1
            return RC.INCLUDE

    assert run(StopAfterTwo(), TABLE) == ALL[:2]


def test_transform_applies_to_kept_cells_only() -> None:
    class Upper(FilterBase):
        def transform_cell(self, cell: Cell) -> Cell:
            return cell._replace(value=cell.value.upper())

    out = apply_filter_to_rows(Upper(), TABLE, max_versions=1)
    assert out[0][1][0].value == b"APPLE"
    assert sum(len(cs) for _, cs in out) == 11
