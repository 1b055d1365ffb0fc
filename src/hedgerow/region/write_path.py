"""The write path of a region: mutations, counters, appends, check-and-mutate.

Role: the writing half of ``Region`` (a mixin over ``ReadPath``: read-modify-write
operations read the row's current cells). A batch of row mutations becomes
cells (``_Cells``), is logged in the shared WAL and inserted into the memstores
under one sequence number, then made visible once the WAL sync returns.
Invariants: a row mutation's cells carry one sequence number and become
visible together; a write the WAL refuses (or fails to sync) leaves no trace in
the memstores and is never visible; writes to one row are serialised by its row
lock and are visible to readers before the lock is released (read-your-writes
across threads); the ``before_write`` hook runs before every batch.
Concurrency: row locks first, then ``_update_lock`` for seq assignment, WAL
append and memstore insertion; the WAL sync runs outside ``_update_lock``.
Hot path: ``mutate``; bench/engine.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self

from hedgerow.errors import RegionClosed
from hedgerow.model.cell import KeyType
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
from hedgerow.model.read_spec import ReadSpec
from hedgerow.region.read_path import ReadPath
from hedgerow.storage.memstore import MemStore
from hedgerow.storage.wal import Durability
from hedgerow.storage.wal_edit import WalEdit

__all__ = ["WritePath"]

_PUT = int(KeyType.PUT)


class _Cells:
    """Cells of one mutation batch, grouped per family, ready for memstore and WAL."""

    __slots__ = ("per_family", "wal_rows")

    def __init__(self) -> None:
        # family -> [(row, qualifier, ts, type, value)]
        self.per_family: dict[bytes, list[tuple[bytes, bytes, int, int, bytes]]] = {}
        self.wal_rows: list[tuple[bytes, list[tuple[bytes, bytes, int, int, bytes]]]] = []


class WritePath(ReadPath):
    """Writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``, ``validate``."""

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
            inserted: list[tuple[MemStore, list[tuple[bytes, bytes, int, int, bytes]]]] = []
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
                    mem = stores[fam].active
                    mem.add_cells(items, seq)  # keys encoded in the core, one call per family
                    inserted.append((mem, items))
            except BaseException:
                self._roll_back(inserted, seq)
                self.mvcc.complete(seq)
                raise
        try:
            if pos >= 0:
                self._wal.sync(pos, durability)
        except BaseException:
            # not logged (or not durably): the cells never become visible. Safe without
            # the update lock: the seq is not complete, so no reader sees them and a
            # flush that froze them waits (mvcc.wait_for) before reading its snapshot
            self._roll_back(inserted, seq)
            self.mvcc.complete(seq)
            raise
        self.mvcc.complete(seq)
        self.mvcc.wait_for(seq)
        self.write_requests += len(mutations)
        return seq

    @staticmethod
    def _roll_back(
        inserted: list[tuple[MemStore, list[tuple[bytes, bytes, int, int, bytes]]]], seq: int
    ) -> None:
        for mem, items in inserted:
            mem.remove_cells(items, seq)

    def _wait_for_memstore_room(self: Self) -> None:
        # the owner's hook (``before_write``): blocks while the region is far over its
        # flush size
        hook = self._before_write
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
                # the reference notes on happybase, section 2.7).
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
