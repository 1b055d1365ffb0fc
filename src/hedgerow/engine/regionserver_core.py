"""RegionServerCore: what a region server's hosting, background work and requests share.

Role: the base of ``RegionServer`` (hedgerow.engine.regionserver): the shared
resources (block cache, table cache, compaction pool, WAL, hbase:meta), the
online-region map ``_online`` (``TableRegions`` per table), the master's two
callbacks, and the background queues and flush-failure bookkeeping that
``background.BackgroundWork`` runs on.
Invariants: a ``TableRegions`` is immutable: ``_online`` maps each table to a
new one on every change (copy-on-write), so readers route without locking;
``_flush_failures`` holds a region only while its flushes fail.
Concurrency: ``_pending`` is guarded by ``_pending_lock``; ``_online`` is only
replaced, never mutated in place.
"""

from __future__ import annotations

import bisect
import queue
import threading
from collections.abc import Callable
from typing import NoReturn

from hedgerow._internal.clock import Clock
from hedgerow.engine.config import EngineConfig, max_open_files
from hedgerow.engine.wal_layout import PRIMARY_ID
from hedgerow.errors import (
    InvalidArgument,
    StorageError,
    TableNotFound,
)
from hedgerow.region.compaction import CompactionPool
from hedgerow.region.region import Region
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem, LocalFS
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.wal import WriteAheadLog

__all__ = ["RegionServerCore", "TableRegions", "table_dir"]


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


class RegionServerCore:
    """Fields of a region server (see ``RegionServer`` for the methods by purpose)."""

    def __init__(
        self,
        root: str,
        config: EngineConfig,
        clock: Clock,
        fs: FileSystem,
        *,
        name: str = "local",
        sid: str = PRIMARY_ID,
    ) -> None:
        self.root = root
        self.config = config
        self.clock = clock
        self.fs = fs
        #: how clients and meta name this server ("local" embedded, "host:port" when served)
        self.name = name
        #: stable id naming its WAL directory ``WALs/<sid>/`` (engine/wal_layout.py)
        self.sid = sid
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
        #: every region opened by this server (its WAL logs their edits), by name; a
        #: closed one is dropped when next seen
        self._hosted: dict[str, Region] = {}
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
        #: NOT_SERVING_REGION answers given so far (a region-addressed request for a
        #: region not open here): each is a client's retry elsewhere (status reports it)
        self.not_serving_answers = 0


def table_dir(table: str) -> str:
    """A table's directory name under ``tables/`` (``:`` is not portable in file names)."""
    return table.replace(":", "%3A")
