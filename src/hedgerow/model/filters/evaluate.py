"""Reference evaluator: runs a filter over candidate rows exactly as the read path must.

Role: the executable statement of the filter protocol (``filters.base``).  The
engine's region scanner mirrors this logic (and may call ``filter_row_cells_for``);
tests use it to pin every filter's results.
Invariants (each from HBase 2 ``RegionScannerImpl`` / ``StoreScanner`` /
``UserScanQueryMatcher``):

1. Rows arrive in ascending key order; a row's cells in HBase order (family,
   qualifier ascending, timestamp descending).  The cells are the *candidates*:
   deletes, TTL, time range, requested columns and the family's VERSIONS limit are
   already applied.
2. Before each row: ``filter_all_remaining()`` true ends the scan; then ``reset()``;
   then ``filter_row_key(row)`` true skips the row (no ``filter_cell`` calls).
3. Per cell: ``filter_all_remaining()`` true ends the row *and* the scan (the row so
   far is still finished and returned); otherwise ``filter_cell``.
4. Return codes move a per-family read position (HBase has one StoreScanner per
   family): NEXT_COL skips the rest of the column, NEXT_ROW the rest of this row *in
   this family only*; SEEK_NEXT_USING_HINT moves the family's position to
   ``get_next_cell_hint(cell)`` if that sorts after the cell (else acts as SKIP) -
   a hint in a later row also skips this family's cells in the rows between.
   A row none of whose cells lie at or after their family's position is not
   visited at all (no ``filter_row_key``, no PageFilter count).
5. INCLUDE* cells are counted per column; beyond ``max_versions`` a cell is dropped
   and the column skipped (HBase 2: version counting after the filter).  Kept cells
   pass through ``transform_cell``.
6. After the cells: if ``has_filter_row()``, ``filter_row_cells(cells)``; then, if
   any cells remain, ``filter_row()`` true drops the row.  Empty rows never appear.
7. After the row: ``filter_all_remaining()`` true ends the scan.

Simplification: for a row rejected by ``filter_row_key`` HBase still feeds the
row's cells through ``filter_cell`` while skipping them (``nextRow``); no stock
filter's result depends on that, so it is not done here.
Concurrency: pure function of its arguments (the filter is mutated).
Hot path: the engine's copy of this loop; see bench/bench_filters.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from hedgerow.model.cell import MAX_TIMESTAMP, Cell
from hedgerow.model.filters.base import (
    HINT_TYPE,
    INCLUDE_CODES,
    CellKey,
    Filter,
    FilterBase,
    ReturnCode,
    cell_key,
)

__all__ = [
    "MaxVersions",
    "Row",
    "VersionCheck",
    "apply_filter_to_rows",
    "filter_row_cells_for",
    "row_visible",
]

Row = tuple[bytes, list[Cell]]

_RC = ReturnCode


def _after_column(cell: Cell) -> CellKey:
    """The first key after every version of ``cell``'s column."""
    return (cell.row, cell.family, cell.qualifier + b"\x00", -MAX_TIMESTAMP, -HINT_TYPE)


def _after_row(cell: Cell) -> CellKey:
    """The first key after every cell of ``cell``'s row."""
    return (cell.row + b"\x00", b"", b"", -MAX_TIMESTAMP, -HINT_TYPE)


class VersionCheck(Protocol):
    """Step 5's version limit, applied to each cell a filter included, in cell order."""

    def accept(self, cell: Cell) -> bool:
        """True keeps the cell; False drops it."""
        ...

    def column_done(self) -> bool:
        """After a False from ``accept``: True skips the rest of the cell's column."""
        ...


class MaxVersions:
    """At most ``max_versions`` included cells per column (``apply_filter_to_rows``).

    The engine uses its own check with the same interface, which also applies TTL,
    MIN_VERSIONS and equal-timestamp shadowing (hedgerow.region.query_matcher).
    """

    __slots__ = ("_max", "_column", "_count")

    def __init__(self, max_versions: int) -> None:
        self._max = max_versions
        self._column: tuple[bytes, bytes] | None = None
        self._count = 0

    def accept(self, cell: Cell) -> bool:
        column = (cell.family, cell.qualifier)
        if column != self._column:
            self._column, self._count = column, 0
        self._count += 1
        return self._count <= self._max

    def column_done(self) -> bool:
        return self._count > self._max


