"""Engine: everything behind one data directory: catalog, shared WAL, regions, background work.

Role: ``hedgerow.connect(path)`` builds one Engine and wraps it in the public
client API (through ``EmbeddedBackend``); the standalone region server will
host the same regions. The engine routes each request to the region whose
key range holds the row, runs flushes and compactions on background threads,
and recovers the directory at open.
Format: the directory layout is docs/design/files.md; the catalog is
docs/formats/catalog.md; WAL and manifest formats are in docs/formats/.
Recovery (numbered steps, docs/design/storage.md#recovery):
  1. take ``LOCK`` (a second process gets DirectoryLocked);
  2. load ``CATALOG``; open every region's manifest and store files;
  3. replay every WAL file in order, applying edits newer than each region's
     flushed sequence number (a torn last record is dropped; corruption
     elsewhere stops the open naming the file and offset, unless
     ``skip_corrupt_wal``);
  4. flush the regions that received edits, then let the WAL delete the old
     files; new writes go to a fresh WAL file.
Invariants: a region's directory exists iff the catalog lists it (orphans
left by a crash mid-DDL are removed at open).
Concurrency: ``_ddl_lock`` serialises catalog changes; ``_regions`` is
replaced copy-on-write under it, so readers route without locking.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from hedgerow._internal import failpoints
from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.engine.catalog import Catalog, RegionEntry, TableEntry
from hedgerow.engine.config import EngineConfig
from hedgerow.engine.meta import META_DESCRIPTOR, META_REGION, META_TABLE, MetaRegion, MetaTable
from hedgerow.errors import (
    ClosedError,
    CorruptionError,
    InvalidArgument,
    NotServingRegion,
    RegionClosed,
    TableDisabled,
    TableEnabled,
    TableExists,
    TableNotFound,
)
from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileLock, FileSystem, LocalFS
from hedgerow.storage.wal import Durability, WriteAheadLog, read_wal_dir

__all__ = ["Engine"]

log = logging.getLogger("hedgerow.engine")

_T = TypeVar("_T")
#: how often a request is routed again when its region closed under it
_RETRIES = 200


class _TableRegions:
    """The regions of one table, sorted by start key (immutable; replaced on change)."""

    __slots__ = ("regions", "starts", "index")

    def __init__(self, regions: list[Region]) -> None:
        self.regions = sorted(regions, key=lambda r: r.info.start_key)
        self.starts = [r.info.start_key for r in self.regions]
        #: region name -> position in ``regions``
        self.index = {r.info.name: i for i, r in enumerate(self.regions)}

    def for_row(self, row: bytes) -> Region:
        i = bisect.bisect_right(self.starts, row) - 1
        return self.regions[max(i, 0)]


class Engine:
    """One embedded data directory. Methods by purpose:

    - tables: ``create_table``, ``delete_table``, ``enable_table``, ``disable_table``,
      ``is_table_enabled``, ``table_names``, ``descriptor``, ``regions``
    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``scan``
    - maintenance: ``flush_table``, ``compact_table``, ``close``
    """

    def __init__(
        self,
        path: str,
        config: EngineConfig | None = None,
        *,
        clock: Clock | None = None,
        fs: FileSystem | None = None,
    ) -> None:
        self.path = path.rstrip("/") or "/"
        self.config = config or EngineConfig()
        self.clock: Clock = clock or SystemClock()
        self.fs: FileSystem = fs or LocalFS()
        self.fs.makedirs(self.path)
        self._lock_handle: FileLock | None = self.fs.lock(os.path.join(self.path, "LOCK"))
        self._closed = False
        #: the name clients see for the server hosting this directory's regions
        #: ("host:port" once a network server serves it)
        self.server_name = "local"
        self._ddl_lock = threading.RLock()
        self._catalog_path = os.path.join(self.path, "CATALOG")
        self.cache = BlockCache(self.config.block_cache_bytes)
        self._regions: dict[str, _TableRegions] = {}
        self._flush_queue: queue.Queue[Region | None] = queue.Queue()
        self._compact_queue: queue.Queue[Region | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._pending: set[tuple[str, str]] = set()
        self._pending_lock = threading.Lock()
        self._bg_error: BaseException | None = None
        try:
            self._open()
        except BaseException:
            self._release_lock()
            raise

    # ---- open / recovery ----------------------------------------------------------------
    def _open(self) -> None:
        fs = self.fs
        self.catalog = Catalog.load(fs, self._catalog_path)
        wal_dir = os.path.join(self.path, "wal")
        fs.makedirs(wal_dir)
        fs.makedirs(os.path.join(self.path, "tables"))
        # the new WAL file is numbered above every file an earlier process left
        self.wal = WriteAheadLog(fs, wal_dir, roll_size_bytes=self.config.wal_roll_bytes)
        first_new = filenames.parse_file_name(os.path.basename(self.wal.current_file))
        assert first_new is not None
        # step 2: the meta region first (its own WAL edits replayed), then the region map
        self._meta_region = self._open_region(
            META_DESCRIPTOR, RegionEntry(META_REGION, b"", b""), create=True
        )
        replayed_meta = False
        for _path, _offset, edit in read_wal_dir(
            fs, wal_dir, skip_corruption=self.config.skip_corrupt_wal
        ):
            if edit.region == META_REGION and self._meta_region.replay(edit):
                replayed_meta = True
        if replayed_meta:
            self._meta_region.flush()
        self.meta = MetaTable(self._meta_region)
        region_map, next_id = self.meta.load()
        stale = [r for t, rs in region_map.items() if t not in self.catalog.tables for r in rs]
        if stale:  # a create that crashed before its catalog write, or a finished delete
            log.warning("removing %d meta rows of tables the catalog does not list", len(stale))
            self.meta.write(remove=stale)
        ids = [next_id, self.catalog.next_region_id]
        for entry in self.catalog.tables.values():
            rows = region_map.get(entry.descriptor.name, [])
            if not rows:
                raise CorruptionError(
                    f"table {entry.descriptor.name!r} has no regions in hbase:meta",
                    self._catalog_path,
                )
            entry.regions = [RegionEntry(r.name, r.start_key, r.end_key) for r in rows]
            ids += [int(r.name) + 1 for r in rows if r.name.isdigit()]
        self.catalog.next_region_id = max(ids)
        # step 3: user regions
        by_name: dict[str, Region] = {}
        for entry in self.catalog.tables.values():
            regions = [self._open_region(entry.descriptor, r, create=False) for r in entry.regions]
            self._regions[entry.descriptor.name] = _TableRegions(regions)
            for r in regions:
                by_name[r.info.name] = r
                r.drop_orphan_families()
        self._remove_orphans()
        # step 4: replay the files earlier processes left
        replayed: set[str] = set()
        for _path, _offset, edit in read_wal_dir(
            fs, wal_dir, skip_corruption=self.config.skip_corrupt_wal
        ):
            region = by_name.get(edit.region)
            if region is not None and region.replay(edit):
                replayed.add(edit.region)
        self.wal.mark_flushed(META_REGION, self._meta_region.flushed_seq)
        for r in by_name.values():
            self.wal.mark_flushed(r.info.name, r.flushed_seq)
        # step 5: make the replayed data durable in store files, then drop old logs
        for name in sorted(replayed):
            by_name[name].flush()
        self.wal.delete_files_before(first_new[1])
        # daughters of a split that crashed before compacting them rewrite their shared
        # files; stores left with many files by the last run are compacted (HBase's
        # compaction checker); both in the background when background work is on
        for r in by_name.values():
            if r.has_references() or (
                self.config.background and r.needs_compaction(self.config.compaction_min_files)
            ):
                self._request("compact", r)
        if self.config.background:
            for kind in ("flush", "compact"):
                t = threading.Thread(
                    target=self._worker, args=(kind,), name=f"hedgerow-{kind}", daemon=True
                )
                t.start()
                self._threads.append(t)

    def _region_dir(self, table: str, region_name: str) -> str:
        return os.path.join(self.path, "tables", _table_dir(table), region_name)

    def _open_region(self, desc: TableDescriptor, entry: RegionEntry, *, create: bool) -> Region:
        info = RegionInfo(desc.name, entry.name, entry.start_key, entry.end_key)
        region = Region.open(
            self.fs,
            self._region_dir(desc.name, entry.name),
            info,
            desc,
            self.wal,
            self.cache,
            self.clock,
            lambda region_dir, family, n: filenames.store_file_path(region_dir, family, n),
            create=create,
            max_cell_bytes=self.config.max_cell_bytes,
        )
        region.before_write = self._before_write  # type: ignore[attr-defined]
        return region

    def _remove_orphans(self) -> None:
        tables_dir = os.path.join(self.path, "tables")
        known = {
            (_table_dir(t.descriptor.name), r.name)
            for t in self.catalog.tables.values()
            for r in t.regions
        }
        known.add((_table_dir(META_TABLE), META_REGION))
        known_tables = {k[0] for k in known}
        for tdir in self.fs.listdir(tables_dir):
            tpath = os.path.join(tables_dir, tdir)
            if tdir not in known_tables:
                log.warning("removing orphaned table directory %s", tpath)
                self.fs.rmtree(tpath)
                continue
            for rdir in self.fs.listdir(tpath):
                if (tdir, rdir) not in known:
                    log.warning("removing orphaned region directory %s/%s", tpath, rdir)
                    self.fs.rmtree(os.path.join(tpath, rdir))

    # ---- background work ----------------------------------------------------------------
    def _worker(self, kind: str) -> None:
        q = self._flush_queue if kind == "flush" else self._compact_queue
        while True:
            region = q.get()
            if region is None:
                return
            with self._pending_lock:
                self._pending.discard((kind, region.info.name))
            if region.closed:
                continue
            try:
                if kind == "flush":
                    region.flush()
                    self._maybe_compact(region)
                else:
                    self._compact(region, major=False)
                    self._maybe_split(region)
            except BaseException as e:  # keep serving; report on the next call
                log.exception("background %s of region %s failed", kind, region.info.name)
                self._bg_error = e

    def _request(self, kind: str, region: Region) -> None:
        if not self.config.background:
            if kind == "flush":
                region.flush()
                self._maybe_compact(region)
            else:
                self._compact(region, major=False)
                self._maybe_split(region)
            return
        key = (kind, region.info.name)
        with self._pending_lock:
            if key in self._pending:
                return
            self._pending.add(key)
        (self._flush_queue if kind == "flush" else self._compact_queue).put(region)

    def _maybe_compact(self, region: Region) -> None:
        if region.needs_compaction(self.config.compaction_min_files) or region.has_references():
            self._request("compact", region)
        else:
            self._maybe_split(region)

    def _maybe_split(self, region: Region) -> None:
        limit = self.config.region_split_bytes
        if limit <= 0 or region.closed or region.has_references() or region.size_bytes() < limit:
            return
        try:
            self.split_region(region.info.table, region.info.name)
        except (RegionClosed, TableNotFound, TableDisabled):
            pass  # the table changed meanwhile
        except InvalidArgument as e:
            log.info("region %s not split: %s", region.info.name, e)

    def _compact(self, region: Region, *, major: bool) -> None:
        cfg = self.config
        period = cfg.major_compaction_period_s
        if (
            not major
            and period > 0
            and self.clock.now_ms() - region.last_major_compaction_ms > period * 1000
            and region.last_major_compaction_ms > 0
        ):
            major = True
        region.compact(
            major=major,
            min_files=cfg.compaction_min_files,
            max_files=cfg.compaction_max_files,
            ratio=cfg.compaction_ratio,
        )
        if region.last_major_compaction_ms == 0:
            region.last_major_compaction_ms = self.clock.now_ms()

    def _before_write(self, region: Region) -> None:
        limit = self.config.flush_size_bytes * self.config.blocking_multiplier
        if region.memstore_size() < limit:
            return
        if not self.config.background:
            region.flush()
            return
        self._request("flush", region)
        with region._size_cond:
            while region.memstore_size() >= limit and not self._closed:
                self._request("flush", region)
                region._size_cond.wait(0.1)

    def _after_write(self, region: Region) -> None:
        if region.needs_flush(self.config.flush_size_bytes):
            self._request("flush", region)

    # ---- helpers ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"the data directory {self.path} has been closed")

    def _entry(self, table: str) -> TableEntry:
        entry = self.catalog.tables.get(table)
        if entry is None:
            raise TableNotFound(f"table {table!r} does not exist")
        return entry

    def _table_regions(self, table: str) -> _TableRegions:
        self._check_open()
        if table == META_TABLE:
            return _TableRegions([self._meta_region])
        entry = self._entry(table)
        if not entry.enabled:
            raise TableDisabled(f"table {table!r} is disabled")
        return self._regions[table]

    def _save_catalog(self) -> None:
        self.catalog.save(self.fs, self._catalog_path)

    # ---- tables ----------------------------------------------------------------------------
    def table_names(self) -> list[str]:
        self._check_open()
        return sorted(self.catalog.tables)

    def descriptor(self, table: str) -> TableDescriptor:
        self._check_open()
        if table == META_TABLE:
            return META_DESCRIPTOR
        return self._entry(table).descriptor

    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        """Create a table, pre-split into regions at ``split_keys`` (crash-safe)."""
        self._check_open()
        keys = sorted(set(split_keys))
        for k in keys:
            check_row(k)
        with self._ddl_lock:
            if desc.name in self.catalog.tables:
                raise TableExists(f"table {desc.name!r} already exists")
            bounds = [b"", *keys, b""]
            entries = []
            for i in range(len(bounds) - 1):
                name = f"{self.catalog.next_region_id:010d}"
                self.catalog.next_region_id += 1
                entries.append(RegionEntry(name, bounds[i], bounds[i + 1]))
            # region directories, then their meta rows, then the catalog: the catalog
            # write is the commit point (meta rows of an uncommitted table are removed
            # at open, and so are its directories)
            regions = [self._open_region(desc, e, create=True) for e in entries]
            rows = [MetaRegion(desc.name, e.name, e.start_key, e.end_key) for e in entries]
            try:
                failpoints.hit("engine.create_table.before_meta")
                self.meta.write(add=rows, next_region_id=self.catalog.next_region_id)
                failpoints.hit("engine.create_table.before_catalog")
                self.catalog.tables[desc.name] = TableEntry(desc, True, entries)
                try:
                    self._save_catalog()
                except BaseException:
                    del self.catalog.tables[desc.name]
                    raise
            except BaseException:
                for r in regions:
                    r.close(flush=False)
                raise
            self._regions[desc.name] = _TableRegions(regions)

    def delete_table(self, table: str) -> None:
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            if entry.enabled:
                raise TableEnabled(f"table {table!r} is enabled; disable it first")
            regions = self._regions.pop(table)
            del self.catalog.tables[table]
            self._save_catalog()  # commit point; the meta rows below are cleanup
            failpoints.hit("engine.delete_table.after_catalog")
            self.meta.write(
                remove=[MetaRegion(table, e.name, e.start_key, e.end_key) for e in entry.regions]
            )
            for r in regions.regions:
                r.close(flush=False)
                self.wal.forget_region(r.info.name)
            self.fs.rmtree(os.path.join(self.path, "tables", _table_dir(table)))

    def modify_table(self, desc: TableDescriptor) -> None:
        """Replace a table's column families: add, change options of, or delete families.

        The table's regions are flushed, closed and reopened with the new descriptor
        (reads and writes to the table pause meanwhile, as when HBase reopens regions).
        The catalog write is the commit point; files of deleted families are removed
        after it (or at the next open, after a crash).
        """
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(desc.name)
            old = self._regions[desc.name]
            for r in old.regions:
                r.close(flush=True)
            previous = entry.descriptor
            entry.descriptor = desc
            try:
                self._save_catalog()
            except BaseException:
                entry.descriptor = previous
                self._regions[desc.name] = _TableRegions(
                    [self._open_region(previous, e, create=False) for e in entry.regions]
                )
                raise
            regions = [self._open_region(desc, e, create=False) for e in entry.regions]
            for r in regions:
                r.drop_orphan_families()
            self._regions[desc.name] = _TableRegions(regions)

    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        """Remove every row of a table, keeping its families (and region splits if asked).

        Like HBase's ``truncate``/``truncate_preserve``: new empty regions replace the
        old ones in one catalog write; the old region directories are deleted after it.
        """
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            old = self._regions[table]
            keys = [e.start_key for e in entry.regions[1:]] if preserve_splits else []
            bounds = [b"", *keys, b""]
            entries = []
            for i in range(len(bounds) - 1):
                name = f"{self.catalog.next_region_id:010d}"
                self.catalog.next_region_id += 1
                entries.append(RegionEntry(name, bounds[i], bounds[i + 1]))
            regions = [self._open_region(entry.descriptor, e, create=True) for e in entries]
            old_entries = entry.regions
            try:
                failpoints.hit("engine.truncate.before_meta")
                self.meta.write(
                    add=[MetaRegion(table, e.name, e.start_key, e.end_key) for e in entries],
                    remove=[MetaRegion(table, e.name, e.start_key, e.end_key) for e in old_entries],
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                for r in regions:
                    r.close(flush=False)
                raise
            failpoints.hit("engine.truncate.after_meta")
            entry.regions = entries
            self._regions[table] = _TableRegions(regions)
            for r in old.regions:
                r.close(flush=False)
                self.wal.forget_region(r.info.name)
                self.fs.rmtree(self._region_dir(table, r.info.name))

    # ---- split and merge ------------------------------------------------------------------
    def _new_region_entry(self, start: bytes, end: bytes) -> RegionEntry:
        name = f"{self.catalog.next_region_id:010d}"
        self.catalog.next_region_id += 1
        return RegionEntry(name, start, end)

    def _find_region(self, tr: _TableRegions, name: str) -> int:
        i = tr.index.get(name)
        if i is None:
            raise InvalidArgument(f"table {tr.regions[0].info.table!r} has no region {name!r}")
        return i

    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        """Split a region in two at ``split_row`` (default: its middle row).

        Without ``region_name`` the region holding ``split_row`` is split, or, when no
        row is given either, the largest region. Steps (docs/design/region-lifecycle.md):
        flush and close the parent; create both daughters' directories with links to
        the parent's store files; one catalog write replaces the parent by the
        daughters (the commit point); open the daughters; delete the parent's
        directory. A crash before the catalog write leaves the parent (daughter
        directories are orphans removed at open); after it, the daughters. Returns
        the daughters' names.
        """
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            if not entry.enabled:
                raise TableDisabled(f"table {table!r} is disabled")
            tr = self._regions[table]
            if region_name is not None:
                idx = self._find_region(tr, region_name)
            elif split_row is not None:
                idx = tr.regions.index(tr.for_row(split_row))
            else:
                idx = max(range(len(tr.regions)), key=lambda i: tr.regions[i].size_bytes())
            parent = tr.regions[idx]
            info = parent.info
            if parent.has_references():
                self._compact(parent, major=False)
            if parent.has_references():
                raise InvalidArgument(
                    f"region {info.name} still shares store files with its sibling from an "
                    "earlier split; compact it first"
                )
            if split_row is None:
                parent.flush()
                split_row = parent.mid_row()
                if split_row is None:
                    raise InvalidArgument(f"region {info.name} has no middle row to split at")
            check_row(split_row)
            if split_row <= info.start_key or (info.end_key and split_row >= info.end_key):
                raise InvalidArgument(
                    f"split row {split_row!r} is not inside region {info.name} "
                    f"[{info.start_key!r}, {info.end_key!r})"
                )
            failpoints.hit("engine.split.before_close")
            parent.close(flush=True)
            try:
                files = parent.store_files_snapshot
                left = self._new_region_entry(info.start_key, split_row)
                right = self._new_region_entry(split_row, info.end_key)
                for d in (left, right):
                    Region.create_from_files(
                        self.fs,
                        self._region_dir(table, d.name),
                        RegionInfo(table, d.name, d.start_key, d.end_key),
                        files,
                        parent.flushed_seq,
                        filenames.store_file_path,
                    )
                    failpoints.hit("engine.split.after_daughter")
                failpoints.hit("engine.split.before_meta")
                self.meta.write(
                    add=[MetaRegion(table, d.name, d.start_key, d.end_key) for d in (left, right)],
                    remove=[MetaRegion(table, info.name, info.start_key, info.end_key)],
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                self._reopen_after_failure(table, entry, tr, idx)
                raise
            failpoints.hit("engine.split.after_meta")
            regions_before = entry.regions
            entry.regions = [*regions_before[:idx], left, right, *regions_before[idx + 1 :]]
            daughters = [
                self._open_region(entry.descriptor, e, create=False) for e in (left, right)
            ]
            self._regions[table] = _TableRegions(
                [*tr.regions[:idx], *daughters, *tr.regions[idx + 1 :]]
            )
            self.wal.forget_region(info.name)
            self.fs.rmtree(self._region_dir(table, info.name))
            log.info(
                "split region %s of %s at %r into %s and %s",
                info.name,
                table,
                split_row,
                left.name,
                right.name,
            )
            for daughter in daughters:
                self._request("compact", daughter)
            return left.name, right.name

    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        """Merge two adjacent regions into one; returns the new region's name.

        Both must be free of files shared from an earlier split (they are compacted
        first if not). Steps mirror ``split_region``: flush and close both, create the
        merged directory with links to both regions' files, one catalog write (commit
        point), open, delete the old directories.
        """
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            if not entry.enabled:
                raise TableDisabled(f"table {table!r} is disabled")
            tr = self._regions[table]
            ia, ib = sorted((self._find_region(tr, region_a), self._find_region(tr, region_b)))
            if ib != ia + 1:
                raise InvalidArgument(
                    f"regions {region_a} and {region_b} of table {table!r} are not adjacent"
                )
            a, b = tr.regions[ia], tr.regions[ib]
            for r in (a, b):
                if r.has_references():
                    self._compact(r, major=False)
                if r.has_references():
                    raise InvalidArgument(
                        f"region {r.info.name} still shares store files with a sibling"
                    )
            failpoints.hit("engine.merge.before_close")
            a.close(flush=True)
            b.close(flush=True)
            try:
                merged = self._new_region_entry(a.info.start_key, b.info.end_key)
                files: dict[bytes, list[tuple[Any, str]]] = {}
                for r in (a, b):
                    for fam, lst in r.store_files_snapshot.items():
                        files.setdefault(fam, []).extend(lst)
                Region.create_from_files(
                    self.fs,
                    self._region_dir(table, merged.name),
                    RegionInfo(table, merged.name, merged.start_key, merged.end_key),
                    files,
                    max(a.flushed_seq, b.flushed_seq),
                    filenames.store_file_path,
                )
                failpoints.hit("engine.merge.before_meta")
                self.meta.write(
                    add=[MetaRegion(table, merged.name, merged.start_key, merged.end_key)],
                    remove=[
                        MetaRegion(table, r.info.name, r.info.start_key, r.info.end_key)
                        for r in (a, b)
                    ],
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                self._reopen_after_failure(table, entry, tr, ia, ib)
                raise
            failpoints.hit("engine.merge.after_meta")
            regions_before = entry.regions
            entry.regions = [*regions_before[:ia], merged, *regions_before[ib + 1 :]]
            region = self._open_region(entry.descriptor, merged, create=False)
            self._regions[table] = _TableRegions([*tr.regions[:ia], region, *tr.regions[ib + 1 :]])
            for r in (a, b):
                self.wal.forget_region(r.info.name)
                self.fs.rmtree(self._region_dir(table, r.info.name))
            return merged.name

    def _reopen_after_failure(
        self, table: str, entry: TableEntry, tr: _TableRegions, *indexes: int
    ) -> None:
        """A split or merge failed before its commit: serve the old regions again."""
        known = {e.name for e in entry.regions}
        regions = list(tr.regions)
        for i in indexes:
            old = tr.regions[i]
            if old.closed and old.info.name in known:
                e = next(x for x in entry.regions if x.name == old.info.name)
                regions[i] = self._open_region(entry.descriptor, e, create=False)
        self._regions[table] = _TableRegions(regions)
        self._remove_orphans()

    def enable_table(self, table: str) -> None:
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            if entry.enabled:
                # HBase: TableNotDisabledException
                raise TableEnabled(f"table {table!r} is already enabled")
            entry.enabled = True
            self._save_catalog()

    def disable_table(self, table: str) -> None:
        self._check_open()
        with self._ddl_lock:
            entry = self._entry(table)
            if not entry.enabled:
                # HBase: TableNotEnabledException
                raise TableDisabled(f"table {table!r} is already disabled")
            for r in self._regions[table].regions:
                r.flush()
            entry.enabled = False
            self._save_catalog()

    def is_table_enabled(self, table: str) -> bool:
        self._check_open()
        return self._entry(table).enabled

    def regions(self, table: str) -> list[RegionInfo]:
        self._check_open()
        self._entry(table)
        return [r.info for r in self._regions[table].regions]

    # ---- writing -----------------------------------------------------------------------------
    def _retry(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn``, routing again when its region closed under it (alter, truncate)."""
        for _ in range(_RETRIES):
            try:
                return fn()
            except RegionClosed:
                if self._closed:
                    raise
                time.sleep(0.01)
        return fn()

    def mutate(
        self,
        table: str,
        mutations: Sequence[RowMutation],
        durability: Durability = Durability.SYNC_WAL,
    ) -> None:
        """Apply row mutations; atomic per row (and per region batch)."""
        try:  # fast path: no closure, no retry loop
            self._mutate(table, mutations, durability)
        except RegionClosed:
            if self._closed:
                raise
            time.sleep(0.01)
            self._retry(lambda: self._mutate(table, mutations, durability))

    def _mutate(
        self,
        table: str,
        mutations: Sequence[RowMutation],
        durability: Durability,
    ) -> None:
        _refuse_meta(table)
        self._raise_bg_error()
        tr = self._table_regions(table)
        for m in mutations:
            check_row(m.row)
        if len(tr.regions) == 1:
            groups = {0: list(mutations)}
        else:
            groups = {}
            for m in mutations:
                i = bisect.bisect_right(tr.starts, m.row) - 1
                groups.setdefault(max(i, 0), []).append(m)
        # validate everything before writing anything
        for i, ms in groups.items():
            tr.regions[i].validate(ms)
        for i, ms in groups.items():
            region = tr.regions[i]
            region.mutate(ms, durability, validated=True)
            self._after_write(region)

    def _row_write(self, table: str, row: bytes, op: Callable[[Region], _T]) -> _T:
        """A read-modify-write of one row on the region holding it (routed again when that
        region closes), then the flush check every write gets."""
        check_row(row)
        _refuse_meta(table)

        def run() -> _T:
            region = self._table_regions(table).for_row(row)
            out = op(region)
            self._after_write(region)
            return out

        return self._retry(run)

    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], int]:
        return self._row_write(table, row, lambda r: r.increment(row, amounts, durability))

    def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], bytes]:
        return self._row_write(table, row, lambda r: r.append(row, suffixes, durability))

    def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Durability = Durability.SYNC_WAL,
    ) -> bool:
        return self._row_write(
            table,
            row,
            lambda r: r.check_and_mutate(row, family, qualifier, compare, mutation, durability),
        )

    # ---- reading -----------------------------------------------------------------------------
    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        check_row(row)
        try:  # fast path: no closure, no retry loop
            return self._table_regions(table).for_row(row).get(row, spec)
        except RegionClosed:
            if self._closed:
                raise
            time.sleep(0.01)
            return self._retry(lambda: self._table_regions(table).for_row(row).get(row, spec))

    def check_region(self, table: str, region: str, rows: Sequence[bytes]) -> None:
        """Raise NotServingRegion unless ``region`` of ``table`` is open and holds ``rows``."""
        tr = self._table_regions(table)
        i = tr.index.get(region)
        if i is not None:
            r = tr.regions[i]
            if not r.closed and all(r.info.contains(row) for row in rows):
                return
        raise _not_serving(table, region)

    def region_locations(self, table: str) -> list[tuple[RegionInfo, str]]:
        """The table's regions in key order, each with the name of the server hosting it."""
        return [(info, self.server_name) for info in self.regions(table)]

    def scan_region(
        self, table: str, region: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows of ``rng`` inside one region only (a region-addressed scan, RFC 0001).

        Raises NotServingRegion when the region is not open here, at the call or later
        when it closes mid-scan (split, merge, alter): the client looks the table up
        again and resumes after the last row it received.
        """
        tr = self._table_regions(table)
        i = tr.index.get(region)
        r = tr.regions[i] if i is not None else None
        if r is None or r.closed:
            raise _not_serving(table, region)
        if spec.filter is not None and rng.reverse:
            spec.filter.set_reversed(True)
        return self._scan_one_region(r, rng, spec)

    def _scan_one_region(
        self, region: Region, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        try:
            yield from region.scan(rng, spec)
        except RegionClosed:
            raise _not_serving(region.info.table, region.info.name) from None

    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        """Several rows in one call: each row's cells in request order (a fresh filter each)."""
        for row in rows:
            check_row(row)
        proto = spec.filter
        out: list[list[Cell]] = []
        for row in rows:
            s = spec if proto is None else dataclasses.replace(spec, filter=copy.deepcopy(proto))
            out.append(self._get_one(table, row, s))
        return out

    def _get_one(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return self._retry(lambda: self._table_regions(table).for_row(row).get(row, spec))

    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows of the table in ``rng``, across regions, in order.

        If a region closes mid-scan (alter, truncate), the scan resumes after the last
        row it returned, on the regions that replaced it.
        """
        self._table_regions(table)  # a missing or disabled table fails here, not at next()
        if spec.filter is not None and rng.reverse:
            spec.filter.set_reversed(True)
        return self._scan_retrying(table, rng, spec)

    def _scan_retrying(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        last: bytes | None = None
        for attempt in range(_RETRIES + 1):
            cur = rng
            if last is not None:
                cur = ScanRange(last, False, rng.stop, rng.stop_inclusive, rng.reverse, rng.extra)
            try:
                for row, cells in self._scan(table, cur, spec):
                    last = row
                    yield row, cells
                return
            except RegionClosed:
                if self._closed or attempt == _RETRIES:
                    raise
                time.sleep(0.01)

    def _scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        tr = self._table_regions(table)
        regions = tr.regions if not rng.reverse else tr.regions[::-1]
        for region in regions:
            info = region.info
            if not rng.reverse:
                if rng.stop is not None and info.start_key and info.start_key > rng.stop:
                    break
                if rng.start is not None and info.end_key and info.end_key <= rng.start:
                    continue
            else:
                if rng.start and info.start_key and info.start_key > rng.start:
                    continue
                if rng.stop is not None and info.end_key and info.end_key <= rng.stop:
                    break
            yield from region.scan(rng, spec)
            filt = spec.filter
            if filt is not None and filt.filter_all_remaining():
                return

    # ---- maintenance -------------------------------------------------------------------------
    def flush_table(self, table: str) -> None:
        self._check_open()
        self._entry(table)
        for r in self._regions[table].regions:
            r.flush()

    def compact_table(self, table: str, *, major: bool = False) -> None:
        """Flush, then compact every region of the table (synchronously)."""
        self._check_open()
        self._entry(table)
        for r in self._regions[table].regions:
            if major:
                r.flush()
            self._compact(r, major=major)

    def _raise_bg_error(self) -> None:
        err = self._bg_error
        if err is not None:
            self._bg_error = None
            raise InvalidArgument(f"a background flush or compaction failed: {err}") from err

    def status(self) -> dict[str, Any]:
        """What is being served: tables, regions with their sizes and request counts, cache."""
        self._check_open()
        regions = []
        for table, tr in sorted(self._regions.items()):
            for r in tr.regions:
                regions.append(
                    {
                        "table": table,
                        "name": r.info.name,
                        "start_key": r.info.start_key,
                        "end_key": r.info.end_key,
                        "server": "embedded",
                        "memstore_bytes": r.memstore_size(),
                        "store_file_bytes": r.size_bytes(),
                        "store_files": sum(s.file_count() for s in r.stores.values()),
                        "read_requests": r.read_requests,
                        "write_requests": r.write_requests,
                    }
                )
        return {
            "servers": [{"name": "embedded", "path": self.path, "regions": len(regions)}],
            "tables": len(self.catalog.tables),
            "regions": regions,
            "block_cache": self.cache.stats(),
        }

    def stats(self) -> dict[str, Any]:
        return {
            "block_cache": self.cache.stats(),
            "regions": sum(len(t.regions) for t in self._regions.values()),
        }

    # ---- close ---------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        try:
            if self._threads:
                self._flush_queue.put(None)
                self._compact_queue.put(None)
                for t in self._threads:
                    t.join()
            for tr in self._regions.values():
                for r in tr.regions:
                    r.close(flush=True)
            self._meta_region.close(flush=True)
            self.wal.close()
        finally:
            self._closed = True
            self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.release()
            self._lock_handle = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_serving(table: str, region: str) -> NotServingRegion:
    return NotServingRegion(
        f"region {region} of table {table!r} is not served here "
        "(split, merged or moved); look it up again"
    )


def _refuse_meta(table: str) -> None:
    if table == META_TABLE:
        raise InvalidArgument(f"{META_TABLE} is maintained by Hedgerow and is read-only")


def _table_dir(table: str) -> str:
    # namespace separator ':' is not portable in file names
    return table.replace(":", "%3A")
