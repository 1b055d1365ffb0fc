"""Region: one key range of one table: a store per family, MVCC, row locks, flush, compaction.

Role: the engine (embedded now, the region server later) routes every read
and write for keys in ``[start_key, end_key)`` here. The region turns
mutations into cells, logs them in the shared WAL, inserts them into its
memstores and makes them visible atomically; it serves gets and scans through
``query_matcher``; it flushes memstores to store files and compacts them,
recording every file-set change in its manifest.
Format: the region directory (docs/design/files.md): ``MANIFEST-*``,
``CURRENT``, one sub-directory of store files per family.
Invariants:
- a row mutation's cells carry one sequence number and become visible together;
- sequence numbers in a region only grow; ``flushed_seq`` <= every seq still
  only in memstores or the WAL;
- writes to one row are serialised by its row lock and are visible to
  readers before the lock is released (read-your-writes across threads);
- gets and filtered scans call ``_internal.deadline.check()`` once per row, so an
  RPC request's deadline stops them mid-scan (issue 11, finding 6).
Concurrency: ``_update_lock`` orders sequence assignment, memstore insertion
and WAL append; row locks (striped) serialise read-modify-write per row;
``_flush_lock`` allows one flush at a time; ``_compact_lock`` one compaction.
Hot path: ``mutate`` and ``get``; bench/engine.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hedgerow._internal import deadline, failpoints
from hedgerow._internal.clock import Clock
from hedgerow.errors import FamilyNotFound, RegionClosed, StorageError, storage_error
from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.keys import encode_key, row_end, row_of, row_prefix
from hedgerow.model.mutation import (
    DeleteColumn,
    DeleteFamily,
    DeleteFamilyVersion,
    DeleteRow,
    DeleteVersion,
    Put,
    RowMutation,
    decode_counter,
)
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.compaction import CompactionJob, CompactionPool, compaction_entries
from hedgerow.region.mvcc import MVCC
from hedgerow.region.query_matcher import (
    VersionCounter,
    apply_row_filter,
    oldest_unexpired,
    resolve_family,
    row_visible,
)
from hedgerow.storage import filenames
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.manifest import Manifest
from hedgerow.storage.memstore import MemStore
from hedgerow.storage.store import Store, StoreFile, merged_entries
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.version_edit import FileMeta, VersionEdit
from hedgerow.storage.wal import Durability, WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit

__all__ = ["Region", "RegionInfo"]

log = logging.getLogger("hedgerow.region")

_PUT = int(KeyType.PUT)
_STRIPES = 256
_MAX_KEY = b"\xff" * 65540  # greater than every internal key (rows are <= 32767 bytes)


@dataclass(frozen=True)
class RegionInfo:
    """Identity and key range of a region. ``end_key`` b"" means unbounded."""

    table: str
    name: str
    start_key: bytes = b""
    end_key: bytes = b""

    def contains(self, row: bytes) -> bool:
        return row >= self.start_key and (not self.end_key or row < self.end_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "name": self.name,
            "start_key": self.start_key,
            "end_key": self.end_key,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegionInfo:
        return cls(d["table"], d["name"], bytes(d["start_key"]), bytes(d["end_key"]))


class _Cells:
    """Cells of one mutation batch, grouped per family, ready for memstore and WAL."""

    __slots__ = ("per_family", "wal_rows")

    def __init__(self) -> None:
        # family -> [(row, qualifier, ts, type, value)]
        self.per_family: dict[bytes, list[tuple[bytes, bytes, int, int, bytes]]] = {}
        self.wal_rows: list[tuple[bytes, list[tuple[bytes, bytes, int, int, bytes]]]] = []


class Region:
    """A key range of one table. Methods by purpose:

    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``scan``
    - maintenance: ``flush``, ``compact``, ``needs_flush``, ``needs_compaction``
    - lifecycle: ``open`` (classmethod), ``replay``, ``close``
    """

    def __init__(
        self,
        fs: FileSystem,
        region_dir: str,
        info: RegionInfo,
        table: TableDescriptor,
        wal: WriteAheadLog,
        cache: BlockCache | None,
        clock: Clock,
        manifest: Manifest,
        path_for: Callable[[str, bytes, int], str],
        *,
        max_cell_bytes: int,
        table_cache: TableCache | None = None,
    ) -> None:
        # constant after __init__
        self.fs = fs
        self.dir = region_dir
        self.info = info
        self.table = table
        self._wal = wal
        self._clock = clock
        self._manifest = manifest
        self._max_cell_bytes = max_cell_bytes
        self.stores: dict[bytes, Store] = {}
        for fam in sorted(table.families):
            self.stores[fam] = Store(
                fs,
                region_dir,
                table.families[fam],
                cache,
                lambda family, n: path_for(region_dir, family, n),
                table_cache=table_cache,
            )
        state = manifest.state
        self.orphan_families: list[bytes] = []
        max_seq = state.flushed_seq
        for fam, files in state.files.items():
            store = self.stores.get(fam)
            if store is None:
                # the family was deleted (alter) and the cleanup did not finish
                self.orphan_families.append(fam)
                continue
            store.open_files(list(files.values()))
            for m in files.values():
                max_seq = max(max_seq, m.max_seq)
        self.flushed_seq = state.flushed_seq
        self.mvcc = MVCC(max_seq)
        self._update_lock = threading.Lock()
        self._row_locks = [threading.Lock() for _ in range(_STRIPES)]
        self._flush_lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self._size_cond = threading.Condition()
        self.closed = False
        self.store_files_snapshot: dict[bytes, list[tuple[FileMeta, str]]] = {}
        # store files written by failed flushes/compactions, kept until a manifest edit
        # succeeds (guarded by self._unrecorded_lock)
        self._unrecorded: list[str] = []
        self._unrecorded_lock = threading.Lock()
        self.last_major_compaction_ms = 0
        # counters
        self.read_requests = 0
        #: worker processes for compactions (None: compact on the calling thread)
        self.compaction_pool: CompactionPool | None = None
        self.write_requests = 0

    # ---- lifecycle -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        fs: FileSystem,
        region_dir: str,
        info: RegionInfo,
        table: TableDescriptor,
        wal: WriteAheadLog,
        cache: BlockCache | None,
        clock: Clock,
        path_for: Callable[[str, bytes, int], str],
        *,
        create: bool,
        max_cell_bytes: int,
        table_cache: TableCache | None = None,
    ) -> Region:
        fs.makedirs(region_dir)
        manifest = Manifest.open(fs, region_dir, create=create)
        if create and manifest.state.region_info is None:
            manifest.apply(VersionEdit(region_info=info.to_dict()))
        return cls(
            fs,
            region_dir,
            info,
            table,
            wal,
            cache,
            clock,
            manifest,
            path_for,
            max_cell_bytes=max_cell_bytes,
            table_cache=table_cache,
        )

    def replay(self, edit: WalEdit) -> bool:
        """Apply a recovered WAL edit if it is newer than what is flushed; True if applied."""
        if edit.seq <= self.flushed_seq:
            return False
        for row, cells in edit.rows:
            for family, qualifier, ts, typ, value in cells:
                store = self.stores.get(family)
                if store is None:  # family deleted since
                    continue
                store.active.add(encode_key(row, qualifier, ts, typ, edit.seq), value)
        if edit.seq > self.mvcc.last_assigned:
            self.mvcc.advance_to(edit.seq)
        return True

    def close(self, *, flush: bool = True) -> None:
        """Stop serving: refuse new writes, wait for a running compaction, flush, close files.

        Requests that reach a closed region get RegionClosed; the engine retries them on
        the region that replaced it (alter, truncate) or reports the table's state.
        """
        with self._compact_lock:
            with self._update_lock:
                if self.closed:
                    return
                self.closed = True  # no write gets a sequence number after this
            if flush:
                try:
                    self._flush(allow_closed=True)
                except BaseException:
                    with self._update_lock:
                        self.closed = False  # still serving: its memstore could not be saved
                    raise
            with self._flush_lock:
                # what split and merge link into the new regions
                self.store_files_snapshot = self.store_files()
                for s in self.stores.values():
                    s.close()
                self._manifest.close()

    # ---- helpers ---------------------------------------------------------------------
    def _store(self, family: bytes) -> Store:
        s = self.stores.get(family)
        if s is None:
            raise FamilyNotFound(
                f"column family {family.decode('utf-8', 'backslashreplace')!r} does not exist "
                f"in table {self.table.name!r}"
            )
        return s

    def _lock_rows(self, rows: Sequence[bytes]) -> list[threading.Lock]:
        if len(rows) == 1:  # fast path: a single-row write
            lk = self._row_locks[hash(rows[0]) % _STRIPES]
            lk.acquire()
            return [lk]
        stripes = sorted({hash(r) % _STRIPES for r in rows})
        locks = [self._row_locks[i] for i in stripes]
        for lk in locks:
            lk.acquire()
        return locks

    @staticmethod
    def _unlock(locks: list[threading.Lock]) -> None:
        for lk in reversed(locks):
            lk.release()

    def memstore_size(self) -> int:
        total = 0  # a loop, not sum(genexpr): this runs twice per write
        for s in self.stores.values():
            total += s.memstore_size()
        return total

    # ---- writing -------------------------------------------------------------------------
    def _latest_ts(self, row: bytes, family: bytes, qualifier: bytes) -> int | None:
        spec = ReadSpec(columns={family: frozenset([qualifier])}, max_versions=1)
        cells = self.get(row, spec)
        return cells[0].timestamp if cells else None

    def _to_cells(self, m: RowMutation, now: int, out: _Cells) -> None:
        row = m.row
        wal_cells: list[tuple[bytes, bytes, int, int, bytes]] = []
        per_family = out.per_family
        for op in m.ops:
            if isinstance(op, Put):
                fam, q, typ, value = op.family, op.qualifier, _PUT, op.value
                ts = now if op.ts is None else op.ts
            elif isinstance(op, DeleteColumn):
                fam, q, typ, value = op.family, op.qualifier, int(KeyType.DELETE_COLUMN), b""
                ts = now if op.ts is None else op.ts
            elif isinstance(op, DeleteVersion):
                fam, q, typ, value = op.family, op.qualifier, int(KeyType.DELETE), b""
                if op.ts is None:
                    self._store(fam)
                    latest = self._latest_ts(row, fam, q)
                    if latest is None:
                        continue  # nothing to delete (HBase writes nothing either)
                    ts = latest
                else:
                    ts = op.ts
            elif isinstance(op, DeleteFamily):
                fam, q, typ, value = op.family, b"", int(KeyType.DELETE_FAMILY), b""
                ts = now if op.ts is None else op.ts
            elif isinstance(op, DeleteFamilyVersion):
                fam, q, typ, value = op.family, b"", int(KeyType.DELETE_FAMILY_VERSION), b""
                ts = op.ts
            elif isinstance(op, DeleteRow):
                ts = now if op.ts is None else op.ts
                for fam in self.stores:
                    wal_cells.append((fam, b"", ts, int(KeyType.DELETE_FAMILY), b""))
                    per_family.setdefault(fam, []).append(
                        (row, b"", ts, int(KeyType.DELETE_FAMILY), b"")
                    )
                continue
            else:  # pragma: no cover - exhaustive
                raise TypeError(f"unknown mutation op {op!r}")
            if fam not in self.stores:
                self._store(fam)
            wal_cells.append((fam, q, ts, typ, value))
            per_family.setdefault(fam, []).append((row, q, ts, typ, value))
        if wal_cells:
            out.wal_rows.append((row, wal_cells))

    def validate(self, mutations: Sequence[RowMutation]) -> None:
        for m in mutations:
            m.validate(self._max_cell_bytes)
            if not self.info.contains(m.row):
                raise ValueError(f"row {m.row!r} is outside region {self.info.name}")
            for op in m.ops:
                if not isinstance(op, DeleteRow):
                    self._store(op.family)

    def mutate(
        self,
        mutations: Sequence[RowMutation],
        durability: Durability = Durability.SYNC_WAL,
        *,
        locked: bool = False,
        validated: bool = False,
    ) -> int:
        """Apply row mutations atomically per row; the whole batch becomes visible at once.

        Returns the sequence number used (0 if nothing was written). ``validated``:
        the caller (the engine) has just run ``validate`` on these mutations.
        """
        if not validated:
            self.validate(mutations)
        locks = [] if locked else self._lock_rows([m.row for m in mutations])
        try:
            return self._mutate_locked(mutations, durability)
        finally:
            self._unlock(locks)

    def _mutate_locked(self, mutations: Sequence[RowMutation], durability: Durability) -> int:
        self._wait_for_memstore_room()
        now = self._clock.now_ms()
        cells = _Cells()
        for m in mutations:
            self._to_cells(m, now, cells)
        if not cells.wal_rows:
            return 0
        stores = self.stores
        with self._update_lock:
            if self.closed:
                raise RegionClosed(
                    f"region {self.info.name} of table {self.table.name!r} is closed"
                )
            seq = self.mvcc.begin()
            inserted: list[tuple[MemStore, list[bytes]]] = []
            try:
                pos = -1
                if durability != Durability.SKIP_WAL:
                    # logged first: a write the log refuses leaves no trace in the memstore
                    pos = self._wal.append(
                        WalEdit(self.info.name, seq, cells.wal_rows),
                        region=self.info.name,
                        seq=seq,
                    )
                for fam, items in cells.per_family.items():
                    entries = [
                        (encode_key(row, q, ts, typ, seq), value)
                        for row, q, ts, typ, value in items
                    ]
                    mem = stores[fam].active
                    mem.add_many(entries)
                    inserted.append((mem, [k for k, _ in entries]))
            except BaseException:
                self._roll_back(inserted)
                self.mvcc.complete(seq)
                raise
        try:
            if pos >= 0:
                self._wal.sync(pos, durability)
        except BaseException:
            # not logged (or not durably): the cells never become visible. Safe without
            # the update lock: the seq is not complete, so no reader sees them and a
            # flush that froze them waits (mvcc.wait_for) before reading its snapshot
            self._roll_back(inserted)
            self.mvcc.complete(seq)
            raise
        self.mvcc.complete(seq)
        self.mvcc.wait_for(seq)
        self.write_requests += len(mutations)
        return seq

    @staticmethod
    def _roll_back(inserted: list[tuple[MemStore, list[bytes]]]) -> None:
        for mem, keys in inserted:
            mem.remove_many(keys)

    def _wait_for_memstore_room(self) -> None:
        # hook set by the engine: blocks while the region is far over its flush size
        hook = getattr(self, "before_write", None)
        if hook is not None:
            hook(self)

    def increment(
        self,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], int]:
        """Add to 8-byte big-endian counters atomically; return the new values."""

        def compute(old: bytes | None, delta: int, fam: bytes, q: bytes) -> bytes:
            new = decode_counter(old, fam, q, row) + delta
            new = (new + (1 << 63)) % (1 << 64) - (1 << 63)  # Java long wrap-around
            return new.to_bytes(8, "big", signed=True)

        new = self._read_modify_write(row, amounts, compute, durability)
        return {k: int.from_bytes(v, "big", signed=True) for k, v in new.items()}

    def append(
        self,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], bytes]:
        """Append to cell values atomically; return the new values."""

        def compute(old: bytes | None, suffix: bytes, fam: bytes, q: bytes) -> bytes:
            return (old or b"") + suffix

        return self._read_modify_write(row, suffixes, compute, durability)

    def _read_modify_write(
        self,
        row: bytes,
        deltas: dict[tuple[bytes, bytes], Any],
        compute: Callable[[bytes | None, Any, bytes, bytes], bytes],
        durability: Durability,
    ) -> dict[tuple[bytes, bytes], bytes]:
        for fam, _q in deltas:
            self._store(fam)
        locks = self._lock_rows([row])
        try:
            now = self._clock.now_ms()
            ops: list[Put] = []
            result: dict[tuple[bytes, bytes], bytes] = {}
            for (fam, q), delta in deltas.items():
                spec = ReadSpec(columns={fam: frozenset([q])}, max_versions=1)
                cur = self.get(row, spec)
                old = cur[0].value if cur else None
                new_value = compute(old, delta, fam, q)
                # HBase uses max(current.ts + 1, now). We use max(current.ts, now): an
                # equal timestamp resolves to the later write (higher seq) anyway, and a
                # put made in the same millisecond after an increment is not shadowed by
                # a cell stamped 1 ms in the future (happybase's test_atomic_counters;
                # ../shared/reference/hbase-happybase.md section 2.7).
                ts = max(cur[0].timestamp, now) if cur else now
                ops.append(Put(fam, q, new_value, ts))
                result[(fam, q)] = new_value
            m = RowMutation(row, tuple(ops))
            self.mutate([m], durability, locked=True)
            return result
        finally:
            self._unlock(locks)

    def check_and_mutate(
        self,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Durability = Durability.SYNC_WAL,
    ) -> bool:
        """Apply ``mutation`` only if ``compare(current value or None)`` holds; atomic per row."""
        self._store(family)
        self.validate([mutation])
        locks = self._lock_rows([row])
        try:
            spec = ReadSpec(columns={family: frozenset([qualifier])}, max_versions=1)
            cur = self.get(row, spec)
            if not compare(cur[0].value if cur else None):
                return False
            if cur:
                # HBase: puts with LATEST ts get max(now, checked cell's ts)
                now = self._clock.now_ms()
                checked_ts = cur[0].timestamp
                if checked_ts > now:
                    ops = tuple(
                        Put(o.family, o.qualifier, o.value, checked_ts)
                        if isinstance(o, Put) and o.ts is None
                        else o
                        for o in mutation.ops
                    )
                    mutation = RowMutation(mutation.row, ops)
            self.mutate([mutation], durability, locked=True)
            return True
        finally:
            self._unlock(locks)

    # ---- reading -------------------------------------------------------------------------
    def _families_for(self, spec: ReadSpec) -> list[Store]:
        if spec.columns is None:
            return list(self.stores.values())
        out = []
        for fam in sorted(spec.columns):
            out.append(self._store(fam))
        return out

    def _rows(
        self,
        start: bytes,
        stop: bytes | None,
        spec: ReadSpec,
        read_point: int,
        now: int,
        *,
        row: bytes | None = None,
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        count = spec.filter is None
        gens = [
            resolve_family(
                s.merged(start, stop, row=row),
                s.family,
                s.cf,
                spec,
                read_point,
                now,
                count_versions=count,
            )
            for s in self._families_for(spec)
        ]
        if len(gens) == 1:
            return gens[0]
        return _merge_rows(gens)

    def _filtered(
        self,
        rows: Iterator[tuple[bytes, list[Cell]]],
        spec: ReadSpec,
        now: int,
        state: dict[str, Any] | None = None,
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Apply the spec's filter row by row (steps of hedgerow.model.filters.evaluate).

        ``state`` carries the per-family scanner positions across calls; when every
        family's position lies in a later row, ``state["restart"]`` is set to that
        row and iteration stops so the caller can seek there instead of reading the
        rows between.
        """
        filt = spec.filter
        if filt is None:
            yield from rows
            return
        limits = {
            s.family: (
                min(spec.max_versions, s.cf.max_versions),
                s.cf.min_versions,
                oldest_unexpired(s.cf, now),
            )
            for s in self.stores.values()
        }
        if state is None:
            state = {}
        positions: dict[bytes, tuple[bytes, bytes, bytes, int, int]] = state.setdefault(
            "positions", {}
        )
        n_families = len(self._families_for(spec))
        check_deadline = deadline.check  # hoisted: once per row
        for row, cells in rows:
            # a request's deadline stops a scan whose filter drops row after row
            # (issue 11 f6); outside an RPC request there is none and this returns
            check_deadline()
            if positions and not row_visible(cells, positions):
                continue
            if filt.filter_all_remaining():
                state["done"] = True
                return
            filt.reset()
            if filt.filter_row_key(row):
                if filt.filter_all_remaining():
                    state["done"] = True
                    return
                continue
            out, stop = apply_row_filter(filt, row, cells, VersionCounter(limits), positions)
            if out:
                yield row, out
            if stop or filt.filter_all_remaining():
                state["done"] = True
                return
            if len(positions) == n_families:
                nxt = min(p[0] for p in positions.values())
                # NEXT_ROW leaves positions at row + 0x00, which the next row passes anyway;
                # re-seeking every row would rebuild every source for nothing
                if nxt > row + b"\x00":
                    state["restart"] = nxt
                    return

    def get(self, row: bytes, spec: ReadSpec, *, read_point: int | None = None) -> list[Cell]:
        """The cells of one row (one bloom check and one block read per store file)."""
        if self.closed:
            raise RegionClosed(f"region {self.info.name} of table {self.table.name!r} is closed")
        deadline.check()  # a multi-get's rows each come here (issue 11 f6)
        rp = self.mvcc.read_point if read_point is None else read_point
        now = self._clock.now_ms()
        self.read_requests += 1
        if spec.filter is None:
            # fast path: no filter, so no _filtered/_merge_rows generators; each
            # family's row is read eagerly (Store.point_entries) and resolved, and the
            # families' cells are concatenated in _families_for order, as _merge_rows does
            start, stop = row_prefix(row), row_end(row)
            out: list[Cell] | None = None
            cols = spec.columns
            for s in self._families_for(spec):
                quals = None if cols is None else cols.get(s.family)
                entries = s.point_entries(row, start, stop, quals)
                if not entries:
                    continue
                for _r, cells in resolve_family(
                    entries, s.family, s.cf, spec, rp, now, count_versions=True
                ):
                    if out is None:
                        out = cells
                    else:
                        out.extend(cells)
            return [] if out is None else out
        rows = self._rows(row_prefix(row), row_end(row), spec, rp, now, row=row)
        for _r, cells in self._filtered(rows, spec, now):
            return cells
        return []

    def scan(
        self, rng: ScanRange, spec: ReadSpec, *, read_point: int | None = None
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows in ``rng`` within this region, in order (reverse when ``rng.reverse``)."""
        rp = self.mvcc.read_point if read_point is None else read_point
        now = self._clock.now_ms()
        if rng.reverse:
            yield from self._scan_reverse(rng, spec, rp, now)
            return
        start_row = rng.start
        if start_row is not None and self.info.start_key > start_row:
            start_row, start_incl = self.info.start_key, True
        else:
            start_incl = rng.start_inclusive
        if start_row is None or start_row == b"":
            start_key = row_prefix(self.info.start_key) if self.info.start_key else b""
        else:
            start_key = row_prefix(start_row) if start_incl else row_end(start_row)
        stop_keys = []
        if rng.stop is not None:
            stop_keys.append(row_end(rng.stop) if rng.stop_inclusive else row_prefix(rng.stop))
        if self.info.end_key:
            stop_keys.append(row_prefix(self.info.end_key))
        stop_key = min(stop_keys) if stop_keys else None
        state: dict[str, Any] = {}
        while True:
            rows = self._rows(start_key, stop_key, spec, rp, now)
            if spec.filter is None:  # fast path: no _filtered generator per row
                for item in rows:
                    self.read_requests += 1
                    yield item
                return
            for item in self._filtered(rows, spec, now, state):
                self.read_requests += 1
                yield item
            restart = state.pop("restart", None)
            if restart is None or state.get("done"):
                return
            start_key = row_prefix(restart)
            if stop_key is not None and start_key >= stop_key:
                return

    def _scan_reverse(
        self, rng: ScanRange, spec: ReadSpec, rp: int, now: int
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        # reverse: rng.start is the high end, rng.stop the low end (HBase semantics)
        if rng.start is None or rng.start == b"":
            upper = _MAX_KEY
        else:
            upper = row_end(rng.start) if rng.start_inclusive else row_prefix(rng.start)
        if self.info.end_key:
            upper = min(upper, row_prefix(self.info.end_key))
        lower: bytes | None = None
        if rng.stop:
            lower = row_prefix(rng.stop) if rng.stop_inclusive else row_end(rng.stop)
        if self.info.start_key:
            lk = row_prefix(self.info.start_key)
            lower = lk if lower is None else max(lower, lk)
        stores = self._families_for(spec)
        state: dict[str, Any] = {}
        while True:
            deadline.check()
            best: bytes | None = None
            for s in stores:
                k = s.last_row_key_before(upper)
                if k is not None and (best is None or k > best):
                    best = k
            if best is None or (lower is not None and best < lower):
                return
            row = row_of(best)
            upper = row_prefix(row)
            rows = self._rows(row_prefix(row), row_end(row), spec, rp, now, row=row)
            yield from self._filtered(rows, spec, now, state)
            state.pop("positions", None)  # forward hints mean nothing in reverse
            if state.get("done"):
                return

    def drop_orphan_families(self) -> None:
        """Forget store files of families the table no longer has (after ``alter``)."""
        if not self.orphan_families:
            return
        state = self._manifest.state
        removed = [
            (fam, number) for fam in self.orphan_families for number in state.files.get(fam, {})
        ]
        if removed:
            self._manifest.apply(VersionEdit(removed_files=removed))
        for fam in self.orphan_families:
            self.fs.rmtree(filenames.family_dir(self.dir, fam))
            log.info("region %s: dropped files of deleted family %r", self.info.name, fam)
        self.orphan_families = []

    # ---- split and merge support ----------------------------------------------------------
    def key_bounds(self) -> tuple[bytes, bytes | None]:
        """The internal-key range ``[start, stop)`` of this region's rows."""
        start = row_prefix(self.info.start_key) if self.info.start_key else b""
        stop = row_prefix(self.info.end_key) if self.info.end_key else None
        return start, stop

    def has_references(self) -> bool:
        """True while store files shared with a sibling after a split are still in use.

        Such a region is not split again or merged until a compaction rewrote them
        (HBase: a region with reference files cannot split or merge).
        """
        start, stop = self.key_bounds()
        return any(s.files_outside(start, stop) for s in self.stores.values())

    def size_bytes(self) -> int:
        """Bytes of store files (shared files counted whole)."""
        return sum(s.size_bytes() for s in self.stores.values())

    def mid_row(self) -> bytes | None:
        """A row near the middle of the region's data, strictly inside its range, or None."""
        best: Store | None = None
        for s in self.stores.values():
            if best is None or s.size_bytes() > best.size_bytes():
                best = s
        if best is None:
            return None
        key = best.mid_key()
        if key is None:
            return None
        row = row_of(key)
        if row <= self.info.start_key or (self.info.end_key and row >= self.info.end_key):
            return None
        return row

    def store_files(self) -> dict[bytes, list[tuple[FileMeta, str]]]:
        """Per family, the live store files and their paths (for split and merge)."""
        return {fam: s.file_paths() for fam, s in self.stores.items()}

    @staticmethod
    def create_from_files(
        fs: FileSystem,
        region_dir: str,
        info: RegionInfo,
        files: dict[bytes, list[tuple[FileMeta, str]]],
        flushed_seq: int,
        path_for: Callable[[str, bytes, int], str],
    ) -> None:
        """Lay out a new region directory whose stores start with links to existing files.

        Used by split (daughters share the parent's files; reads are bounded by each
        daughter's key range and compactions rewrite the files to it) and merge. The
        manifest edit written last is the region's first record; until the catalog
        names the region, the directory is an orphan that the next open removes.
        """
        fs.makedirs(region_dir)
        manifest = Manifest.open(fs, region_dir, create=True)
        try:
            added: list[FileMeta] = []
            for fam, entries in sorted(files.items()):
                for meta, src in entries:
                    number = manifest.allocate_file_number()
                    dst = path_for(region_dir, fam, number)
                    fs.makedirs(dst.rsplit("/", 1)[0])
                    fs.link(src, dst)
                    added.append(
                        FileMeta(
                            family=fam,
                            file_number=number,
                            size_bytes=meta.size_bytes,
                            entries=meta.entries,
                            first_key=meta.first_key,
                            last_key=meta.last_key,
                            min_seq=meta.min_seq,
                            max_seq=meta.max_seq,
                            min_ts=meta.min_ts,
                            max_ts=meta.max_ts,
                        )
                    )
            manifest.apply(
                VersionEdit(
                    added_files=added,
                    flushed_seq=flushed_seq,
                    next_file_number=manifest.peek_next_file_number(),
                    region_info=info.to_dict(),
                )
            )
        finally:
            manifest.close()

    # ---- flush -------------------------------------------------------------------------------
    def needs_flush(self, flush_size: int) -> bool:
        return self.memstore_size() >= flush_size

    def flush(self) -> bool:
        """Write every memstore to store files; returns False when there was nothing to flush."""
        return self._flush(allow_closed=False)

    def _flush(self, *, allow_closed: bool) -> bool:
        """The flush (the write-path contract, docs/design/storage.md): every snapshot
        waiting, those of earlier failed flushes included, goes into one new file per
        family; only after the manifest records them are the snapshots dropped and the
        WAL told. A failure changes nothing readers see: the snapshots stay and are
        flushed again (the region server retries with backoff), the WAL keeps their edits.
        Raises StorageError (StorageFull for a full disk)."""
        with self._flush_lock:
            if self.closed and not allow_closed:
                return False
            with self._update_lock:
                snaps: dict[bytes, list[MemStore]] = {}
                for fam, store in self.stores.items():
                    pending = store.freeze()
                    if pending:
                        snaps[fam] = pending
                flush_seq = self.mvcc.last_assigned
            if not snaps:
                return False
            self.mvcc.wait_for(flush_seq)
            now = self._clock.now_ms()
            added: dict[bytes, FileMeta] = {}
            opened: dict[bytes, list[StoreFile]] = {}
            try:
                for fam, mems in snaps.items():
                    number = self._manifest.allocate_file_number()
                    entries = merged_entries([m.iter_range() for m in reversed(mems)])
                    meta = self.stores[fam].write_file(entries, number, now)
                    if meta is not None:
                        added[fam] = meta
                        opened[fam] = self.stores[fam].open_new([meta])
                failpoints.hit("region.flush.before_manifest")
                self._manifest.apply(
                    VersionEdit(
                        added_files=list(added.values()),
                        flushed_seq=flush_seq,
                        next_file_number=self._manifest.peek_next_file_number(),
                    )
                )
            except Exception as e:
                for fam, files in opened.items():
                    self.stores[fam].discard_new(files)
                self._forget_unrecorded(list(added.values()))
                if not isinstance(e, OSError | StorageError):
                    raise  # a bug, not an I/O failure
                err = storage_error(e, f"flushing region {self.info.name}")
                log.error("%s; its memstore is kept and the flush will be retried", err)
                raise err from e
            failpoints.hit("region.flush.after_manifest")
            self._delete_unrecorded()
            for fam, mems in snaps.items():
                self.stores[fam].install(opened.get(fam, []), [], flushed=mems)
            self.flushed_seq = flush_seq
            self._wal.mark_flushed(self.info.name, flush_seq)
            with self._size_cond:
                self._size_cond.notify_all()
            return True

    def _forget_unrecorded(self, metas: list[FileMeta]) -> None:
        """Store files a failed flush or compaction wrote but the manifest does not list.
        Deleted now, or, if the failed manifest edit may still come back at a reopen
        (``Manifest.needs_rewrite``), after the next edit that succeeds."""
        paths = [self.stores[m.family].file_path(m.file_number) for m in metas]
        if self._manifest.needs_rewrite:
            with self._unrecorded_lock:
                self._unrecorded.extend(paths)
            return
        self._remove_unused(paths)

    def _delete_unrecorded(self) -> None:
        # after a successful manifest edit: no failed edit can come back any more
        with self._unrecorded_lock:
            paths, self._unrecorded = self._unrecorded, []
        self._remove_unused(paths)

    def _remove_unused(self, paths: list[str]) -> None:
        for path in paths:
            try:
                self.fs.remove(path)
            except OSError as e:  # no manifest names it: only space is lost
                log.warning("could not remove unused store file %s: %r", path, e)

    # ---- compaction --------------------------------------------------------------------------
    def needs_compaction(self, min_files: int) -> bool:
        return any(s.file_count() >= min_files for s in self.stores.values())

    def compact(
        self,
        *,
        major: bool,
        min_files: int,
        max_files: int,
        ratio: float,
    ) -> int:
        """Compact each store once; returns the number of stores compacted."""
        done = 0
        with self._compact_lock:
            if self.closed:
                return 0
            start, stop = self.key_bounds()
            for store in self.stores.values():
                outside = store.files_outside(start, stop)
                chosen = store.pick_compaction(
                    major=major,
                    min_files=min_files,
                    max_files=max_files,
                    ratio=ratio,
                    must_include=None if major else outside,
                )
                if not chosen:
                    continue
                try:
                    self._compact_store(store, chosen, major)
                except BaseException:
                    store.cancel_compaction(chosen)
                    raise
                done += 1
            if major:
                self.last_major_compaction_ms = self._clock.now_ms()
        return done

    def _compact_store(self, store: Store, chosen: list[FileMeta], major: bool) -> None:
        """Merge ``chosen`` into one new file. A failure changes nothing readers see (the
        inputs stay; the output, if any, is forgotten); raises StorageError."""
        now = self._clock.now_ms()
        number = self._manifest.allocate_file_number()
        pool = self.compaction_pool
        what = f"compacting family {store.family!r} of region {self.info.name}"
        meta: FileMeta | None = None
        try:
            if pool is None:
                entries = store.compaction_input(chosen, *self.key_bounds())
                entries = compaction_entries(entries, store.cf, major=major, now_ms=now)
                meta = store.write_file(entries, number, now)
            else:  # the merge loop runs in a worker process, off this process's GIL
                start, stop = self.key_bounds()
                meta = pool.run(
                    CompactionJob(
                        tuple(store.paths_of(chosen)),
                        start,
                        stop,
                        store.cf,
                        major,
                        now,
                        store.file_path(number),
                        number,
                    )
                )
            opened = store.open_new([meta] if meta else [])
        except OSError as e:
            if meta is not None:
                self._forget_unrecorded([meta])
            raise storage_error(e, what) from e
        try:
            failpoints.hit("region.compaction.before_manifest")
            self._manifest.apply(
                VersionEdit(
                    added_files=[meta] if meta else [],
                    removed_files=[(store.family, m.file_number) for m in chosen],
                    next_file_number=self._manifest.peek_next_file_number(),
                )
            )
        except Exception as e:
            store.discard_new(opened)
            self._forget_unrecorded([meta] if meta else [])
            if not isinstance(e, OSError | StorageError):
                raise
            raise storage_error(e, what) from e
        failpoints.hit("region.compaction.after_manifest")
        self._delete_unrecorded()
        store.install(opened, [m.file_number for m in chosen])


def _merge_rows(
    gens: list[Iterator[tuple[bytes, list[Cell]]]],
) -> Iterator[tuple[bytes, list[Cell]]]:
    import heapq

    cur: bytes | None = None
    acc: list[Cell] = []
    for row, cells in heapq.merge(*gens, key=lambda t: t[0]):
        if row != cur:
            if acc:
                yield cur, acc  # type: ignore[misc]
            cur = row
            acc = list(cells)
        else:
            acc.extend(cells)
    if acc:
        yield cur, acc  # type: ignore[misc]
