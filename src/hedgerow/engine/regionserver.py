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
Layout: ``RegionServer`` keeps region hosting (the master's side), reporting
and shutdown; its fields are ``regionserver_core.RegionServerCore``, background
flushes/compactions ``background.BackgroundWork``, request routing and serving
``request_routing.RequestRouting``; ``TableRegions``, ``table_dir``,
``not_serving`` and ``refuse_meta`` are re-exported here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.meta import (
    META_DESCRIPTOR,
    META_REGION,
)
from hedgerow.engine.regionserver_core import TableRegions, table_dir
from hedgerow.engine.request_routing import RequestRouting, not_serving, refuse_meta
from hedgerow.engine.wal_layout import wal_dir
from hedgerow.errors import (
    StorageError,
)
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames
from hedgerow.storage.wal import WriteAheadLog, read_wal_dir

__all__ = ["RegionServer", "TableRegions", "not_serving", "refuse_meta", "table_dir"]

log = logging.getLogger("hedgerow.regionserver")


class RegionServer(RequestRouting):
    """Hosts regions of many tables. Methods by purpose:

    - region hosting (called by the master): ``start_wal``, ``open_meta``,
      ``open_region``, ``recover``, ``online``, ``set_online``, ``set_offline``,
      ``close_region``, ``forget_region``, ``compact_region``, ``request_compaction``
    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``get_many``, ``scan``, ``check_region``
    - reporting and shutdown: ``status``, ``requests``, ``close``
    """

    # ---- hosting regions (the master's side) ----------------------------------------------
    @property
    def wal_dir(self) -> str:
        return wal_dir(self.root, self.sid)

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
        if desc.name != META_DESCRIPTOR.name:
            self._hosted[entry.name] = region
        return region

    def hosted(self) -> list[Region]:
        """The user regions open on this server (their edits go to its WAL)."""
        for name in [n for n, r in self._hosted.items() if r.closed]:
            self._hosted.pop(name, None)
        return [r for r in list(self._hosted.values()) if not r.closed]

    def recover(self, regions: Sequence[Region], others: Sequence[Region] = ()) -> None:
        """Replay this server's old logs into ``regions`` (its own) and ``others`` (opened
        by another in-process server since: a region may have moved), make that durable,
        drop the old logs, then start background work (recovery steps 4 and 5)."""
        by_name = {r.info.name: r for r in [*regions, *others]}
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
        meta = [self.meta_region] if hasattr(self, "meta_region") else []
        for m in meta:
            self.wal.mark_flushed(META_REGION, m.flushed_seq)
        for r in by_name.values():
            self.wal.mark_flushed(r.info.name, r.flushed_seq)
        for name in sorted(seen - set(by_name) - {META_REGION}):
            self.wal.forget_region(name)  # regions deleted, split or merged since
        foreign = {r.info.name for r in others}
        for name in sorted(replayed):
            region = by_name[name]
            if name in foreign:
                # its flush tells the WAL of the server hosting it, not this one: flush
                # now and tell this WAL, so the old file can go
                region.flush()
                self.wal.mark_flushed(name, region.flushed_seq)
            else:
                self._run_background("flush", region)
        # daughters of a split that crashed before compacting them rewrite their shared
        # files; stores left with many files by the last run are compacted (HBase's
        # compaction checker); both in the background when background work is on
        for r in [*meta, *regions]:
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

    # ---- reporting -----------------------------------------------------------------------
    def region_metrics(self) -> list[dict[str, Any]]:
        """One dict per online user region: range, sizes and request counts."""
        return [
            {
                "table": r.info.table,
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
            for r in sorted(self.hosted(), key=lambda r: (r.info.table, r.info.start_key))
        ]

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
            "not_serving_answers": self.not_serving_answers,
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
            for r in self.hosted() + ([self.meta_region] if hasattr(self, "meta_region") else []):
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
