"""Engine: one data directory served by a master and a region server in one process.

Role: ``hedgerow.connect(path)`` builds one Engine and wraps it in the public
client API (its ``call`` makes it the ``hedgerow.client.backend.Backend`` that
``Connection`` talks to); ``hedgerow standalone`` serves the
same Engine to the network. The Engine is a facade over the two server roles
the cluster will run as separate processes (docs/design/server.md):

- ``Master`` (``hedgerow.engine.master``): the catalog and ``hbase:meta``,
  DDL, split/merge procedures, region assignment;
- ``RegionServer`` (``hedgerow.engine.regionserver``): the shared WAL with
  group commit, the block cache, the online regions, the read/write path,
  background flushes and compactions, server-side split requests.

Data calls go straight to the region server, table and region administration
to the master.
Format: the directory layout is docs/design/files.md; the catalog is
docs/formats/catalog.md; meta, WAL and manifest formats are in docs/formats/.
Recovery (numbered steps, docs/design/storage.md#recovery):
  1. take ``LOCK`` (a second process gets DirectoryLocked);
  2. the master loads ``CATALOG``; the region server opens a fresh WAL file and
     ``hbase:meta`` (replaying meta's own edits); the master loads the region map;
  3. the master opens every region (removing directories no meta row names);
  4. the region server replays every old WAL file in order, applying edits newer
     than each region's flushed sequence number (a torn last record is dropped;
     corruption elsewhere stops the open naming the file and offset, unless
     ``skip_corrupt_wal``);
  5. it flushes the regions that received edits and deletes the old WAL files;
     the master closes a disabled table's regions and records the assignment.
Invariants: a region's directory exists iff meta lists it (orphans left by a
crash mid-procedure are removed at open).
Concurrency: thread-safe (see Master and RegionServer).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.engine.catalog import Catalog
from hedgerow.engine.config import EngineConfig
from hedgerow.engine.master import Master
from hedgerow.engine.meta import META_TABLE, MetaTable
from hedgerow.engine.regionserver import RegionServer
from hedgerow.engine.rs_client import RegionServerClient
from hedgerow.engine.wal_layout import check_layout, server_id
from hedgerow.errors import InvalidArgument, storage_error
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import RegionInfo
from hedgerow.rpc.messages import ServerReportResponse
from hedgerow.rpc.operations import Operations
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileLock, FileSystem, LocalFS
from hedgerow.storage.wal import WriteAheadLog

__all__ = ["Engine"]

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("hedgerow.engine")

_NOT_DRIVEN = (
    "{} is a master -> region server call; this process runs its own master "
    "(only `hedgerow regionserver` serves it)"
)


class Engine:
    """One data directory: a master and a region server in one process. Methods by purpose:

    - tables: ``create_table``, ``delete_table``, ``modify_table``, ``truncate_table``,
      ``enable_table``, ``disable_table``, ``is_table_enabled``, ``table_exists``, ``table_names``,
      ``descriptor``
    - regions: ``regions``, ``region_locations``, ``split_region``, ``merge_regions``,
      ``check_region``, ``set_server_name``
    - writing: ``mutate``, ``increment``, ``append``, ``check_and_mutate``
    - reading: ``get``, ``get_many``, ``scan``
    - maintenance and reporting: ``flush_table``, ``compact_table``, ``status``,
      ``stats``, ``close``
    """

    def __init__(
        self,
        path: str,
        config: EngineConfig | None = None,
        *,
        clock: Clock | None = None,
        fs: FileSystem | None = None,
        remote_servers: Sequence[RegionServerClient] = (),
    ) -> None:
        self.path = path.rstrip("/") or "/"
        self.config = config or EngineConfig()
        self.clock: Clock = clock or SystemClock()
        self.fs: FileSystem = fs or LocalFS()
        self.fs.makedirs(self.path)
        self._lock_handle: FileLock | None = self.fs.lock(os.path.join(self.path, "LOCK"))
        try:
            check_layout(self.fs, self.path)
            self.region_server = RegionServer(self.path, self.config, self.clock, self.fs)
            # the other in-process region servers: compactions on their own threads
            peer_config = dataclasses.replace(self.config, compaction_processes=0)
            self.peers = [
                RegionServer(
                    self.path,
                    peer_config,
                    self.clock,
                    self.fs,
                    name=f"local/{server_id(i)}",
                    sid=server_id(i),
                )
                for i in range(1, self.config.region_servers)
            ]
        except BaseException as e:
            self._release_lock()
            if isinstance(e, OSError):
                raise storage_error(e, f"opening the data directory {self.path}") from e
            raise
        self.master = Master(self.path, self.fs, self.region_server, self.peers, remote_servers)
        try:
            self.master.start()
        except BaseException as e:
            try:
                self._close_servers()
            except Exception as e2:  # the first error is the one to report
                log.error("closing after a failed open of %s: %r", self.path, e2)
            self._release_lock()
            if isinstance(e, OSError):
                raise storage_error(e, f"opening the data directory {self.path}") from e
            raise
        if self.peers:
            self.master.assignment.start_balancer(self.config.balancer_period_s)
        rs = self.region_server
        # the data path goes straight to the region server (no extra call per request)
        self.get = rs.get
        self.get_many = rs.get_many
        self.mutate = rs.mutate
        self.increment = rs.increment
        self.append = rs.append
        self.check_and_mutate = rs.check_and_mutate
        self.check_region = rs.check_region

    def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run one operation: the client's ``Backend`` protocol (client/backend.py) over
        this engine, whose methods of the same names implement ``Operations``."""
        result: R = getattr(self, op.__name__)(*args, **kwargs)
        return result

    # ---- the parts, for tools and tests -----------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        return self.master.catalog

    @property
    def meta(self) -> MetaTable:
        return self.master.meta

    @property
    def wal(self) -> WriteAheadLog:
        return self.region_server.wal

    @property
    def cache(self) -> BlockCache:
        return self.region_server.cache

    @property
    def server_name(self) -> str:
        """How clients and meta name the server hosting this directory's regions."""
        return self.region_server.name

    def set_server_name(self, name: str) -> None:
        """The regions are now served to the network as ``name`` ("host:port"): the
        master records it in meta as the host of every open region."""
        self.region_server.check_open()
        self.master.assign_all(name)

    # ---- tables (the master) ----------------------------------------------------------------
    def table_names(self) -> list[str]:
        self.region_server.check_open()
        return self.master.table_names()

    def table_exists(self, table: str) -> bool:
        """Whether ``table`` exists (``hbase:meta`` always does), enabled or not."""
        self.region_server.check_open()
        return table == META_TABLE or table in self.master.table_names()

    def descriptor(self, table: str) -> TableDescriptor:
        self.region_server.check_open()
        return self.master.descriptor(table)

    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        """Create a table, pre-split into regions at ``split_keys`` (crash-safe)."""
        self.region_server.check_open()
        self.master.create_table(desc, split_keys)

    def delete_table(self, table: str) -> None:
        self.region_server.check_open()
        self.master.delete_table(table)

    def modify_table(self, desc: TableDescriptor) -> None:
        """Replace a table's column families (see ``Master.modify_table``)."""
        self.region_server.check_open()
        self.master.modify_table(desc)

    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        """Remove every row of a table (see ``Master.truncate_table``)."""
        self.region_server.check_open()
        self.master.truncate_table(table, preserve_splits=preserve_splits)

    def enable_table(self, table: str) -> None:
        self.region_server.check_open()
        self.master.enable_table(table)

    def disable_table(self, table: str) -> None:
        self.region_server.check_open()
        self.master.disable_table(table)

    def is_table_enabled(self, table: str) -> bool:
        self.region_server.check_open()
        return self.master.is_table_enabled(table)

    def regions(self, table: str) -> list[RegionInfo]:
        self.region_server.check_open()
        return self.master.regions(table)

    def region_locations(self, table: str) -> list[tuple[RegionInfo, str]]:
        """The table's regions in key order, each with the name of the server hosting it
        ("" while the table is disabled)."""
        self.region_server.check_open()
        return self.master.region_locations(table)

    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        """Split a region (see ``Master.split_region``); returns the daughters' names."""
        self.region_server.check_open()
        return self.master.split_region(table, region_name, split_row)

    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        """Merge two adjacent regions (see ``Master.merge_regions``)."""
        self.region_server.check_open()
        return self.master.merge_regions(table, region_a, region_b)

    # ---- data (the region server) -----------------------------------------------------------
    # get, get_many, mutate, increment, append and check_and_mutate are the region
    # server's own methods (bound in __init__): no extra call per request
    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows of the table in ``rng``, across regions, in order (splits are invisible)."""
        return self.region_server.scan(table, rng, spec)

    # ---- assignment (the master) --------------------------------------------------------------
    def balance(self) -> bool:
        """Run the balancer now; False if it did not run (regions in transition)."""
        self.region_server.check_open()
        return self.master.assignment.balance() is not None

    def move_region(self, region_name: str, dest_server: str | None = None) -> str:
        """Move a region to ``dest_server`` (None: the least-loaded server); returns the
        server it is open on afterwards."""
        self.region_server.check_open()
        return self.master.assignment.move(region_name, dest_server)[2]

    def decommission_server(self, servers: Sequence[str], offload: bool = True) -> None:
        """Give ``servers`` no new regions and, with ``offload``, move theirs away."""
        self.region_server.check_open()
        self.master.assignment.decommission(list(servers), offload=offload)

    def recommission_server(self, server: str) -> None:
        """Let a decommissioned server receive regions again."""
        self.region_server.check_open()
        self.master.assignment.recommission(server)

    # ---- master -> region server (served by region server processes only) ---------------
    def open_region(
        self, epoch: int, desc: TableDescriptor, region: str, start_key: bytes, end_key: bytes
    ) -> None:
        raise InvalidArgument(_NOT_DRIVEN.format("open_region"))

    def close_region(self, epoch: int, table: str, region: str) -> None:
        raise InvalidArgument(_NOT_DRIVEN.format("close_region"))

    def region_server_report(self, epoch: int) -> ServerReportResponse:
        raise InvalidArgument(_NOT_DRIVEN.format("region_server_report"))

    def flush_region(self, epoch: int, table: str, region: str) -> None:
        raise InvalidArgument(_NOT_DRIVEN.format("flush_region"))

    def compact_region(self, epoch: int, table: str, region: str, major: bool) -> None:
        raise InvalidArgument(_NOT_DRIVEN.format("compact_region"))

    def decommissioned_servers(self) -> list[str]:
        self.region_server.check_open()
        return self.master.server_manager.decommissioned()

    # ---- maintenance and reporting ----------------------------------------------------------
    def flush_table(self, table: str) -> None:
        self.region_server.check_open()
        self.master.flush_table(table)

    def compact_table(self, table: str, *, major: bool = False) -> None:
        """Flush, then compact every region of the table (synchronously)."""
        self.region_server.check_open()
        self.master.compact_table(table, major=major)

    def status(self) -> dict[str, Any]:
        """Cluster status: the master, servers with request counts, regions, cache."""
        self.region_server.check_open()
        return self.master.status()

    def stats(self) -> dict[str, Any]:
        return {
            "block_cache": self.cache.stats(),
            "regions": sum(len(t.regions) for t in self.region_server.online_tables().values()),
            "region_servers": len(self.master.region_servers),
        }

    # ---- close ----------------------------------------------------------------------------
    def close(self) -> None:
        """Flush and close every region and the WAL, then release the directory."""
        if self.region_server.closed:
            return
        try:
            self._close_servers()
        finally:
            self._release_lock()

    def _close_servers(self) -> None:
        """Stop the balancer, then close the servers: the primary last (it hosts meta)."""
        if hasattr(self, "master"):
            self.master.assignment.stop_balancer()
        errors: list[BaseException] = []
        for server in [*self.peers, self.region_server]:
            try:
                server.close()
            except BaseException as e:  # close the others, then report the first
                errors.append(e)
        if errors:
            raise errors[0]

    def _release_lock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.release()
            self._lock_handle = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
