"""RegionCore: the state every part of a Region shares, and the helpers they all use.

Role: the base of ``Region`` (hedgerow.region.region). ``__init__`` opens one
``Store`` per family from the manifest's file set, sets up MVCC and the locks;
``read_path``, ``write_path`` and ``maintenance`` add the reads, the writes and
flush/compaction/split support on top of these fields. Nothing constructs a
RegionCore except through ``Region``.
Invariants: ``stores`` holds exactly the table's families (files of families
the table no longer has are listed in ``orphan_families`` until
``drop_orphan_families``); ``flushed_seq`` <= every seq still only in memstores
or the WAL; ``mvcc`` starts above every seq in the store files.
Concurrency: ``_update_lock`` orders sequence assignment, memstore insertion
and WAL append; row locks (``_lock_rows``, 256 stripes taken in stripe order)
serialise read-modify-write per row; ``_flush_lock`` allows one flush at a
time, ``_compact_lock`` one compaction; ``_size_cond`` is notified after every
flush (writers blocked by ``before_write`` wait on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Self

from hedgerow._internal.clock import Clock
from hedgerow.errors import FamilyNotFound
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.compaction import CompactionPool
from hedgerow.region.info import RegionInfo
from hedgerow.region.mvcc import MVCC
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.manifest import Manifest
from hedgerow.storage.store import Store
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.version_edit import FileMeta
from hedgerow.storage.wal import WriteAheadLog

__all__ = ["RegionCore"]

_STRIPES = 256


class RegionCore:
    """Fields and shared helpers of a Region (see ``Region`` for the methods by purpose)."""

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
        before_write: Callable[[Self], None] | None = None,
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
        #: run before every write batch, with the region (the region server's
        #: ``_before_write``: blocks while the memstore is at its blocking size)
        self._before_write: Callable[[Self], None] | None = before_write
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
