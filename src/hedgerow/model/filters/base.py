"""The filter protocol: ``ReturnCode``, the ``Filter`` interface and ``FilterBase`` defaults.

Role: every server-side filter (HBase ``org.apache.hadoop.hbase.filter``) derives
from ``FilterBase``; the read path (engine region scanner, ``filters.evaluate``)
drives filters only through the methods of ``Filter``.
Invariants: a filter is a small state machine; its per-row state is cleared by
``reset()``, its per-scan state (PageFilter's row count, WhileMatchFilter's stop
flag) lives until the scan ends.  Use a fresh filter (or ``clone()`` an unused
one) for every scan or get.
Concurrency: not thread-safe; one filter instance belongs to one scan.
Hot path: ``filter_cell`` (once per candidate cell); see bench/bench_filters.py.

The per-row call order (HBase ``RegionScannerImpl.nextInternal`` plus
``UserScanQueryMatcher.matchColumn``) is, as a regular expression::

    ( filter_all_remaining reset filter_row_key
      ( filter_all_remaining filter_cell get_next_cell_hint? transform_cell? )*
      filter_row_cells? filter_row? filter_all_remaining )*

``filters.evaluate.apply_filter_to_rows`` is the executable statement of that
protocol; its module docstring lists the rules (per-family NEXT_ROW, seek hints,
version counting after ``filter_cell``).
"""

from __future__ import annotations

import abc
import copy
from enum import IntEnum

from hedgerow.model.cell import MAX_TIMESTAMP, Cell

__all__ = [
    "HINT_TYPE",
    "CellKey",
    "Filter",
    "FilterBase",
    "ReturnCode",
    "cell_key",
    "first_on_row",
    "first_on_row_col",
]

#: Type code of synthetic "first on row/column" hint cells: HBase ``KeyValue.Type.Maximum``
#: (255), which sorts before every real cell with the same row, column and timestamp.
HINT_TYPE = 255

#: Sort key of a cell in HBase order (``CellComparatorImpl``): row asc, family asc,
#: qualifier asc, timestamp desc, type desc.  The sequence id is left out: seeks and
#: hints never need it.
CellKey = tuple[bytes, bytes, bytes, int, int]


def cell_key(cell: Cell) -> CellKey:
    """Return ``cell``'s position in HBase cell order as a tuple that compares correctly.

    >>> from hedgerow.model.cell import KeyType
    >>> cell_key(Cell(b"r", b"f", b"q", 5, KeyType.PUT, b"v")) < cell_key(
    ...     Cell(b"r", b"f", b"q", 4, KeyType.PUT, b"v"))
    True
    """
    return (cell.row, cell.family, cell.qualifier, -cell.timestamp, -cell.type)


def first_on_row(row: bytes) -> Cell:
    """A hint cell that sorts before every cell of ``row`` (HBase ``createFirstOnRow``)."""
    return Cell(row, b"", b"", MAX_TIMESTAMP, HINT_TYPE, b"")


def first_on_row_col(row: bytes, family: bytes, qualifier: bytes) -> Cell:
    """A hint cell before every version of ``family:qualifier`` in ``row`` (``createFirstOnRowCol``)."""
    return Cell(row, family, qualifier, MAX_TIMESTAMP, HINT_TYPE, b"")


class ReturnCode(IntEnum):
    """What ``Filter.filter_cell`` tells the scanner to do with a cell (HBase ``Filter.ReturnCode``).

    NEXT_ROW, INCLUDE_AND_SEEK_NEXT_ROW and SEEK_NEXT_USING_HINT move only the
    scanner of the cell's *family* (HBase runs one StoreScanner per family); cells
    of the row's other families are still offered to the filter.
    """

    INCLUDE = 0
    """Include the cell."""
    INCLUDE_AND_NEXT_COL = 1
    """Include the cell, skip the remaining versions of its column."""
    INCLUDE_AND_SEEK_NEXT_ROW = 2
    """Include the cell, skip the rest of this row in this family."""
    SKIP = 3
    """Leave the cell out; go on with the next cell."""
    NEXT_COL = 4
    """Leave the cell out and the remaining versions of its column."""
    NEXT_ROW = 5
    """Leave the cell out and the rest of this row in this family."""
    SEEK_NEXT_USING_HINT = 6
    """Leave the cell out; seek this family forward to ``get_next_cell_hint(cell)``."""


