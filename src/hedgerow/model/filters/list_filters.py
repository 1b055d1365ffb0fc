"""Filter combinators: FilterList (AND / OR), SkipFilter and WhileMatchFilter.

Role: the parser builds these for ``AND``, ``OR``, ``SKIP`` and ``WHILE``; clients
nest them freely.  Semantics follow HBase 2's FilterListWithAND ("maximal step":
the farthest skip any sub-filter asks for) and FilterListWithOR ("minimal step",
remembering each sub-filter's last verdict so it is not asked again about cells it
already skipped past, HBASE-17678), SkipFilter and WhileMatchFilter.
Invariants: an AND list stops asking sub-filters about a cell as soon as the merged
code excludes it (HBASE-20565), so later sub-filters' counters are not advanced.
Concurrency: not thread-safe.
Hot path: ``FilterList.filter_cell``; see bench/bench_filters.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from hedgerow.model.cell import Cell
from hedgerow.model.filters.base import (
    INCLUDE_CODES,
    Filter,
    FilterBase,
    ReturnCode,
    cell_key,
)

__all__ = [
    "FilterList",
    "FilterListOperator",
    "SkipFilter",
    "WhileMatchFilter",
]

_RC = ReturnCode

# A non-hint return code = (includes the cell?, how far it skips: 0 cell, 1 column, 2 row).
_SPLIT: dict[ReturnCode, tuple[bool, int]] = {
    _RC.INCLUDE: (True, 0),
    _RC.INCLUDE_AND_NEXT_COL: (True, 1),
    _RC.INCLUDE_AND_SEEK_NEXT_ROW: (True, 2),
    _RC.SKIP: (False, 0),
    _RC.NEXT_COL: (False, 1),
    _RC.NEXT_ROW: (False, 2),
}
_JOIN: dict[tuple[bool, int], ReturnCode] = {v: k for k, v in _SPLIT.items()}


def merge_and(rc: ReturnCode, local: ReturnCode) -> ReturnCode:
    """Merge two sub-filter verdicts under MUST_PASS_ALL.

    Reproduces the table in HBase FilterListWithAND.mergeReturnCode: include only if
    both include, skip as far as the farther of the two; a hint wins over all.
    """
    if rc is _RC.SEEK_NEXT_USING_HINT or local is _RC.SEEK_NEXT_USING_HINT:
        return _RC.SEEK_NEXT_USING_HINT
    inc_a, far_a = _SPLIT[rc]
    inc_b, far_b = _SPLIT[local]
    return _JOIN[(inc_a and inc_b, max(far_a, far_b))]


def merge_or(rc: ReturnCode | None, local: ReturnCode) -> ReturnCode:
    """Merge two sub-filter verdicts under MUST_PASS_ONE.

    Reproduces the table in HBase FilterListWithOR.mergeReturnCode: include if either
    includes, skip only as far as the nearer of the two; a hint combined with
    anything but a hint degrades to INCLUDE (other side includes) or SKIP.
    """
    if rc is None:
        return local
    hint = _RC.SEEK_NEXT_USING_HINT
    if rc is hint or local is hint:
        if rc is local:
            return hint
        other = local if rc is hint else rc
        return _RC.INCLUDE if other in INCLUDE_CODES else _RC.SKIP
    inc_a, far_a = _SPLIT[rc]
    inc_b, far_b = _SPLIT[local]
    return _JOIN[(inc_a or inc_b, min(far_a, far_b))]


class FilterListOperator(Enum):
    """How a FilterList combines its sub-filters (HBase ``FilterList.Operator``)."""

    MUST_PASS_ALL = "AND"
    """AND: a cell/row must pass every sub-filter."""
    MUST_PASS_ONE = "OR"
    """OR: a cell/row must pass at least one sub-filter."""


class FilterList(FilterBase):
    """An ordered AND / OR of filters; lists nest.

    >>> from hedgerow.model.filters.key_filters import FirstKeyOnlyFilter, KeyOnlyFilter
    >>> FilterList(FilterListOperator.MUST_PASS_ALL, [KeyOnlyFilter(), FirstKeyOnlyFilter()])
    FilterList(MUST_PASS_ALL, [KeyOnlyFilter(False), FirstKeyOnlyFilter()])
    """

    MUST_PASS_ALL = FilterListOperator.MUST_PASS_ALL
    MUST_PASS_ONE = FilterListOperator.MUST_PASS_ONE

    def __init__(
        self,
        operator: FilterListOperator = FilterListOperator.MUST_PASS_ALL,
        filters: Iterable[Filter] = (),
    ) -> None:
        self.operator = operator  # constant after __init__
        self.filters: list[Filter] = list(filters)  # constant after __init__
        self._is_and = operator is FilterListOperator.MUST_PASS_ALL
        n = len(self.filters)
        # AND: sub-filters that answered SEEK_NEXT_USING_HINT for the last cell.
        self._hinting: list[Filter] = []
        # OR (HBASE-17678): each sub-filter's last verdict and the cell it was about.
        self._prev_rc: list[ReturnCode | None] = [None] * n
        self._prev_cell: list[Cell | None] = [None] * n
        self._included: list[bool] = [False] * n

    # -- row level ---------------------------------------------------------------

    def set_reversed(self, reversed: bool) -> None:
        self.reversed = reversed
        for f in self.filters:
            f.set_reversed(reversed)

    def reset(self) -> None:
        for f in self.filters:
            f.reset()
        self._hinting.clear()
        n = len(self.filters)
        self._prev_rc = [None] * n
        self._prev_cell = [None] * n
        self._included = [False] * n

    def filter_all_remaining(self) -> bool:
        if not self.filters:
            return False
        if self._is_and:
            return any(f.filter_all_remaining() for f in self.filters)
        return all(f.filter_all_remaining() for f in self.filters)

    def filter_row_key(self, row: bytes) -> bool:
        if not self.filters:
            return False
        # Every sub-filter sees the row key (PrefixFilter etc. track rows there).
        if self._is_and:
            verdict = False
            for f in self.filters:
                if f.filter_all_remaining() or f.filter_row_key(row):
                    verdict = True
            return verdict
        verdict = True
        for f in self.filters:
            if not f.filter_all_remaining() and not f.filter_row_key(row):
                verdict = False
        return verdict

    def has_filter_row(self) -> bool:
        return any(f.has_filter_row() for f in self.filters)

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        for f in self.filters:
            cells = f.filter_row_cells(cells)
        return cells

    def filter_row(self) -> bool:
        if not self.filters:
            return False
        if self._is_and:
            return any(f.filter_row() for f in self.filters)  # short-circuits, as HBase
        return all(f.filter_row() for f in self.filters)

    def is_family_essential(self, family: bytes) -> bool:
        if not self.filters:
            return True
        return any(f.is_family_essential(family) for f in self.filters)

    # -- cell level --------------------------------------------------------------

    def filter_cell(self, cell: Cell) -> ReturnCode:
        if not self.filters:
            return _RC.INCLUDE
        if self._is_and:
            return self._filter_cell_and(cell)
        return self._filter_cell_or(cell)

    def _filter_cell_and(self, cell: Cell) -> ReturnCode:
        rc = _RC.INCLUDE
        hinting = self._hinting
        hinting.clear()
        for f in self.filters:
            if f.filter_all_remaining():
                return _RC.NEXT_ROW
            local = f.filter_cell(cell)
            if local is _RC.SEEK_NEXT_USING_HINT:
                hinting.append(f)
            rc = merge_and(rc, local)
            if rc not in INCLUDE_CODES:
                return rc  # HBASE-20565: later sub-filters never see an excluded cell
        return _RC.SEEK_NEXT_USING_HINT if hinting else rc

    def _filter_cell_or(self, cell: Cell) -> ReturnCode:
        rc: ReturnCode | None = None
        prev_rc, prev_cell, included = self._prev_rc, self._prev_cell, self._included
        for i, f in enumerate(self.filters):
            included[i] = False
            if f.filter_all_remaining():
                continue
            local = self._verdict_from_previous(f, cell, prev_cell[i], prev_rc[i])
            if local is None:
                local = f.filter_cell(cell)
            prev_rc[i] = local
            prev_cell[i] = None if local in (_RC.INCLUDE, _RC.SKIP) else cell
            rc = merge_or(rc, local)
            if local in INCLUDE_CODES:
                included[i] = True
        return _RC.SKIP if rc is None else rc

    @staticmethod
    def _verdict_from_previous(
        f: Filter, cell: Cell, prev: Cell | None, prev_rc: ReturnCode | None
    ) -> ReturnCode | None:
        """HBase calculateReturnCodeByPrevCellAndRC: the verdict ``f`` already implied."""
        if prev is None or prev_rc is None:
            return None
        if prev_rc is _RC.SEEK_NEXT_USING_HINT:
            hint = f.get_next_cell_hint(prev)
            if hint is not None and cell_key(cell) < cell_key(hint):
                return _RC.SEEK_NEXT_USING_HINT
            return None
        if prev_rc in (_RC.NEXT_COL, _RC.INCLUDE_AND_NEXT_COL):
            same_column = prev.family == cell.family and prev.qualifier == cell.qualifier
            return _RC.NEXT_COL if same_column else None
        if prev_rc in (_RC.NEXT_ROW, _RC.INCLUDE_AND_SEEK_NEXT_ROW):
            # NEXT_ROW only moved that family's scanner (HBASE-18368).
            return _RC.NEXT_ROW if prev.family == cell.family else None
        return None

    def transform_cell(self, cell: Cell) -> Cell:
        if self._is_and:
            for f in self.filters:
                cell = f.transform_cell(cell)
            return cell
        for f, inc in zip(self.filters, self._included, strict=True):
            if inc:
                cell = f.transform_cell(cell)
        return cell

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        if self._is_and:
            best: Cell | None = None
            for f in self._hinting:
                if f.filter_all_remaining():
                    continue
                hint = f.get_next_cell_hint(cell)
                if hint is not None and (best is None or cell_key(hint) > cell_key(best)):
                    best = hint
            return best
        lowest: Cell | None = None
        for f in self.filters:
            if f.filter_all_remaining():
                continue
            hint = f.get_next_cell_hint(cell)
            if hint is None:
                return None  # one sub-filter cannot skip: nobody may
            if lowest is None or cell_key(hint) < cell_key(lowest):
                lowest = hint
        return lowest

    def describe(self) -> str:
        inner = ", ".join(f.describe() for f in self.filters)
        return f"FilterList({self.operator.name}, [{inner}])"


class SkipFilter(FilterBase):
    """Drops the whole row if the wrapped filter excludes any of its cells.

    HBase SkipFilter: any verdict other than INCLUDE marks the row; the wrapped
    filter's row-key, row and hint methods are *not* consulted (as in HBase).
    """

    def __init__(self, filter: Filter) -> None:
        self.filter = filter  # constant after __init__
        self._filter_row = False  # per row

    def set_reversed(self, reversed: bool) -> None:
        self.reversed = reversed
        self.filter.set_reversed(reversed)

    def reset(self) -> None:
        self.filter.reset()
        self._filter_row = False

    def filter_cell(self, cell: Cell) -> ReturnCode:
        rc = self.filter.filter_cell(cell)
        if rc is not _RC.INCLUDE:
            self._filter_row = True
        return rc

    def transform_cell(self, cell: Cell) -> Cell:
        return self.filter.transform_cell(cell)

    def has_filter_row(self) -> bool:
        return True

    def filter_row(self) -> bool:
        return self._filter_row

    def is_family_essential(self, family: bytes) -> bool:
        return self.filter.is_family_essential(family)

    def describe(self) -> str:
        return f"SkipFilter({self.filter.describe()})"


class WhileMatchFilter(FilterBase):
    """Ends the scan at the first row key, cell or row the wrapped filter rejects.

    HBase WhileMatchFilter: the row being read when the wrapped filter first
    rejects a cell is still returned with the cells accepted before that point.
    Any verdict other than INCLUDE (even INCLUDE_AND_NEXT_COL) counts as rejection.
    """

    def __init__(self, filter: Filter) -> None:
        self.filter = filter  # constant after __init__
        self._stop = False  # per scan

    def set_reversed(self, reversed: bool) -> None:
        self.reversed = reversed
        self.filter.set_reversed(reversed)

    def reset(self) -> None:
        self.filter.reset()

    def filter_all_remaining(self) -> bool:
        return self._stop or self.filter.filter_all_remaining()

    def filter_row_key(self, row: bytes) -> bool:
        verdict = self.filter.filter_row_key(row)
        self._stop = self._stop or verdict
        return verdict

    def filter_cell(self, cell: Cell) -> ReturnCode:
        rc = self.filter.filter_cell(cell)
        if rc is not _RC.INCLUDE:
            self._stop = True
        return rc

    def transform_cell(self, cell: Cell) -> Cell:
        return self.filter.transform_cell(cell)

    def has_filter_row(self) -> bool:
        return True

    def filter_row(self) -> bool:
        verdict = self.filter.filter_row()
        self._stop = self._stop or verdict
        return verdict

    def is_family_essential(self, family: bytes) -> bool:
        return self.filter.is_family_essential(family)

    def describe(self) -> str:
        return f"WhileMatchFilter({self.filter.describe()})"
