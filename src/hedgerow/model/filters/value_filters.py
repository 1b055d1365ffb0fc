"""Column-value filters: SingleColumnValueFilter, SingleColumnValueExcludeFilter, ColumnValueFilter.

Role: select whole rows (SCVF, SCVEF) or single cells (ColumnValueFilter) by the
value of one column, following HBase's classes of the same names.
Invariants: SCVF decides in ``filter_row``: a row whose tested column is present
but does not match is dropped; a row without the column passes unless
``filter_if_missing``.
Concurrency: not thread-safe (per-row state).
Hot path: ``filter_cell``; see bench/bench_filters.py.
"""

from __future__ import annotations

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import FilterBase, ReturnCode
from hedgerow.model.filters.comparators import ByteArrayComparable, CompareOperator, passes

__all__ = [
    "ColumnValueFilter",
    "SingleColumnValueExcludeFilter",
    "SingleColumnValueFilter",
]


class SingleColumnValueFilter(FilterBase):
    """Keeps whole rows whose ``family:qualifier`` value satisfies ``value OP comparator``.

    HBase SingleColumnValueFilter: with ``latest_version_only`` (default) only the
    newest version offered is tested and a mismatch ends the row (NEXT_ROW); without
    it any matching version keeps the row.  A row lacking the column is kept unless
    ``filter_if_missing``.  Every cell of a kept row is returned (the filter only
    decides rows).

    >>> from hedgerow.model.filters.comparators import BinaryComparator
    >>> f = SingleColumnValueFilter(b"cf", b"q", CompareOperator.EQUAL, BinaryComparator(b"x"))
    >>> f.filter_cell(Cell(b"r", b"cf", b"q", 1, 4, b"y")), f.filter_row()
    (<ReturnCode.NEXT_ROW: 5>, True)
    """

    def __init__(
        self,
        family: bytes,
        qualifier: bytes,
        op: CompareOperator,
        comparator: ByteArrayComparable,
        filter_if_missing: bool = False,
        latest_version_only: bool = True,
    ) -> None:
        if not isinstance(op, CompareOperator):
            raise InvalidArgument(f"not a CompareOperator: {op!r}")
        self.family = bytes(family)  # constant after __init__
        self.qualifier = bytes(qualifier)  # constant after __init__
        self.op = op  # constant after __init__
        self.comparator = comparator  # constant after __init__
        self.filter_if_missing = filter_if_missing  # constant after __init__
        self.latest_version_only = latest_version_only  # constant after __init__
        self._found_column = False  # per row
        self._matched_column = False  # per row

    def reset(self) -> None:
        self._found_column = False
        self._matched_column = False

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if self._matched_column:
            return ReturnCode.INCLUDE
        if self.latest_version_only and self._found_column:
            return ReturnCode.NEXT_ROW
        if cell.family != self.family or cell.qualifier != self.qualifier:
            return ReturnCode.INCLUDE
        self._found_column = True
        if self.op is CompareOperator.NO_OP or not passes(
            self.op, self.comparator.compare_to(cell.value)
        ):
            return ReturnCode.NEXT_ROW if self.latest_version_only else ReturnCode.INCLUDE
        self._matched_column = True
        return ReturnCode.INCLUDE

    def has_filter_row(self) -> bool:
        return True

    def filter_row(self) -> bool:
        if self._found_column:
            return not self._matched_column
        return self.filter_if_missing

    def is_family_essential(self, family: bytes) -> bool:
        return not self.filter_if_missing or family == self.family

    def describe(self) -> str:
        return (
            f"{type(self).__name__}({self.family!r}, {self.qualifier!r}, {self.op.name}, "
            f"{self.comparator!r}, filter_if_missing={self.filter_if_missing}, "
            f"latest_version_only={self.latest_version_only})"
        )


class SingleColumnValueExcludeFilter(SingleColumnValueFilter):
    """SingleColumnValueFilter that also leaves the tested column out of kept rows."""

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        family, qualifier = self.family, self.qualifier
        return [c for c in cells if c.family != family or c.qualifier != qualifier]


class ColumnValueFilter(FilterBase):
    """Returns only the cells of ``family:qualifier`` whose value satisfies the comparison.

    HBase ColumnValueFilter (2.1+): unlike SCVF it returns just the matching cells,
    not the row; other columns get NEXT_COL before the tested column and NEXT_ROW
    after it.
    """

    def __init__(
        self,
        family: bytes,
        qualifier: bytes,
        op: CompareOperator,
        comparator: ByteArrayComparable,
    ) -> None:
        if not isinstance(op, CompareOperator):
            raise InvalidArgument(f"not a CompareOperator: {op!r}")
        self.family = bytes(family)  # constant after __init__
        self.qualifier = bytes(qualifier)  # constant after __init__
        self.op = op  # constant after __init__
        self.comparator = comparator  # constant after __init__
        self._column_found = False  # per row

    def reset(self) -> None:
        self._column_found = False

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if cell.family != self.family or cell.qualifier != self.qualifier:
            return ReturnCode.NEXT_ROW if self._column_found else ReturnCode.NEXT_COL
        self._column_found = True
        if self.op is CompareOperator.NO_OP or not passes(
            self.op, self.comparator.compare_to(cell.value)
        ):
            return ReturnCode.SKIP
        return ReturnCode.INCLUDE

    def is_family_essential(self, family: bytes) -> bool:
        return family == self.family

    def describe(self) -> str:
        return (
            f"ColumnValueFilter({self.family!r}, {self.qualifier!r}, {self.op.name}, "
            f"{self.comparator!r})"
        )
