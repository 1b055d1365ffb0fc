"""The region server role: hosts regions and serves their reads and writes.

Role: HBase's HRegionServer. It owns what every hosted region shares: one
write-ahead log (group commit across concurrent writers, docs/formats/wal.md),
the block cache, the table cache (at most ``max_open_files`` open store-file
handles), the background flush and compaction threads and, with the
``compaction_processes`` option, the worker processes compactions run in. It keeps the
map of *online* regions (per table, sorted by start key) and routes each row
to the region whose range holds it. It does not decide which regions exist:
the master (``hedgerow.engine.master``) opens and closes regions on it
(``open_region``, ``set_online``, ``set_offline``, ``close_region``) while
running DDL and split/merge procedures, and the server asks the master back
through two callbacks: ``table_missing`` (why a table has no online regions:
unknown or disabled) and ``request_split`` (a region outgrew
``region_split_bytes``; HBase's RS-initiated split request to the master).
Recovery (called by the master at open, docs/design/storage.md#recovery):
``start_wal`` numbers a fresh log above every file left behind;
``open_meta`` opens ``hbase:meta`` and replays its edits; after the master
opened the user regions, ``recover`` replays the old logs into them, flushes
what was replayed (a failed flush is retried in the background; the old logs stay
until their regions flushed past them) and starts the background threads.
Disk errors (docs/design/storage.md, "The write path's contract"): a failed
background flush is retried with backoff and logged, never reported to another
request; writers see ``RegionTooBusy``/``StorageFull`` only once a region that
cannot flush reaches its blocking size (``_before_write``).
Meta (``open_meta``) is a region like the others for flushes and compactions:
the master flushes it after each change and hands it to ``after_flush``, which
compacts it when it has ``compaction_min_files`` files; it is never split and
never written by clients (``refuse_meta``).
Invariants: a request only ever touches an online region; a region closed
under a request raises ``RegionClosed`` and the request is routed again
(every 10 ms, up to 200 times) against the new region list, so callers never
see a split. ``_online`` is replaced copy-on-write, so readers route without
locking.
Concurrency: thread-safe; writes take only the region's short update lock.
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
from typing import Any, NoReturn, TypeVar

from hedgerow._internal.clock import Clock
from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.config import EngineConfig, max_open_files
from hedgerow.engine.meta import (
    META_DESCRIPTOR,
    META_REGION,
    META_TABLE,
    is_reserved,
    refuse_reserved,
)
from hedgerow.errors import (
    ClosedError,
    InvalidArgument,
    NotServingRegion,
    RegionClosed,
    RegionTooBusy,
    StorageError,
    StorageFull,
    TableDisabled,
    TableNotFound,
)
from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.compaction import CompactionPool
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem, LocalFS
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.wal import Durability, WriteAheadLog, read_wal_dir

__all__ = ["RegionServer", "TableRegions", "table_dir"]

log = logging.getLogger("hedgerow.regionserver")

_T = TypeVar("_T")
#: how often a request is routed again when its region closed under it
_RETRIES = 200


class TableRegions:
    """The online regions of one table, sorted by start key (immutable; replaced on change)."""

    __slots__ = ("regions", "starts", "index")

    def __init__(self, regions: list[Region]) -> None:
        self.regions = sorted(regions, key=lambda r: r.info.start_key)
        self.starts = [r.info.start_key for r in self.regions]
        #: region name -> position in ``regions``
        self.index = {r.info.name: i for i, r in enumerate(self.regions)}

    def for_row(self, row: bytes) -> Region:
        i = bisect.bisect_right(self.starts, row) - 1
        return self.regions[max(i, 0)]


def _no_table(table: str) -> NoReturn:
    raise TableNotFound(f"table {table!r} does not exist")


class RegionServer:
    """Hosts regions of many tables. Methods by purpose:

    - region hosting (called by the master): ``start_wal``, ``open_meta``,
      ``open_region``, ``recover``, ``online``, ``set_online``, ``set_offline``,
      ``close_region``, ``forget_region``, ``compact_region``, ``request_compaction``
    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``get_many``, ``scan``, ``check_region``
    - reporting and shutdown: ``status``, ``requests``, ``close``
    """

    def __init__(
        self,
        root: str,
        config: EngineConfig,
        clock: Clock,
        fs: FileSystem,
        *,
        name: str = "local",
    ) -> None:
        self.root = root
        self.config = config
        self.clock = clock
        self.fs = fs
        #: how clients and meta name this server ("local" embedded, "host:port" when served)
        self.name = name
        #: when this server started, in ms (HBase's server start code)
        self.start_code = clock.now_ms()
        self.cache = BlockCache(config.block_cache_bytes)
        #: every hosted store's file handles, at most ``max_open_files`` open at once
        self.table_cache = TableCache(fs, max_open_files(config))
        if config.compaction_processes and not isinstance(fs, LocalFS):
            raise InvalidArgument(
                "compaction_processes needs the local file system (worker processes open "
                f"the store files by path); got {type(fs).__name__}"
            )
        self.compaction_pool = (
            CompactionPool(config.compaction_processes) if config.compaction_processes else None
        )
        self.wal: WriteAheadLog
        self.meta_region: Region
        #: set by the master: raises why ``table`` has no online regions here
        self.table_missing: Callable[[str], NoReturn] = _no_table
        #: set by the master: split this region (table, region name)
        self.request_split: Callable[[str, str], object] | None = None
        self._online: dict[str, TableRegions] = {}
        self._closed = False
        self._flush_queue: queue.Queue[Region | None] = queue.Queue()
        self._compact_queue: queue.Queue[Region | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._pending: set[tuple[str, str]] = set()
        self._pending_lock = threading.Lock()
        # region name -> (current retry delay s, last error, its number in
        # _failed_flushes) while its flushes fail
        self._flush_failures: dict[str, tuple[float, StorageError, int]] = {}
        self._failed_flushes = 0  # failed flushes so far (any region)

    # ---- hosting regions (the master's side) ----------------------------------------------
    @property
    def wal_dir(self) -> str:
        return os.path.join(self.root, "wal")

    def start_wal(self) -> None:
        """Open a fresh WAL file numbered above every file an earlier process left."""
        self.fs.makedirs(self.wal_dir)
        # (the log's repair back-off runs on real time, not on the engine's cell clock)
        self.wal = WriteAheadLog(self.fs, self.wal_dir, roll_size_bytes=self.config.wal_roll_bytes)

    def open_meta(self) -> Region:
        """Open ``hbase:meta`` and replay its edits from the old logs (recovery step 2)."""
        region = self.open_region(META_DESCRIPTOR, RegionEntry(META_REGION, b"", b""), create=True)
        replayed = False
        for _path, _offset, edit in read_wal_dir(
            self.fs, self.wal_dir, skip_corruption=self.config.skip_corrupt_wal
        ):
            if edit.region == META_REGION and region.replay(edit):
                replayed = True
        self.meta_region = region
        if replayed:
            self._run_background("flush", region)
        return region

    def region_dir(self, table: str, region_name: str) -> str:
        return os.path.join(self.root, "tables", table_dir(table), region_name)

    def open_region(self, desc: TableDescriptor, entry: RegionEntry, *, create: bool) -> Region:
        """Open (or create) one region; it serves nothing until ``set_online``."""
        info = RegionInfo(desc.name, entry.name, entry.start_key, entry.end_key)
        region = Region.open(
            self.fs,
            self.region_dir(desc.name, entry.name),
            info,
            desc,
            self.wal,
            self.cache,
            self.clock,
            lambda region_dir, family, n: filenames.store_file_path(region_dir, family, n),
            create=create,
            max_cell_bytes=self.config.max_cell_bytes,
            table_cache=self.table_cache,
            before_write=self._before_write,
        )
        region.compaction_pool = self.compaction_pool
        return region

    def recover(self, regions: Sequence[Region]) -> None:
        """Replay the old logs into ``regions``, make that durable, drop the old logs,
        then start background work (recovery steps 4 and 5)."""
        by_name = {r.info.name: r for r in regions}
        replayed: set[str] = set()
        seen: set[str] = set()
        # through the log manager, which learns which regions each old file holds: a file
        # is deleted only once they all flushed past it (or are gone), so a flush that
        # fails here (a full disk) loses nothing and does not stop the open
        for _path, _offset, edit in self.wal.recover(skip_corruption=self.config.skip_corrupt_wal):
            seen.add(edit.region)
            region = by_name.get(edit.region)
            if region is not None and region.replay(edit):
                replayed.add(edit.region)
        self.wal.mark_flushed(META_REGION, self.meta_region.flushed_seq)
        for r in regions:
            self.wal.mark_flushed(r.info.name, r.flushed_seq)
        for name in sorted(seen - set(by_name) - {META_REGION}):
            self.wal.forget_region(name)  # regions deleted, split or merged since
        for name in sorted(replayed):
            self._run_background("flush", by_name[name])
        # daughters of a split that crashed before compacting them rewrite their shared
        # files; stores left with many files by the last run are compacted (HBase's
        # compaction checker); both in the background when background work is on
        for r in [self.meta_region, *regions]:
            if r.has_references() or (
                self.config.background and r.needs_compaction(self.config.compaction_min_files)
            ):
                self.request_compaction(r)
        if self.config.background:
            for kind in ("flush", "compact"):
                t = threading.Thread(
                    target=self._worker, args=(kind,), name=f"hedgerow-{kind}", daemon=True
                )
                t.start()
                self._threads.append(t)

    def online(self, table: str) -> TableRegions | None:
        """The table's online regions, or None when none is served here."""
        return self._online.get(table)

    def online_tables(self) -> dict[str, TableRegions]:
        return dict(self._online)

    def set_online(self, table: str, regions: list[Region]) -> TableRegions:
        """Serve exactly ``regions`` for ``table`` from now on (one atomic switch)."""
        tr = TableRegions(regions)
        self._online[table] = tr
        return tr

    def set_offline(self, table: str) -> TableRegions | None:
        """Stop routing to the table's regions (they stay open until closed)."""
        return self._online.pop(table, None)

    def close_region(self, region: Region, *, flush: bool) -> None:
        region.close(flush=flush)

    def forget_region(self, region_name: str) -> None:
        """A region is gone for good (split, merged, truncated, deleted): its WAL edits
        no longer keep log files alive."""
        self.wal.forget_region(region_name)

    # ---- background work ------------------------------------------------------------------
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
            self._run_background(kind, region)

    def _run_background(self, kind: str, region: Region) -> None:
        """One flush (then the compaction check) or one compaction, on a worker thread or
        inline. A failed flush is retried with backoff (its memstore and WAL edits stay;
        writers see RegionTooBusy/StorageFull only once the memstore reaches its blocking
        size); a failed compaction changes nothing and is tried again after the next flush.
        Failures are logged, never reported to an unrelated request."""
        name = region.info.name
        try:
            if kind == "flush":
                region.flush()
                self._flush_failures.pop(name, None)
                self._maybe_compact(region)
            else:
                self.compact_region(region, major=False)
                self._maybe_split(region)
        except StorageError as e:
            if kind != "flush":
                log.error("compaction of region %s failed (retried later): %s", name, e)
                return
            delay = self._flush_failures.get(name, (0.0, e, 0))[0]
            delay = min(
                max(delay * 2, self.config.flush_retry_min_s), self.config.flush_retry_max_s
            )
            self._failed_flushes += 1
            self._flush_failures[name] = (delay, e, self._failed_flushes)
            log.error("flush of region %s failed, retrying in %.2f s: %s", name, delay, e)
            if self.config.background and not self._closed:
                t = threading.Timer(delay, self._request, ("flush", region))
                t.daemon = True
                t.start()
        except (RegionClosed, ClosedError):
            pass  # closed meanwhile (split, merge, alter, shutdown)
        except Exception:
            log.exception("background %s of region %s failed", kind, name)

    def request_compaction(self, region: Region) -> None:
        self._request("compact", region)

    def after_flush(self, region: Region) -> None:
        """A region was flushed outside the flush thread (hbase:meta after each change):
        compact it when it has enough files, as after any flush."""
        self._maybe_compact(region)

    def _request(self, kind: str, region: Region) -> None:
        if not self.config.background:
            self._run_background(kind, region)
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
        if (
            self.request_split is None
            or limit <= 0
            or is_reserved(region.info.table)  # hbase:meta is one region, never split
            or region.closed
            or region.has_references()
            or region.size_bytes() < limit
        ):
            return
        try:
            self.request_split(region.info.table, region.info.name)
        except (RegionClosed, TableNotFound, TableDisabled):
            pass  # the table changed meanwhile
        except InvalidArgument as e:
            log.info("region %s not split: %s", region.info.name, e)

    def compact_region(self, region: Region, *, major: bool) -> None:
        """Compact one region now (major when asked or when the periodic major is due)."""
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
        """Writers wait while the region's memstore is at its blocking size (flush size x
        blocking_multiplier) for a flush to make room (one is tried at once, even while
        failing flushes back off), at most ``busy_wait_s``; then, or as soon as a flush
        tried meanwhile fails, they get RegionTooBusy (StorageFull for a full disk): the
        bound on what a region accepts when it cannot flush."""
        limit = self.config.flush_size_bytes * self.config.blocking_multiplier
        if region.memstore_size() < limit:
            return
        name = region.info.name
        failed_before = self._failed_flushes
        deadline = self.clock.monotonic_s() + self.config.busy_wait_s
        with region._size_cond:
            while region.memstore_size() >= limit and not self._closed:
                failure = self._flush_failures.get(name)
                if failure is not None and failure[2] > failed_before:
                    # a flush tried while this writer waited failed: no room soon
                    raise _too_busy(region, limit, failure[1])
                if self.clock.monotonic_s() >= deadline:
                    raise _too_busy(region, limit, failure[1] if failure else None)
                self._request("flush", region)  # also retries a failing one now
                region._size_cond.wait(0.05)

    def _after_write(self, region: Region) -> None:
        if region.needs_flush(self.config.flush_size_bytes):
            self._request("flush", region)

    # ---- routing -------------------------------------------------------------------------
    def check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"the data directory {self.root} has been closed")

    def _table_regions(self, table: str) -> TableRegions:
        tr = self._online.get(table)
        if tr is None or self._closed:
            self.check_open()
            if table == META_TABLE:
                return TableRegions([self.meta_region])
            self.table_missing(table)
        return tr

    def _retry(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn``, routing again when its region closed under it (split, alter, ...)."""
        for _ in range(_RETRIES):
            try:
                return fn()
            except RegionClosed:
                if self._closed:
                    raise
                time.sleep(0.01)
        return fn()

    def check_region(self, table: str, region: str, rows: Sequence[bytes]) -> None:
        """Raise NotServingRegion unless ``region`` of ``table`` is open and holds ``rows``."""
        tr = self._table_regions(table)
        i = tr.index.get(region)
        if i is not None:
            r = tr.regions[i]
            if not r.closed and all(r.info.contains(row) for row in rows):
                return
        raise not_serving(table, region)

    # ---- writing -------------------------------------------------------------------------
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
        refuse_meta(table)
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
        refuse_meta(table)

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

    # ---- reading -------------------------------------------------------------------------
    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        check_row(row)
        try:  # fast path: no closure, no retry loop
            return self._table_regions(table).for_row(row).get(row, spec)
        except RegionClosed:
            if self._closed:
                raise
            time.sleep(0.01)
            return self._get_one(table, row, spec)

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

        If a region closes mid-scan (split, merge, alter, truncate), the scan resumes
        after the last row it returned, on the regions that replaced it.
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

    # ---- reporting -----------------------------------------------------------------------
    def region_metrics(self) -> list[dict[str, Any]]:
        """One dict per online user region: range, sizes and request counts."""
        out = []
        for table, tr in sorted(self._online.items()):
            for r in tr.regions:
                out.append(
                    {
                        "table": table,
                        "name": r.info.name,
                        "start_key": r.info.start_key,
                        "end_key": r.info.end_key,
                        "server": self.name,
                        "memstore_bytes": r.memstore_size(),
                        "store_file_bytes": r.size_bytes(),
                        "store_files": sum(s.file_count() for s in r.stores.values()),
                        "read_requests": r.read_requests,
                        "write_requests": r.write_requests,
                    }
                )
        return out

    def status(self) -> dict[str, Any]:
        """This server as the cluster status lists it (HBase's ServerMetrics)."""
        regions = self.region_metrics()
        return {
            "name": self.name,
            "start_code": self.start_code,
            "path": self.root,
            "regions": len(regions),
            "read_requests": sum(r["read_requests"] for r in regions),
            "write_requests": sum(r["write_requests"] for r in regions),
            "memstore_bytes": sum(r["memstore_bytes"] for r in regions),
            "store_file_bytes": sum(r["store_file_bytes"] for r in regions),
        }

    # ---- shutdown ------------------------------------------------------------------------
    def close(self) -> None:
        """Stop background work, flush and close every region and meta, close the WAL."""
        if self._closed:
            return
        try:
            if self._threads:
                self._flush_queue.put(None)
                self._compact_queue.put(None)
                for t in self._threads:
                    t.join()
            for r in [r for tr in self._online.values() for r in tr.regions] + (
                [self.meta_region] if hasattr(self, "meta_region") else []
            ):
                try:
                    r.close(flush=True)
                except StorageError as e:
                    # its edits stay in the WAL (never marked flushed): the next open
                    # replays them
                    log.error("region %s closed without its flush (%s)", r.info.name, e)
                    r.close(flush=False)
            if hasattr(self, "wal"):
                self.wal.close()
        finally:
            self._closed = True
            if self.compaction_pool is not None:
                self.compaction_pool.close()

    @property
    def closed(self) -> bool:
        return self._closed


def _too_busy(region: Region, limit: int, cause: StorageError | None) -> StorageError:
    what = f"region {region.info.name} of table {region.info.table!r}"
    if isinstance(cause, StorageFull):
        err: StorageError = StorageFull(
            f"{what} cannot take more writes: its memstore is at its blocking size "
            f"({limit} bytes) and it cannot flush: {cause}"
        )
    elif cause is not None:
        err = RegionTooBusy(
            f"{what} is over its memstore blocking size ({limit} bytes) and its flushes "
            f"are failing ({cause}); nothing was written, retry later"
        )
    else:
        err = RegionTooBusy(
            f"{what} is over its memstore blocking size ({limit} bytes); flushes are "
            "behind; nothing was written, retry later"
        )
    err.__cause__ = cause
    return err


def not_serving(table: str, region: str) -> NotServingRegion:
    return NotServingRegion(
        f"region {region} of table {table!r} is not served here "
        "(split, merged or moved); look it up again"
    )


def refuse_meta(table: str) -> None:
    """Writes to a table of a reserved namespace (hbase:meta) are refused: ReservedName."""
    refuse_reserved(table, "write to")


def table_dir(table: str) -> str:
    """A table's directory name under ``tables/`` (``:`` is not portable in file names)."""
    return table.replace(":", "%3A")
