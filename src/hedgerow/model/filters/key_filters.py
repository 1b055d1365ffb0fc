"""Row-level filters: KeyOnly, FirstKeyOnly, Prefix, InclusiveStop, Page, RandomRow.

Role: filters that decide per row key or per row, following HBase's classes of the
same names (hbase-client .../filter/*.java).
Invariants: PageFilter and InclusiveStopFilter keep per-scan state (rows accepted,
stop reached); the others reset per row.
Concurrency: not thread-safe.
Hot path: ``filter_row_key`` / ``filter_cell``; see bench/bench_filters.py.
"""

from __future__ import annotations

import random
import struct

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import FilterBase, ReturnCode

__all__ = [
    "FirstKeyOnlyFilter",
    "InclusiveStopFilter",
    "KeyOnlyFilter",
    "PageFilter",
    "PrefixFilter",
    "RandomRowFilter",
]

_INT = struct.Struct(">i")


class KeyOnlyFilter(FilterBase):
    """Returns every cell with its value emptied (or, with ``len_as_val``, its length).

    HBase KeyOnlyFilter: ``len_as_val`` replaces the value by the original value's
    length as a 4-byte big-endian int (``Bytes.toBytes(int)``).
    """

    def __init__(self, len_as_val: bool = False) -> None:
        self.len_as_val = len_as_val  # constant after __init__

    def transform_cell(self, cell: Cell) -> Cell:
        value = _INT.pack(len(cell.value)) if self.len_as_val else b""
        return cell._replace(value=value)

    def describe(self) -> str:
        return f"KeyOnlyFilter({self.len_as_val})"


class FirstKeyOnlyFilter(FilterBase):
    """Returns only the first cell of each row (HBase FirstKeyOnlyFilter)."""

    def __init__(self) -> None:
        self._found = False  # per row

    def reset(self) -> None:
        self._found = False

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if self._found:
            return ReturnCode.NEXT_ROW
        self._found = True
        return ReturnCode.INCLUDE


class PrefixFilter(FilterBase):
    """Keeps rows whose key starts with ``prefix``; ends the scan once past the prefix.

    HBase PrefixFilter: ``filter_all_remaining`` turns true at the first row that
    sorts after every key with the prefix.
    """

    def __init__(self, prefix: bytes) -> None:
        self.prefix = bytes(prefix)  # constant after __init__
        self._filter_row = True  # per row
        self._passed_prefix = False  # per scan

    def reset(self) -> None:
        self._filter_row = True

    def filter_row_key(self, row: bytes) -> bool:
        if self._passed_prefix:
            return True
        head = row[: len(self.prefix)]
        if (head < self.prefix) if self.reversed else (head > self.prefix):
            self._passed_prefix = True
        self._filter_row = head != self.prefix
        return self._filter_row

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return ReturnCode.NEXT_ROW if self._filter_row else ReturnCode.INCLUDE

    def filter_row(self) -> bool:
        return self._filter_row

    def filter_all_remaining(self) -> bool:
        return self._passed_prefix

    def describe(self) -> str:
        return f"PrefixFilter({self.prefix!r})"


class InclusiveStopFilter(FilterBase):
    """Keeps rows up to and including ``stop_row``, then ends the scan."""

    def __init__(self, stop_row: bytes) -> None:
        self.stop_row = bytes(stop_row)  # constant after __init__
        self._done = False  # per scan

    def filter_row_key(self, row: bytes) -> bool:
        if self._done:
            return True
        # HBase InclusiveStopFilter: a reversed scan is done below the stop row
        self._done = row < self.stop_row if self.reversed else row > self.stop_row
        return self._done

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return ReturnCode.NEXT_ROW if self._done else ReturnCode.INCLUDE

    def filter_all_remaining(self) -> bool:
        return self._done

    def describe(self) -> str:
        return f"InclusiveStopFilter({self.stop_row!r})"


class PageFilter(FilterBase):
    """Returns at most ``page_size`` rows, then ends the scan.

    HBase PageFilter counts a row in ``filter_row``, which runs only for rows that
    still have cells, and (inside an AND list) only if no earlier sub-filter's
    ``filter_row`` already rejected the row.  The limit is per region scanner in
    HBase: a client scanning several regions must still enforce it overall.
    """

    def __init__(self, page_size: int) -> None:
        if page_size < 0:
            raise InvalidArgument(f"PageFilter page size must be >= 0, got {page_size}")
        self.page_size = page_size  # constant after __init__
        self._rows_accepted = 0  # per scan

    def filter_row_key(self, row: bytes) -> bool:
        return self.filter_all_remaining()

    def filter_all_remaining(self) -> bool:
        return self._rows_accepted >= self.page_size

    def has_filter_row(self) -> bool:
        return True

    def filter_row(self) -> bool:
        self._rows_accepted += 1
        return self._rows_accepted > self.page_size

    def describe(self) -> str:
        return f"PageFilter({self.page_size})"


class RandomRowFilter(FilterBase):
    """Keeps each row with probability ``chance``, drawn from the injected ``rng``.

    HBase RandomRowFilter: chance < 0 drops every row, chance > 1 keeps every row,
    otherwise a row is kept when ``rng.random() < chance``.  One draw per row.
    """

    def __init__(self, chance: float, rng: random.Random) -> None:
        self.chance = chance  # constant after __init__
        self._rng = rng  # constant after __init__
        self._filter_out_row = False  # per row

    def reset(self) -> None:
        self._filter_out_row = False

    def filter_row_key(self, row: bytes) -> bool:
        if self.chance < 0:
            self._filter_out_row = True
        elif self.chance > 1:
            self._filter_out_row = False
        else:
            self._filter_out_row = not (self._rng.random() < self.chance)
        return self._filter_out_row

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return ReturnCode.NEXT_ROW if self._filter_out_row else ReturnCode.INCLUDE

    def has_filter_row(self) -> bool:
        return True

    def filter_row(self) -> bool:
        return self._filter_out_row

    def describe(self) -> str:
        return f"RandomRowFilter({self.chance})"