#: Return codes that include the cell.
INCLUDE_CODES = frozenset(
    {ReturnCode.INCLUDE, ReturnCode.INCLUDE_AND_NEXT_COL, ReturnCode.INCLUDE_AND_SEEK_NEXT_ROW}
)


class Filter(abc.ABC):
    """Interface of a server-side filter (HBase ``org.apache.hadoop.hbase.filter.Filter``).

    Row level: ``filter_all_remaining``, ``reset``, ``filter_row_key``,
    ``has_filter_row``, ``filter_row_cells``, ``filter_row``.
    Cell level: ``filter_cell``, ``transform_cell``, ``get_next_cell_hint``.
    Planning: ``is_family_essential``.
    Introspection: ``describe`` (also ``repr``), ``clone``.
    """

    @abc.abstractmethod
    def reset(self) -> None:
        """Clear per-row state; called before each row is offered."""

    @abc.abstractmethod
    def filter_all_remaining(self) -> bool:
        """True ends the scan now (checked before each row, before each cell, after each row)."""

    @abc.abstractmethod
    def filter_row_key(self, row: bytes) -> bool:
        """True skips the whole row (its cells are never offered to ``filter_cell``)."""

    @abc.abstractmethod
    def filter_cell(self, cell: Cell) -> ReturnCode:
        """Decide about one candidate cell (after delete/TTL/time-range/column checks,
        before version counting)."""

    @abc.abstractmethod
    def transform_cell(self, cell: Cell) -> Cell:
        """Rewrite an included cell (KeyOnlyFilter drops the value)."""

    @abc.abstractmethod
    def has_filter_row(self) -> bool:
        """True if ``filter_row_cells`` must see the row's complete cell list."""

    @abc.abstractmethod
    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        """Edit the row's collected cells (only called when ``has_filter_row()``)."""

    @abc.abstractmethod
    def filter_row(self) -> bool:
        """True drops the whole row; called once per row that still has cells."""

    @abc.abstractmethod
    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        """After SEEK_NEXT_USING_HINT: the first key worth reading next (None = no hint)."""

    @abc.abstractmethod
    def is_family_essential(self, family: bytes) -> bool:
        """False if the filter can decide about rows without reading ``family``."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A one-line, constructor-like description of the filter tree."""

    def clone(self) -> Filter:
        """A deep copy, state included; clone a filter *before* its first use."""
        return copy.deepcopy(self)

    #: True while the filter runs in a reversed scan (rows in descending order)
    reversed: bool = False

    def set_reversed(self, reversed: bool) -> None:
        """Tell the filter rows come in descending order (HBase ``Filter.setReversed``).

        The engine calls it for reversed scans; filters that end a scan "once past"
        a row (PrefixFilter, InclusiveStopFilter) or seek forward (FuzzyRowFilter,
        MultiRowRangeFilter) look the other way. Wrappers pass it on.
        """
        self.reversed = reversed

    def __repr__(self) -> str:
        return self.describe()


class FilterBase(Filter):
    """Defaults for every method: include everything, never stop, no row-level logic."""

    def reset(self) -> None:
        return None

    def filter_all_remaining(self) -> bool:
        return False

    def filter_row_key(self, row: bytes) -> bool:
        return False

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return ReturnCode.INCLUDE

    def transform_cell(self, cell: Cell) -> Cell:
        return cell

    def has_filter_row(self) -> bool:
        return False

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        return cells

    def filter_row(self) -> bool:
        return False

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return None

    def is_family_essential(self, family: bytes) -> bool:
        return True

    def describe(self) -> str:
        return f"{type(self).__name__}()"
