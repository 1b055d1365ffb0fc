"""Region: one key range of one table: a store per family, MVCC, row locks, flush, compaction.

Role: the engine (embedded now, the region server later) routes every read
and write for keys in ``[start_key, end_key)`` here. The region turns
mutations into cells, logs them in the shared WAL, inserts them into its
memstores and makes them visible atomically; it serves gets and scans through
``query_matcher``; it flushes memstores to store files and compacts them,
recording every file-set change in its manifest.
Layout: ``Region`` is assembled from mixins along the seams of this job:
``core.RegionCore`` (fields, locks, ``_store``, row locks), ``read_path.ReadPath``
(``get``, ``scan``), ``write_path.WritePath`` (``mutate`` and the read-modify-write
operations), ``maintenance.Maintenance`` (flush, compaction, split/merge support);
this module adds the lifecycle (``open``, ``replay``, ``close``) and re-exports
``RegionInfo`` (``info.py``). The owner passes ``before_write`` (called with the
region before every write batch) to ``open`` or the constructor.
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

from collections.abc import Callable

from hedgerow._internal.clock import Clock
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.info import RegionInfo
from hedgerow.region.maintenance import Maintenance
from hedgerow.region.write_path import WritePath
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.manifest import Manifest
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.version_edit import VersionEdit
from hedgerow.storage.wal import WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit

__all__ = ["Region", "RegionInfo"]


class Region(WritePath, Maintenance):
    """A key range of one table. Methods by purpose:

    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``scan``
    - maintenance: ``flush``, ``compact``, ``needs_flush``, ``needs_compaction``
    - lifecycle: ``open`` (classmethod), ``replay``, ``close``
    """

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
        before_write: Callable[[Region], None] | None = None,
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
            before_write=before_write,
        )

    def replay(self, edit: WalEdit) -> bool:
        """Apply a recovered WAL edit if it is newer than what is flushed; True if applied."""
        if edit.seq <= self.flushed_seq:
            return False
        per_family: dict[bytes, list[tuple[bytes, bytes, int, int, bytes]]] = {}
        for row, cells in edit.rows:
            for family, qualifier, ts, typ, value in cells:
                per_family.setdefault(family, []).append((row, qualifier, ts, typ, value))
        for family, items in per_family.items():
            store = self.stores.get(family)
            if store is not None:  # else: family deleted since
                store.active.add_cells(items, edit.seq)
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
