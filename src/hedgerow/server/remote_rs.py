"""``RemoteRegionServer``: the master's ``RegionServerClient`` over RPC.

Role: the active master (server/cluster_master.py) drives a ``hedgerow regionserver``
process through this: ``open_region``, ``close_region``, ``flush_region``,
``compact_region`` and ``report`` become the OPEN_REGION, CLOSE_REGION, FLUSH_REGION,
COMPACT_REGION and REGION_SERVER_REPORT operations
(docs/formats/rpc.md#master-to-region-server), each stamped with the master's epoch (its
election znode's sequence number) so a region server ignores a deposed master.
Invariants: ``name`` is the server's RPC address ``host:port`` (what meta records and
clients connect to); ``wal_id`` its ``host,port,startcode`` (its WAL directory).
Concurrency: thread-safe (the RPC transport is); the master calls it under its DDL lock.
"""

from __future__ import annotations

from collections.abc import Callable

from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.rs_client import RegionLoad, ServerReport
from hedgerow.errors import InvalidArgument
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc import RpcBackend, SocketTransport
from hedgerow.rpc.operations import Operations

__all__ = ["RemoteRegionServer"]


class RemoteRegionServer:
    """``RegionServerClient`` for a region server process at ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        wal_id: str,
        epoch: Callable[[], int],
        *,
        timeout_s: float = 60.0,
    ) -> None:
        self._name = f"{host}:{port}"
        self._wal_id = wal_id
        self._epoch = epoch
        self._backend = RpcBackend(
            SocketTransport(host, port, timeout_s=timeout_s, connect_timeout_s=5.0),
            timeout_s=timeout_s,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def wal_id(self) -> str:
        return self._wal_id

    def open_region(self, desc: TableDescriptor, entry: RegionEntry) -> None:
        self._backend.call(
            Operations.open_region,
            self._epoch(),
            desc,
            entry.name,
            entry.start_key,
            entry.end_key,
        )

    def close_region(self, table: str, region_name: str) -> None:
        self._backend.call(Operations.close_region, self._epoch(), table, region_name)

    def flush_region(self, table: str, region_name: str) -> None:
        self._backend.call(Operations.flush_region, self._epoch(), table, region_name)

    def compact_region(self, table: str, region_name: str, *, major: bool) -> None:
        self._backend.call(Operations.compact_region, self._epoch(), table, region_name, major)

    def report(self) -> ServerReport:
        r = self._backend.call(Operations.region_server_report, self._epoch())
        loads = {
            name: RegionLoad(table, name, files, mem, reads, writes)
            for table, name, files, mem, reads, writes in r.regions
        }
        return ServerReport(self._name, r.start_code, loads)

    def request_split(self, table: str, region_name: str) -> object:
        raise InvalidArgument(
            "a region server process asks the active master to split by itself "
            "(cluster_regionserver.RegionServerProcess._request_split), not through "
            "the master's handle on it"
        )

    def request_merge(self, table: str, region_a: str, region_b: str) -> object:
        raise InvalidArgument(
            "merges are asked of the master by an operator (Admin.merge); region server "
            "processes do not request them (HBase's region normalizer is not built)"
        )

    def close(self) -> None:
        self._backend.close()