def row_visible(cells: Sequence[Cell], positions: dict[bytes, CellKey]) -> bool:
    """Step 4's last rule: is any cell of this row still ahead of its family's position?"""
    for cell in cells:
        pos = positions.get(cell.family)
        if pos is None or cell_key(cell) >= pos:
            return True
    return False


def filter_row_cells_for(
    filter: Filter,
    row: bytes,
    cells: Sequence[Cell],
    positions: dict[bytes, CellKey],
    max_versions: int | None = None,
    *,
    versions: VersionCheck | None = None,
) -> tuple[list[Cell], bool]:
    """Run steps 3-6 of the protocol over one row that was not rejected by its key.

    ``positions`` maps family -> the first key that family's scanner may return;
    it is updated in place.  Step 5's limit is ``versions`` if given, else
    ``MaxVersions(max_versions)``, else none.  Returns (kept cells, stop_scan) where
    stop_scan is true when ``filter_all_remaining`` cut the row short.
    """
    if versions is None and max_versions is not None:
        versions = MaxVersions(max_versions)
    kept: list[Cell] = []
    stop = False
    for cell in cells:
        key = cell_key(cell)
        pos = positions.get(cell.family)
        if pos is not None and key < pos:
            continue  # the family's scanner has already moved past this cell
        if filter.filter_all_remaining():
            stop = True
            break
        rc = filter.filter_cell(cell)
        if rc in INCLUDE_CODES:
            if versions is None or versions.accept(cell):
                kept.append(filter.transform_cell(cell))
            elif versions.column_done():
                rc = _RC.NEXT_ROW if rc is _RC.INCLUDE_AND_SEEK_NEXT_ROW else _RC.NEXT_COL
        if rc is _RC.INCLUDE or rc is _RC.SKIP:
            continue
        if rc is _RC.NEXT_COL or rc is _RC.INCLUDE_AND_NEXT_COL:
            positions[cell.family] = _after_column(cell)
        elif rc is _RC.NEXT_ROW or rc is _RC.INCLUDE_AND_SEEK_NEXT_ROW:
            positions[cell.family] = _after_row(cell)
        else:  # SEEK_NEXT_USING_HINT
            hint = filter.get_next_cell_hint(cell)
            if hint is not None:
                hint_key = cell_key(hint)
                if hint_key > key:
                    positions[cell.family] = hint_key
    if filter.has_filter_row():
        kept = filter.filter_row_cells(kept)
    if kept and filter.filter_row():
        kept = []
    return kept, stop


def apply_filter_to_rows(
    filter: Filter | None,
    rows: Iterable[Row],
    max_versions: int | None = None,
) -> list[Row]:
    """Return the rows (and cells) a scan with ``filter`` yields over candidate ``rows``.

    ``max_versions`` is the scan's version limit, applied after ``filter_cell``
    (None: no limit).  With ``filter`` None only the version limit applies.
    Cost: one ``filter_cell`` call per visited candidate cell.

    >>> from hedgerow.model.filters.key_filters import FirstKeyOnlyFilter
    >>> c = [Cell(b"r", b"f", b"a", 2, 4, b"x"), Cell(b"r", b"f", b"b", 1, 4, b"y")]
    >>> apply_filter_to_rows(FirstKeyOnlyFilter(), [(b"r", c)]) == [(b"r", c[:1])]
    True
    """
    if filter is None:
        filter = FilterBase()
    out: list[Row] = []
    positions: dict[bytes, CellKey] = {}
    for row, cells in rows:
        if not row_visible(cells, positions):
            continue
        if filter.filter_all_remaining():
            break
        filter.reset()
        if filter.filter_row_key(row):
            if filter.filter_all_remaining():
                break
            continue
        kept, stop = filter_row_cells_for(filter, row, cells, positions, max_versions)
        if kept:
            out.append((row, kept))
        if stop or filter.filter_all_remaining():
            break
    return out
