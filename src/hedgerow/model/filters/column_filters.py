"""Column-level filters: ColumnPrefix, MultipleColumnPrefix, ColumnCountGet, ColumnPagination,
ColumnRange and Timestamps.

Role: filters that select columns (qualifiers) or versions within a row, following
HBase's classes of the same names (hbase-client .../filter/*.java).  Several give
seek hints (``first_on_row_col``) to jump to the next interesting qualifier of the
current family.
Invariants: qualifier comparisons are unsigned lexicographic byte comparisons.
Concurrency: not thread-safe (per-row counters, last hint).
Hot path: ``filter_cell``; see bench/bench_filters.py.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import FilterBase, ReturnCode, first_on_row_col

__all__ = [
    "ColumnCountGetFilter",
    "ColumnPaginationFilter",
    "ColumnPrefixFilter",
    "ColumnRangeFilter",
    "MultipleColumnPrefixFilter",
    "TimestampsFilter",
]


class ColumnPrefixFilter(FilterBase):
    """Keeps cells whose qualifier starts with ``prefix``.

    HBase ColumnPrefixFilter: a qualifier below the prefix gets SEEK_NEXT_USING_HINT
    (to the prefix), one above it gets NEXT_ROW (no later qualifier of this family
    can match).
    """

    def __init__(self, prefix: bytes) -> None:
        self.prefix = bytes(prefix)  # constant after __init__

    def filter_cell(self, cell: Cell) -> ReturnCode:
        prefix = self.prefix
        qualifier = cell.qualifier
        if len(qualifier) < len(prefix):
            return (
                ReturnCode.SEEK_NEXT_USING_HINT
                if qualifier <= prefix[: len(qualifier)]
                else ReturnCode.NEXT_ROW
            )
        head = qualifier[: len(prefix)]
        if head < prefix:
            return ReturnCode.SEEK_NEXT_USING_HINT
        if head > prefix:
            return ReturnCode.NEXT_ROW
        return ReturnCode.INCLUDE

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return first_on_row_col(cell.row, cell.family, self.prefix)

    def describe(self) -> str:
        return f"ColumnPrefixFilter({self.prefix!r})"


class MultipleColumnPrefixFilter(FilterBase):
    """Keeps cells whose qualifier starts with any of ``prefixes``; no prefixes keeps all.

    Hints seek to the next prefix above the qualifier.  Deviation: HBase only tests
    the largest prefix at or below the qualifier, which misses ``b"ac"`` for prefixes
    ``{b"a", b"ab"}``; Hedgerow tests every prefix.  Duplicate prefixes are rejected
    as in HBase ("prefixes must be distinct").
    """

    def __init__(self, prefixes: Iterable[bytes]) -> None:
        items = [bytes(p) for p in prefixes]
        if len(set(items)) != len(items):
            raise InvalidArgument("MultipleColumnPrefixFilter prefixes must be distinct")
        self.prefixes = sorted(items)  # constant after __init__
        self._hint = b""  # last hint computed by filter_cell

    def filter_cell(self, cell: Cell) -> ReturnCode:
        prefixes = self.prefixes
        if not prefixes:
            return ReturnCode.INCLUDE
        qualifier = cell.qualifier
        # Every prefix of `qualifier` sorts at or below it.
        upto = bisect.bisect_right(prefixes, qualifier)
        for i in range(upto - 1, -1, -1):
            if qualifier.startswith(prefixes[i]):
                return ReturnCode.INCLUDE
        if upto == len(prefixes):
            return ReturnCode.NEXT_ROW
        self._hint = prefixes[upto]
        return ReturnCode.SEEK_NEXT_USING_HINT

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return first_on_row_col(cell.row, cell.family, self._hint)

    def describe(self) -> str:
        return f"MultipleColumnPrefixFilter({self.prefixes!r})"


class ColumnCountGetFilter(FilterBase):
    """Returns the first ``limit`` columns (newest version each), meant for gets.

    HBase ColumnCountGetFilter: once a row offers more than ``limit`` columns,
    ``filter_all_remaining`` turns true and the *scan ends* after that row (HBase's
    javadoc: "unsuitable as a Scan filter").
    """

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise InvalidArgument(f"ColumnCountGetFilter limit must be >= 0, got {limit}")
        self.limit = limit  # constant after __init__
        self._count = 0  # per row

    def reset(self) -> None:
        self._count = 0

    def filter_row_key(self, row: bytes) -> bool:
        return self.filter_all_remaining()

    def filter_all_remaining(self) -> bool:
        return self._count > self.limit

    def filter_cell(self, cell: Cell) -> ReturnCode:
        self._count += 1
        return ReturnCode.NEXT_COL if self._count > self.limit else ReturnCode.INCLUDE_AND_NEXT_COL

    def describe(self) -> str:
        return f"ColumnCountGetFilter({self.limit})"


class ColumnPaginationFilter(FilterBase):
    """Returns ``limit`` columns of each row (newest version each), after an offset.

    Two forms (HBase ColumnPaginationFilter): an integer ``offset`` skips that many
    columns first; ``column_offset`` instead starts at the first qualifier >= it
    (seeking there with a hint).  Columns are counted across families in row order.
    """

    def __init__(self, limit: int, offset: int = 0, *, column_offset: bytes | None = None) -> None:
        if limit < 0:
            raise InvalidArgument(f"ColumnPaginationFilter limit must be >= 0, got {limit}")
        if offset < 0:
            raise InvalidArgument(f"ColumnPaginationFilter offset must be >= 0, got {offset}")
        self.limit = limit  # constant after __init__
        self.offset = offset  # constant after __init__
        self.column_offset = None if column_offset is None else bytes(column_offset)
        self._count = 0  # per row

    def reset(self) -> None:
        self._count = 0

    def filter_cell(self, cell: Cell) -> ReturnCode:
        column_offset = self.column_offset
        if column_offset is not None:
            if self._count >= self.limit:
                return ReturnCode.NEXT_ROW
            # Only the first column of the row is compared with the offset (HBase).
            if self._count == 0 and cell.qualifier < column_offset:
                return ReturnCode.SEEK_NEXT_USING_HINT
            self._count += 1
            return ReturnCode.INCLUDE_AND_NEXT_COL
        if self._count >= self.offset + self.limit:
            return ReturnCode.NEXT_ROW
        code = ReturnCode.NEXT_COL if self._count < self.offset else ReturnCode.INCLUDE_AND_NEXT_COL
        self._count += 1
        return code

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        if self.column_offset is None:
            return None
        return first_on_row_col(cell.row, cell.family, self.column_offset)

    def describe(self) -> str:
        if self.column_offset is not None:
            return f"ColumnPaginationFilter({self.limit}, column_offset={self.column_offset!r})"
        return f"ColumnPaginationFilter({self.limit}, {self.offset})"


class ColumnRangeFilter(FilterBase):
    """Keeps qualifiers between ``min_column`` and ``max_column`` (None = unbounded).

    HBase ColumnRangeFilter: below the range seeks to ``min_column``; above it
    gives NEXT_ROW (for this family).
    """

    def __init__(
        self,
        min_column: bytes | None,
        min_inclusive: bool,
        max_column: bytes | None,
        max_inclusive: bool,
    ) -> None:
        self.min_column = None if min_column is None else bytes(min_column)
        self.min_inclusive = min_inclusive  # constant after __init__
        self.max_column = None if max_column is None else bytes(max_column)
        self.max_inclusive = max_inclusive  # constant after __init__

    def filter_cell(self, cell: Cell) -> ReturnCode:
        qualifier = cell.qualifier
        low = self.min_column
        if low is not None:
            if qualifier < low:
                return ReturnCode.SEEK_NEXT_USING_HINT
            if qualifier == low and not self.min_inclusive:
                return ReturnCode.NEXT_COL
        high = self.max_column
        if high is None:
            return ReturnCode.INCLUDE
        if qualifier < high or (qualifier == high and self.max_inclusive):
            return ReturnCode.INCLUDE
        return ReturnCode.NEXT_ROW

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return first_on_row_col(cell.row, cell.family, self.min_column or b"")

    def describe(self) -> str:
        return (
            f"ColumnRangeFilter({self.min_column!r}, {self.min_inclusive}, "
            f"{self.max_column!r}, {self.max_inclusive})"
        )


class TimestampsFilter(FilterBase):
    """Keeps only versions whose timestamp is in ``timestamps``.

    HBase TimestampsFilter: a version older than the smallest wanted timestamp
    gives NEXT_COL (no older version can match).  Timestamps must be >= 0.
    """

    def __init__(self, timestamps: Iterable[int]) -> None:
        stamps = sorted(set(timestamps))
        for ts in stamps:
            if ts < 0:
                raise InvalidArgument(f"TimestampsFilter timestamps must be >= 0, got {ts}")
        self.timestamps = stamps  # constant after __init__
        self._set = frozenset(stamps)  # constant after __init__
        self._min = stamps[0] if stamps else None  # constant after __init__

    def filter_cell(self, cell: Cell) -> ReturnCode:
        ts = cell.timestamp
        if ts in self._set:
            return ReturnCode.INCLUDE
        if self._min is None or ts < self._min:
            return ReturnCode.NEXT_COL
        return ReturnCode.SKIP

    def describe(self) -> str:
        return f"TimestampsFilter({self.timestamps!r})"
