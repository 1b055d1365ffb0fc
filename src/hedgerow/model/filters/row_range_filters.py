"""Row-selection filters that seek: FuzzyRowFilter and MultiRowRangeFilter.

Role: both select rows by key and answer SEEK_NEXT_USING_HINT with a
``first_on_row`` hint so the scanner jumps over rows that cannot match (HBase
FuzzyRowFilter, MultiRowRangeFilter).
Invariants: a hint is always a row strictly greater than the current row and no
row between the two can match; when no later row can match the filter reports
``filter_all_remaining``.
Concurrency: not thread-safe (per-scan position).
Hot path: ``filter_cell`` (memoised per row); see bench/bench_filters.py.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import NamedTuple

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import FilterBase, ReturnCode, first_on_row

__all__ = [
    "FuzzyRowFilter",
    "MultiRowRangeFilter",
    "RowRange",
]


class _Pattern:
    """One fuzzy (key, mask) pair, pre-digested for matching and hinting."""

    __slots__ = ("fixed", "key", "mask_int", "n", "want_int")

    def __init__(self, key: bytes, mask: bytes) -> None:
        self.key = key
        self.n = len(key)
        self.fixed = [m == 0 for m in mask]
        mask_bytes = bytes(0xFF if f else 0 for f in self.fixed)
        self.mask_int = int.from_bytes(mask_bytes, "big")
        self.want_int = int.from_bytes(key, "big") & self.mask_int

    def matches(self, row: bytes) -> bool:
        if len(row) < self.n:
            return False
        return int.from_bytes(row[: self.n], "big") & self.mask_int == self.want_int

    def _completion(self, start: int) -> bytes:
        key, fixed = self.key, self.fixed
        return bytes(key[i] if fixed[i] else 0 for i in range(start, self.n))

    def next_row(self, row: bytes) -> bytes | None:
        """Smallest row > ``row`` whose first ``n`` bytes match, or None if none exists."""
        n, key, fixed = self.n, self.key, self.fixed
        p = row[:n]
        m = len(p)
        agree = 0  # length of the prefix of p that agrees with the fixed bytes
        while agree < m and (not fixed[agree] or p[agree] == key[agree]):
            agree += 1
        if agree == m:
            if m < n:
                return p + self._completion(m)  # row is a proper prefix of a match
            return row + b"\x00"  # row itself matches: the next possible row
        # Keep the longest agreeing prefix, raise one byte, complete minimally.
        for k in range(agree, -1, -1):
            if fixed[k]:
                if key[k] > p[k]:
                    return p[:k] + bytes((key[k],)) + self._completion(k + 1)
            elif p[k] < 0xFF:
                return p[:k] + bytes((p[k] + 1,)) + self._completion(k + 1)
        return None


class FuzzyRowFilter(FilterBase):
    """Keeps rows whose key matches any (key, mask) pattern; seeks over the rest.

    Mask convention (HBase 2 ``FuzzyRowFilter`` javadoc): mask byte 0 = the row byte
    at that position must equal the key byte ("fixed"), 1 = any byte.  Patterns
    match a row's first ``len(key)`` bytes; longer rows match on that prefix.
    Deviation: HBase also accepts rows *shorter* than the pattern when their bytes
    agree with it; Hedgerow requires the whole pattern to be present.

    >>> f = FuzzyRowFilter([(b"\\x00\\x00_a", b"\\x01\\x01\\x00\\x00")])
    >>> f.filter_cell(Cell(b"12_a", b"f", b"q", 1, 4, b"")).name
    'INCLUDE'
    >>> f.filter_cell(Cell(b"12_b", b"f", b"q", 1, 4, b"")).name
    'SEEK_NEXT_USING_HINT'
    >>> f.get_next_cell_hint(Cell(b"12_b", b"f", b"q", 1, 4, b"")).row
    b'13_a'
    """

    def __init__(self, fuzzy_keys: Iterable[tuple[bytes, bytes]]) -> None:
        pairs = [(bytes(k), bytes(m)) for k, m in fuzzy_keys]
        for key, mask in pairs:
            if len(key) != len(mask):
                raise InvalidArgument(
                    f"FuzzyRowFilter key and mask lengths differ: {len(key)} != {len(mask)}"
                )
            if any(b not in (0, 1) for b in mask):
                raise InvalidArgument("FuzzyRowFilter mask bytes must be 0 (fixed) or 1 (any)")
        self.fuzzy_keys = pairs  # constant after __init__
        self._patterns = [_Pattern(k, m) for k, m in pairs]  # constant after __init__
        self._last_row: bytes | None = None  # memo: last row tested
        self._last_verdict = ReturnCode.INCLUDE
        self._done = False  # per scan

    def filter_cell(self, cell: Cell) -> ReturnCode:
        row = cell.row
        if row != self._last_row:
            ok = any(p.matches(row) for p in self._patterns)
            self._last_row = row
            if ok:
                self._last_verdict = ReturnCode.INCLUDE
            else:
                # reversed scans read rows downwards: forward hints do not apply
                self._last_verdict = (
                    ReturnCode.NEXT_ROW if self.reversed else ReturnCode.SEEK_NEXT_USING_HINT
                )
        return self._last_verdict

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        candidates = [r for p in self._patterns if (r := p.next_row(cell.row)) is not None]
        if not candidates:
            self._done = True
            return None
        return first_on_row(min(candidates))

    def filter_all_remaining(self) -> bool:
        return self._done

    def describe(self) -> str:
        return f"FuzzyRowFilter({self.fuzzy_keys!r})"


class RowRange(NamedTuple):
    """A row-key range for MultiRowRangeFilter; an empty start/stop is unbounded."""

    start_row: bytes
    start_inclusive: bool
    stop_row: bytes
    stop_inclusive: bool


class MultiRowRangeFilter(FilterBase):
    """Keeps rows inside any of ``ranges``; seeks to the next range's start between them.

    HBase MultiRowRangeFilter: ranges are sorted and overlapping ones merged; past
    the last range the scan ends.  Raises InvalidArgument for a range whose start
    sorts after its (non-empty) stop.
    """

    def __init__(self, ranges: Iterable[RowRange | tuple[bytes, bool, bytes, bool]]) -> None:
        spans: list[tuple[bytes, bytes | None]] = []
        kept: list[RowRange] = []
        for r in ranges:
            rr = RowRange(bytes(r[0]), bool(r[1]), bytes(r[2]), bool(r[3]))
            kept.append(rr)
            if rr.stop_row and rr.start_row > rr.stop_row:
                raise InvalidArgument(
                    f"invalid row range: start {rr.start_row!r} > stop {rr.stop_row!r}"
                )
            # Half-open [low, high) in key space; b"\x00" appended = "just after".
            low = rr.start_row if rr.start_inclusive or not rr.start_row else rr.start_row + b"\x00"
            high: bytes | None
            if not rr.stop_row:
                high = None
            else:
                high = rr.stop_row + b"\x00" if rr.stop_inclusive else rr.stop_row
            if high is not None and low >= high:
                continue  # empty range
            spans.append((low, high))
        spans.sort(key=lambda s: s[0])
        merged: list[tuple[bytes, bytes | None]] = []
        for low, high in spans:
            if merged:
                prev_low, prev_high = merged[-1]
                if prev_high is None or low <= prev_high:
                    if prev_high is not None and (high is None or high > prev_high):
                        merged[-1] = (prev_low, high)
                    continue
            merged.append((low, high))
        self.ranges = kept  # constant after __init__
        self._lows = [s[0] for s in merged]  # constant after __init__
        self._highs = [s[1] for s in merged]  # constant after __init__
        self._verdict = ReturnCode.INCLUDE  # per row
        self._hint_row = b""  # per row
        self._done = False  # per scan

    def filter_row_key(self, row: bytes) -> bool:
        if self._done:
            return True
        i = bisect.bisect_right(self._lows, row) - 1
        if i >= 0:
            high = self._highs[i]
            if high is None or row < high:
                self._verdict = ReturnCode.INCLUDE
                return False
        if self.reversed:
            # rows come downwards: below the lowest range nothing can match any more
            self._done = i < 0
            return True
        if i + 1 < len(self._lows):
            self._verdict = ReturnCode.SEEK_NEXT_USING_HINT
            self._hint_row = self._lows[i + 1]
            return False
        self._done = True
        return True

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return self._verdict

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return first_on_row(self._hint_row)

    def filter_all_remaining(self) -> bool:
        return self._done

    def describe(self) -> str:
        inner = ", ".join(
            f"({r.start_row!r}, {r.start_inclusive}, {r.stop_row!r}, {r.stop_inclusive})"
            for r in self.ranges
        )
        return f"MultiRowRangeFilter([{inner}])"
