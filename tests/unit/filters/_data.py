"""Shared fixtures for the filter tests: a small table and a compact result format.

Cells are written as ``"row fam:qual@ts=value"`` so expected results read like a
scan printout.
"""

from __future__ import annotations

from collections.abc import Callable

from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.filters import Filter, FilterBase, ReturnCode, apply_filter_to_rows

Row = tuple[bytes, list[Cell]]


def cell(row: bytes, family: bytes, qualifier: bytes, ts: int, value: bytes) -> Cell:
    return Cell(row, family, qualifier, ts, KeyType.PUT, value)


def table(spec: dict[str, list[str]]) -> list[Row]:
    """Build rows from ``{"row": ["fam:qual@ts=value", ...]}``, sorted in HBase order."""
    rows: list[Row] = []
    for row in sorted(spec, key=lambda r: r.encode()):
        cells = []
        for item in spec[row]:
            column, _, rest = item.partition("@")
            family, _, qualifier = column.partition(":")
            ts, _, value = rest.partition("=")
            cells.append(
                cell(row.encode(), family.encode(), qualifier.encode(), int(ts), value.encode())
            )
        cells.sort(key=lambda c: (c.family, c.qualifier, -c.timestamp))
        rows.append((row.encode(), cells))
    return rows


def show(rows: list[Row]) -> list[str]:
    """Flatten a result into ``"row fam:qual@ts=value"`` strings."""
    out = []
    for row, cells in rows:
        for c in cells:
            assert c.row == row
            out.append(
                f"{c.row.decode('latin-1')} {c.family.decode('latin-1')}:"
                f"{c.qualifier.decode('latin-1')}@{c.timestamp}={c.value.decode('latin-1')}"
            )
    return out


def run(f: Filter | None, rows: list[Row], max_versions: int | None = None) -> list[str]:
    return show(apply_filter_to_rows(f, rows, max_versions))


def row_keys(f: Filter | None, rows: list[Row], max_versions: int | None = None) -> list[str]:
    return [r.decode("latin-1") for r, _ in apply_filter_to_rows(f, rows, max_versions)]


#: Three rows, two families (a, b), several versions.
TABLE = table(
    {
        "row1": [
            "a:q1@3=apple",
            "a:q1@2=apricot",
            "a:q1@1=avocado",
            "a:q2@2=banana",
            "a:x1@1=cherry",
            "b:q1@5=date",
            "b:q3@4=elder",
            "b:q3@2=fig",
        ],
        "row2": [
            "a:q1@3=grape",
            "a:q2@3=apple",
            "a:q2@1=guava",
            "b:q2@5=honeydew",
        ],
        "row3": [
            "a:x1@7=kiwi",
            "b:q1@6=lemon",
            "b:q1@4=apple",
            "b:y1@2=lime",
        ],
    }
)

ALL = [
    "row1 a:q1@3=apple",
    "row1 a:q1@2=apricot",
    "row1 a:q1@1=avocado",
    "row1 a:q2@2=banana",
    "row1 a:x1@1=cherry",
    "row1 b:q1@5=date",
    "row1 b:q3@4=elder",
    "row1 b:q3@2=fig",
    "row2 a:q1@3=grape",
    "row2 a:q2@3=apple",
    "row2 a:q2@1=guava",
    "row2 b:q2@5=honeydew",
    "row3 a:x1@7=kiwi",
    "row3 b:q1@6=lemon",
    "row3 b:q1@4=apple",
    "row3 b:y1@2=lime",
]


class Recorder(FilterBase):
    """Delegates to ``inner`` and records the row keys and cells it was offered."""

    def __init__(self, inner: Filter | None = None) -> None:
        self.inner = inner if inner is not None else FilterBase()
        self.rows: list[bytes] = []
        self.cells: list[Cell] = []

    def offered(self) -> list[str]:
        return show([(c.row, [c]) for c in self.cells])

    def reset(self) -> None:
        self.inner.reset()

    def filter_all_remaining(self) -> bool:
        return self.inner.filter_all_remaining()

    def filter_row_key(self, row: bytes) -> bool:
        self.rows.append(row)
        return self.inner.filter_row_key(row)

    def filter_cell(self, cell: Cell) -> ReturnCode:
        self.cells.append(cell)
        return self.inner.filter_cell(cell)

    def transform_cell(self, cell: Cell) -> Cell:
        return self.inner.transform_cell(cell)

    def has_filter_row(self) -> bool:
        return self.inner.has_filter_row()

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        return self.inner.filter_row_cells(cells)

    def filter_row(self) -> bool:
        return self.inner.filter_row()

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return self.inner.get_next_cell_hint(cell)


class Scripted(FilterBase):
    """A filter whose verdicts come from plain functions (for protocol tests)."""

    def __init__(
        self,
        verdict: Callable[[Cell], ReturnCode],
        hint: Callable[[Cell], Cell | None] | None = None,
    ) -> None:
        self.verdict = verdict
        self.hint = hint

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return self.verdict(cell)

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return self.hint(cell) if self.hint else None
