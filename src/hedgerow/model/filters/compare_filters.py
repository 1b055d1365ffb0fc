"""Compare filters: RowFilter, FamilyFilter, QualifierFilter, ValueFilter, DependentColumnFilter.

Role: each tests one part of a cell (row key, family, qualifier, value) with a
``CompareOperator`` and a comparator; semantics follow HBase's ``CompareFilter``
subclasses (hbase-client .../filter/RowFilter.java etc.).
Invariants: ``CompareOperator.NO_OP`` never passes (HBase compareRow/compareValue).
Concurrency: not thread-safe (RowFilter and DependentColumnFilter keep per-row state).
Hot path: ``filter_cell``; see bench/bench_filters.py.
"""

from __future__ import annotations

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import FilterBase, ReturnCode
from hedgerow.model.filters.comparators import ByteArrayComparable, CompareOperator, passes

__all__ = [
    "CompareFilter",
    "DependentColumnFilter",
    "FamilyFilter",
    "QualifierFilter",
    "RowFilter",
    "ValueFilter",
]


class CompareFilter(FilterBase):
    """Base of the compare filters: holds ``op`` and ``comparator``."""

    def __init__(self, op: CompareOperator, comparator: ByteArrayComparable) -> None:
        if not isinstance(op, CompareOperator):
            raise InvalidArgument(f"not a CompareOperator: {op!r}")
        self.op = op  # constant after __init__
        self.comparator = comparator  # constant after __init__

    def _passes(self, data: bytes) -> bool:
        if self.op is CompareOperator.NO_OP:
            return False
        return passes(self.op, self.comparator.compare_to(data))

    def describe(self) -> str:
        return f"{type(self).__name__}({self.op.name}, {self.comparator!r})"


class RowFilter(CompareFilter):
    """Keeps rows whose key satisfies ``row OP comparator-value``.

    HBase RowFilter: decided in ``filter_row_key``; cells of a rejected row get
    NEXT_ROW and ``filter_row`` repeats the verdict.

    >>> from hedgerow.model.filters.comparators import BinaryComparator
    >>> RowFilter(CompareOperator.LESS, BinaryComparator(b"m")).filter_row_key(b"a")
    False
    """

    def __init__(self, op: CompareOperator, comparator: ByteArrayComparable) -> None:
        super().__init__(op, comparator)
        self._filter_out_row = False  # per row

    def reset(self) -> None:
        self._filter_out_row = False

    def filter_row_key(self, row: bytes) -> bool:
        if not self._passes(row):
            self._filter_out_row = True
        return self._filter_out_row

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return ReturnCode.NEXT_ROW if self._filter_out_row else ReturnCode.INCLUDE

    def filter_row(self) -> bool:
        return self._filter_out_row


class FamilyFilter(CompareFilter):
    """Keeps cells whose family satisfies the comparison; others get NEXT_ROW.

    NEXT_ROW skips only the rest of that family in the row (HBase FamilyFilter).
    """

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if cell.family and not self._passes(cell.family):
            return ReturnCode.NEXT_ROW
        return ReturnCode.INCLUDE


class QualifierFilter(CompareFilter):
    """Keeps cells whose qualifier satisfies the comparison; others are SKIPped."""

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if not self._passes(cell.qualifier):
            return ReturnCode.SKIP
        return ReturnCode.INCLUDE


class ValueFilter(CompareFilter):
    """Keeps cells whose value satisfies the comparison (every version is tested)."""

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if not self._passes(cell.value):
            return ReturnCode.SKIP
        return ReturnCode.INCLUDE


class DependentColumnFilter(FilterBase):
    """Keeps only cells whose timestamp equals that of a (passing) dependent-column cell.

    HBase DependentColumnFilter: every cell of ``family:qualifier`` that passes the
    optional value comparison records its timestamp; ``filter_row_cells`` then drops
    every collected cell (of any column) whose timestamp was not recorded.  With
    ``drop_dependent_column`` the dependent column's own cells are left out.
    Without a comparator (``op`` NO_OP, ``comparator`` None) every version counts.
    """

    def __init__(
        self,
        family: bytes,
        qualifier: bytes,
        drop_dependent_column: bool = False,
        op: CompareOperator = CompareOperator.NO_OP,
        comparator: ByteArrayComparable | None = None,
    ) -> None:
        if not isinstance(op, CompareOperator):
            raise InvalidArgument(f"not a CompareOperator: {op!r}")
        self.op = op  # constant after __init__
        self.comparator_or_none = comparator  # constant after __init__
        self.family = bytes(family)  # constant after __init__
        self.qualifier = bytes(qualifier)  # constant after __init__
        self.drop_dependent_column = drop_dependent_column  # constant after __init__
        self._stamps: set[int] = set()  # per row

    def reset(self) -> None:
        self._stamps.clear()

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if cell.family != self.family or cell.qualifier != self.qualifier:
            return ReturnCode.INCLUDE  # decided in filter_row_cells
        comparator = self.comparator_or_none
        if comparator is not None and (
            self.op is CompareOperator.NO_OP
            or not passes(self.op, comparator.compare_to(cell.value))
        ):
            return ReturnCode.SKIP
        self._stamps.add(cell.timestamp)
        return ReturnCode.SKIP if self.drop_dependent_column else ReturnCode.INCLUDE

    def has_filter_row(self) -> bool:
        return True

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        stamps = self._stamps
        return [c for c in cells if c.timestamp in stamps]

    def describe(self) -> str:
        return (
            f"DependentColumnFilter({self.family!r}, {self.qualifier!r}, "
            f"{self.drop_dependent_column}, {self.op.name}, {self.comparator_or_none!r})"
        )
