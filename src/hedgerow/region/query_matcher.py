"""The read path's rules: which stored cells a get or scan returns (HBase's ScanQueryMatcher).

Role: a region merges each store's sources (memstores and store files) into
one key-ordered stream per family; ``resolve_family`` turns that stream into
candidate cells per row, applying MVCC read points, TTL, delete markers, time
ranges and column selection; ``VersionCounter`` then applies the version
limits (after filters, as HBase 2 does); ``apply_row_filter`` runs a filter's
per-row protocol. ``retain_for_major_compaction`` is the rule major
compaction uses to drop what no read can return any more.

Semantics (HBase's ``ScanQueryMatcher`` and its delete and column trackers; where this
runs in a read: docs/design/storage.md#read-path):
- cells arrive per (row, family) as qualifier asc, timestamp desc, type desc
  (delete markers before puts at equal timestamp), sequence desc;
- DeleteFamily masks the family's cells with ts <= marker; DeleteFamilyVersion
  masks ts == marker; DeleteColumn masks the column's cells with ts <= marker;
  Delete masks the column's cell with ts == marker. Masking ignores sequence
  numbers: a delete masks puts written later with an older timestamp;
- with KEEP_DELETED_CELLS a marker applies only when inside the read's time
  range, so reads ending before the delete see the deleted cells; otherwise a
  marker applies when at or after the range's start;
- time range ``[min_ts, max_ts)``; two puts with equal coordinates and
  timestamp: the later write (higher seq) wins and the other is hidden;
- TTL: with MIN_VERSIONS 0 an expired cell is invisible; otherwise the newest
  MIN_VERSIONS versions stay visible even when expired;
- versions: at most ``min(read max_versions, family VERSIONS)`` per column.
Concurrency: pure functions over iterators; no shared state.
Hot path: ``resolve_family`` (every get and scan); bench/engine.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.filters.evaluate import filter_row_cells_for, row_visible
from hedgerow.model.keys import KEY_SUFFIX_STRUCT, TERM, split_key
from hedgerow.model.read_spec import ReadSpec
from hedgerow.model.schema import ColumnFamilyDescriptor

__all__ = [
    "VersionCounter",
    "apply_row_filter",
    "row_visible",
    "resolve_family",
    "retain_for_major_compaction",
]

_PUT = int(KeyType.PUT)
_DELETE = int(KeyType.DELETE)
_DELETE_COLUMN = int(KeyType.DELETE_COLUMN)
_DELETE_FAMILY = int(KeyType.DELETE_FAMILY)
_DELETE_FAMILY_VERSION = int(KeyType.DELETE_FAMILY_VERSION)
_U64 = (1 << 64) - 1
_ESC_TO = b"\x00\xff"
_ESC_FROM = b"\x00"
_unpack_suffix = KEY_SUFFIX_STRUCT.unpack_from
_new_tuple = tuple.__new__  # Cell(...) without the NamedTuple __new__ frame


def oldest_unexpired(cf: ColumnFamilyDescriptor, now_ms: int) -> int:
    """Cells with ``ts`` below this are expired (``-1`` when the family has no TTL)."""
    ttl = cf.ttl_ms
    return -1 if ttl is None else now_ms - ttl


def resolve_family(
    entries: Iterable[tuple[bytes, bytes]],
    family: bytes,
    cf: ColumnFamilyDescriptor,
    spec: ReadSpec,
    read_point: int,
    now_ms: int,
    *,
    count_versions: bool,
) -> Iterator[tuple[bytes, list[Cell]]]:
    """Yield ``(row, cells)`` for each row that has candidate cells in this family.

    With ``count_versions`` the version limits are applied here (no filter);
    otherwise every candidate version is returned, duplicates included, and the
    caller applies filters and then a ``VersionCounter``.
    """
    oldest = oldest_unexpired(cf, now_ms)
    min_versions = cf.min_versions
    max_versions = min(spec.max_versions, cf.max_versions)
    keep_deleted = cf.keep_deleted_cells
    min_ts = spec.min_ts
    max_ts = spec.max_ts
    quals = spec.columns.get(family) if spec.columns is not None else None
    raw = spec.raw

    cur_row: bytes | None = None
    out: list[Cell] = []
    fam_ts = -1
    fam_versions: set[int] = set()
    col_ts = -1
    ver_dels: set[int] = set()
    count = 0
    last_ts = -1
    col_done = False
    prev_key = b""
    # keys.split_key inlined (hot loop): the escaped row and qualifier are compared
    # as they are (escaping is injective) and unescaped only when they change
    raw_row = b""
    raw_q: bytes | None = None
    qual = b""
    row = b""
    for key, value in entries:
        if key == prev_key:  # the same cell seen in two sources (flush in progress)
            continue
        prev_key = key
        i = key.find(TERM)
        j = key.find(TERM, i + 2)
        inv_ts, inv_type, inv_seq = _unpack_suffix(key, j + 2)
        if _U64 - inv_seq > read_point:
            continue
        seq = _U64 - inv_seq
        ts = _U64 - inv_ts
        typ = 255 - inv_type
        if key[:i] != raw_row or cur_row is None:
            raw_row = key[:i]
            row = raw_row.replace(_ESC_TO, _ESC_FROM)
            if out:
                yield cur_row, out  # type: ignore[misc]
                out = []
            cur_row = row
            fam_ts = -1
            if fam_versions:
                fam_versions = set()
            raw_q = None
        if key[i + 2 : j] != raw_q:
            raw_q = key[i + 2 : j]
            qual = raw_q.replace(_ESC_TO, _ESC_FROM)
            col_ts = -1
            if ver_dels:
                ver_dels = set()
            count = 0
            last_ts = -1
            col_done = False
        elif col_done and typ == _PUT:
            # markers are still tracked: a family marker in the b"" column masks
            # the columns after it
            continue
        expired = ts < oldest
        if expired and min_versions == 0:
            # everything later in this column is older, so expired too
            col_done = True
            continue
        if typ != _PUT:
            if raw:
                if min_ts <= ts < max_ts and (quals is None or qual in quals):
                    out.append(_new_tuple(Cell, (row, family, qual, ts, typ, value, seq)))
                continue
            if (min_ts <= ts < max_ts) if keep_deleted else ts >= min_ts:
                if typ == _DELETE_FAMILY:
                    if ts > fam_ts:
                        fam_ts = ts
                elif typ == _DELETE_FAMILY_VERSION:
                    fam_versions.add(ts)
                elif typ == _DELETE_COLUMN:
                    if ts > col_ts:
                        col_ts = ts
                else:
                    ver_dels.add(ts)
            continue
        if not raw and (
            ts <= fam_ts
            or ts <= col_ts
            or (ver_dels and ts in ver_dels)
            or (fam_versions and ts in fam_versions)
        ):
            continue
        if ts >= max_ts:
            continue
        if ts < min_ts:
            col_done = True
            continue
        if quals is not None and qual not in quals:
            col_done = True
            continue
        if count_versions:
            if ts == last_ts:
                continue
            last_ts = ts
            count += 1
            if count > max_versions or (expired and count > min_versions):
                col_done = True
                continue
        out.append(_new_tuple(Cell, (row, family, qual, ts, _PUT, value, seq)))
    if out:
        yield cur_row, out  # type: ignore[misc]


class VersionCounter:
    """Applies version limits after filters (HBase's column tracker ``checkVersions``).

    One instance per row; ``accept`` is called for each cell that passed the
    filter, in cell order, and says whether to include it.
    """

    __slots__ = ("_limits", "_col", "_count", "_last_ts", "_done")

    def __init__(self, limits: dict[bytes, tuple[int, int, int]]) -> None:
        # family -> (max_versions, min_versions, oldest_unexpired)
        self._limits = limits
        self._col: tuple[bytes, bytes] | None = None
        self._count = 0
        self._last_ts = -1
        self._done = False

    def accept(self, cell: Cell) -> bool:
        col = (cell.family, cell.qualifier)
        if col != self._col:
            self._col = col
            self._count = 0
            self._last_ts = -1
            self._done = False
        elif self._done:
            return False
        if cell.type != _PUT:  # raw scans: markers are not versions
            return True
        if cell.timestamp == self._last_ts:
            return False
        self._last_ts = cell.timestamp
        max_v, min_v, oldest = self._limits[cell.family]
        self._count += 1
        if self._count > max_v or (cell.timestamp < oldest and self._count > min_v):
            self._done = True
            return False
        return True

    def column_done(self) -> bool:
        """True once the current column reached its version limit (skip the rest of it)."""
        return self._done


def apply_row_filter(
    filt: Any,
    row: bytes,
    cells: list[Cell],
    counter: VersionCounter,
    positions: dict[bytes, tuple[bytes, bytes, bytes, int, int]],
) -> tuple[list[Cell], bool]:
    """Run one row's cells through a filter; returns (kept cells, stop the scan).

    Steps 3-6 of ``hedgerow.model.filters.evaluate`` (HBase 2 RegionScannerImpl +
    UserScanQueryMatcher), with this engine's version check (TTL, MIN_VERSIONS,
    equal-timestamp shadowing) after ``filter_cell``. ``positions`` holds, per family,
    the first cell key that family's scanner may still return; it persists across
    rows so a hint into a later row skips the rows between. The caller has checked
    ``filter_all_remaining``, called ``reset`` and ``filter_row_key``.
    """
    return filter_row_cells_for(filt, row, cells, positions, versions=counter)


def retain_for_major_compaction(
    entries: Iterable[tuple[bytes, bytes]],
    cf: ColumnFamilyDescriptor,
    now_ms: int,
) -> Iterator[tuple[bytes, bytes]]:
    """Yield the entries a major compaction keeps (input and output in key order).

    Without KEEP_DELETED_CELLS: delete markers and the puts they mask are
    dropped; per column the newest ``VERSIONS`` visible versions are kept, and
    expired ones beyond ``MIN_VERSIONS``. With KEEP_DELETED_CELLS: markers and
    masked puts are kept (time-range reads before the delete still see them);
    per column the newest ``VERSIONS`` puts, masked or not, are kept, and
    expired cells beyond ``MIN_VERSIONS`` are dropped.
    A put hidden by a later write at the same timestamp is always dropped.
    """
    oldest = oldest_unexpired(cf, now_ms)
    max_v = cf.max_versions
    min_v = cf.min_versions
    keep_deleted = cf.keep_deleted_cells
    cur_row: bytes | None = None
    fam_ts = -1
    fam_versions: set[int] = set()
    cur_q: bytes | None = None
    col_ts = -1
    ver_dels: set[int] = set()
    count = 0
    last_ts = -1
    prev_key = b""
    for key, value in entries:
        if key == prev_key:
            continue
        prev_key = key
        row, qual, ts, typ, _seq = split_key(key)
        if row != cur_row:
            cur_row = row
            fam_ts = -1
            fam_versions = set()
            cur_q = None
        if qual != cur_q:
            cur_q = qual
            col_ts = -1
            ver_dels = set()
            count = 0
            last_ts = -1
        expired = ts < oldest
        if typ != _PUT:
            if expired and min_v == 0:
                continue
            if typ == _DELETE_FAMILY:
                fam_ts = max(fam_ts, ts)
            elif typ == _DELETE_FAMILY_VERSION:
                fam_versions.add(ts)
            elif typ == _DELETE_COLUMN:
                col_ts = max(col_ts, ts)
            else:
                ver_dels.add(ts)
            if keep_deleted:
                yield key, value
            continue
        if ts == last_ts:
            continue
        masked = ts <= fam_ts or ts <= col_ts or ts in ver_dels or ts in fam_versions
        if masked and not keep_deleted:
            continue
        last_ts = ts
        count += 1
        if count > max_v or (expired and count > min_v):
            continue
        yield key, value
