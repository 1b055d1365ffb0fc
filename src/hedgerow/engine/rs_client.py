"""How the master drives a region server: the ``RegionServerClient`` protocol.

Role: the master's assignment code (engine/assignment.py) talks to region servers only
through this protocol: open a region, close a region, flush or compact a region in place
(it keeps serving), report what it hosts with sizes and load, and request a split or
merge (HBase's AdminService RPCs OpenRegion, CloseRegion, FlushRegion, CompactRegion,
GetOnlineRegion/GetRegionLoad, and the master-side split/merge a server asks for). ``InProcessRegionServer`` implements it over a ``RegionServer`` in the
master's process, ``server/remote_rs.RemoteRegionServer`` over RPC for a region server
process (the table procedures of engine/remote_procedures.py drive that one).
In-process routing: requests enter through the primary region server (the one hosting
``hbase:meta``), whose online map routes each row to its ``Region`` object; a region
opened by another in-process server logs its edits in *that* server's WAL and runs its
flushes and compactions on that server's threads. ``open_region`` and ``close_region``
publish the change to the primary's routing map (a closed region stays in the map until
its replacement opens: a request routed to it gets ``RegionClosed`` and is routed again).
Invariants: ``open_region`` refuses a region this server already hosts; a server never
opens a region for a closed table descriptor's sake (the master checks enabled state).
Concurrency: calls come from the master under its DDL lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.regionserver import RegionServer
from hedgerow.errors import InvalidArgument, NotServingRegion
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region

__all__ = ["InProcessRegionServer", "RegionLoad", "RegionServerClient", "ServerReport"]


@dataclass(frozen=True)
class RegionLoad:
    """One hosted region as its server reports it (HBase's RegionMetrics)."""

    table: str
    name: str
    store_file_bytes: int
    memstore_bytes: int
    read_requests: int
    write_requests: int

    @property
    def requests(self) -> int:
        return self.read_requests + self.write_requests


@dataclass(frozen=True)
class ServerReport:
    """A region server's report to the master (HBase's ServerMetrics)."""

    name: str
    start_code: int
    regions: dict[str, RegionLoad] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(r.store_file_bytes + r.memstore_bytes for r in self.regions.values())

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.regions.values())


class RegionServerClient(Protocol):
    """What the master asks of a region server."""

    @property
    def name(self) -> str: ...

    @property
    def wal_id(self) -> str:
        """The id naming the server's WAL directory ``WALs/<wal_id>/``."""
        ...

    def open_region(self, desc: TableDescriptor, entry: RegionEntry) -> None:
        """Open the region and serve it."""

    def close_region(self, table: str, region_name: str) -> None:
        """Flush and close the region (nothing if it is not open here)."""

    def flush_region(self, table: str, region_name: str) -> None:
        """Flush the region while it keeps serving (NotServingRegion if not open here)."""

    def compact_region(self, table: str, region_name: str, *, major: bool) -> None:
        """Flush, then compact the region while it keeps serving (NotServingRegion if
        not open here)."""

    def report(self) -> ServerReport:
        """The regions open here, with their sizes and request counts."""

    def request_split(self, table: str, region_name: str) -> object:
        """Ask the master to split a region this server hosts."""

    def request_merge(self, table: str, region_a: str, region_b: str) -> object:
        """Ask the master to merge two adjacent regions."""


class InProcessRegionServer:
    """``RegionServerClient`` over a ``RegionServer`` in this process.

    ``router`` is the primary region server, whose online map routes requests;
    ``split``/``merge`` are the master's procedures the requests are forwarded to.
    """

    def __init__(
        self,
        server: RegionServer,
        router: RegionServer,
        split: Callable[[str, str], object],
        merge: Callable[[str, str, str], object],
    ) -> None:
        self.server = server
        self.router = router
        self._split = split
        self._merge = merge

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def wal_id(self) -> str:
        return self.server.sid

    def hosts(self, region_name: str) -> Region | None:
        for r in self.server.hosted():
            if r.info.name == region_name:
                return r
        return None

    def open_region(self, desc: TableDescriptor, entry: RegionEntry) -> None:
        if self.hosts(entry.name) is not None:
            raise InvalidArgument(f"region {entry.name} is already open on {self.name}")
        region = self.server.open_region(desc, entry, create=False)
        region.drop_orphan_families()
        tr = self.router.online(desc.name)
        others = [r for r in tr.regions if r.info.name != entry.name] if tr is not None else []
        self.router.set_online(desc.name, [*others, region])

    def close_region(self, table: str, region_name: str) -> None:
        region = self.hosts(region_name)
        if region is None:
            return
        if region.info.table != table:
            raise NotServingRegion(f"region {region_name} is not a region of table {table!r}")
        self.server.close_region(region, flush=True)

    def _serving(self, table: str, region_name: str) -> Region:
        region = self.hosts(region_name)
        if region is None or region.info.table != table:
            raise NotServingRegion(
                f"region {region_name} of table {table!r} is not open on {self.name}"
            )
        return region

    def flush_region(self, table: str, region_name: str) -> None:
        self._serving(table, region_name).flush()

    def compact_region(self, table: str, region_name: str, *, major: bool) -> None:
        region = self._serving(table, region_name)
        region.flush()
        self.server.compact_region(region, major=major)

    def report(self) -> ServerReport:
        loads = {
            r.info.name: RegionLoad(
                r.info.table,
                r.info.name,
                r.size_bytes(),
                r.memstore_size(),
                r.read_requests,
                r.write_requests,
            )
            for r in self.server.hosted()
        }
        return ServerReport(self.server.name, self.server.start_code, loads)

    def request_split(self, table: str, region_name: str) -> object:
        return self._split(table, region_name)

    def request_merge(self, table: str, region_a: str, region_b: str) -> object:
        return self._merge(table, region_a, region_b)
