"""Admin and AsyncAdmin: cluster and region administration (HBase's ``Admin``).

Role: returned by ``Connection.admin()`` (``AsyncConnection.admin()``); regions,
splits, merges, flushes, compactions, descriptors and status, through the same
backend as tables.  Each method is written once, as a plan (client/plan.py),
bound to both flavours.
Concurrency: ``Admin`` is thread-safe (the backend is); ``AsyncAdmin`` belongs
to one event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hedgerow.client.backend import AsyncBackend, Backend
from hedgerow.client.plan import Awaiting, Blocking, Plan, call, method
from hedgerow.errors import InvalidArgument
from hedgerow.model.mutation import check_row
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.rpc.operations import RegionLike

__all__ = ["Admin", "AsyncAdmin"]

BK = TypeVar("BK", Backend, AsyncBackend)


def _row(x: bytes | str | None) -> bytes | None:
    if x is None:
        return None
    b = x.encode("utf-8") if isinstance(x, str) else x
    if not isinstance(b, bytes):
        raise InvalidArgument(f"row key must be bytes or str, got {type(x).__name__}")
    return check_row(b)


def listed_regions(regions: Sequence[RegionLike], status: dict[str, Any]) -> list[dict[str, Any]]:
    """``list_regions``' answer: each of the table's ``regions`` in key order, with its
    status entry (server, sizes, request counts); a region no server hosts (its table
    is disabled) is listed with server "" and zero counts."""
    served = {r["name"]: r for r in status["regions"]}
    out = []
    for r in regions:
        entry = served.get(r.name)
        if entry is None:
            entry = {
                "table": r.table,
                "name": r.name,
                "start_key": r.start_key,
                "end_key": r.end_key,
                "server": "",
                "memstore_bytes": 0,
                "store_file_bytes": 0,
                "store_files": 0,
                "read_requests": 0,
                "write_requests": 0,
            }
        out.append(entry)
    return out


class _Admin:
    """What the plans read of an admin object: the connection's table-name function."""

    def __init__(self, full_name: Callable[[bytes | str], str]) -> None:
        self._full = full_name  # applies the connection's table prefix


# ---- the plans: one per method, shared by Admin and AsyncAdmin --------------------------------


def list_regions(a: _Admin, table: bytes | str) -> Plan[list[dict[str, Any]]]:
    """The table's regions in key order, with the server hosting each and its sizes."""
    regions = yield from call(Ops.regions, a._full(table))
    return listed_regions(regions, (yield from call(Ops.status)))


def split(
    a: _Admin,
    table: bytes | str,
    split_row: bytes | str | None = None,
    region: str | None = None,
) -> Plan[tuple[str, str]]:
    """Split the region holding ``split_row`` there (or ``region`` at its middle row).

    With neither, the table's largest region is split at its middle row. Returns the
    two new regions' names. Reads and writes continue; requests that reach the old
    region while it closes are routed again.
    """
    return (yield from call(Ops.split_region, a._full(table), region, _row(split_row)))


def merge(a: _Admin, table: bytes | str, region_a: str, region_b: str) -> Plan[str]:
    """Merge two adjacent regions; returns the new region's name."""
    return (yield from call(Ops.merge_regions, a._full(table), region_a, region_b))


def flush(a: _Admin, table: bytes | str) -> Plan[None]:
    """Write the table's memstores to store files now."""
    yield from call(Ops.flush_table, a._full(table))


def compact(a: _Admin, table: bytes | str) -> Plan[None]:
    """Flush, then compact the table's store files (a minor compaction)."""
    yield from call(Ops.compact_table, a._full(table), major=False)


def major_compact(a: _Admin, table: bytes | str) -> Plan[None]:
    """Flush, then rewrite each store into one file, dropping deleted and expired data."""
    yield from call(Ops.compact_table, a._full(table), major=True)


def describe(a: _Admin, table: bytes | str) -> Plan[TableDescriptor]:
    """The table's descriptor (its column families and their settings)."""
    return (yield from call(Ops.descriptor, a._full(table)))


def table_exists(a: _Admin, table: bytes | str) -> Plan[bool]:
    """Whether the table exists (HBase's ``Admin.tableExists``)."""
    return (yield from call(Ops.table_exists, a._full(table)))


def status(a: _Admin) -> Plan[dict[str, Any]]:
    """Servers, regions (sizes, request counts) and block cache counters."""
    return dict((yield from call(Ops.status)))


def balance(a: _Admin) -> Plan[bool]:
    """Run the balancer now (HBase's ``Admin.balance``): regions move from the servers
    with the most to those with the fewest. False if it did not run (a region is in
    transition)."""
    return (yield from call(Ops.balance))


def move(a: _Admin, region: str, dest_server: str | None = None) -> Plan[str]:
    """Move a region to ``dest_server`` (None: the least-loaded server), HBase's
    ``Admin.move``; returns the server it is open on afterwards."""
    return (yield from call(Ops.move_region, region, dest_server))


def decommission_region_servers(
    a: _Admin, servers: Sequence[str], offload: bool = True
) -> Plan[None]:
    """Give ``servers`` no new regions and, with ``offload``, move their regions to the
    other servers (HBase's ``Admin.decommissionRegionServers``)."""
    if isinstance(servers, str):
        raise InvalidArgument("servers must be a list of server names, not one string")
    yield from call(Ops.decommission_server, list(servers), offload)


def recommission_region_server(a: _Admin, server: str) -> Plan[None]:
    """Let a decommissioned server receive regions again (HBase's
    ``Admin.recommissionRegionServer``)."""
    yield from call(Ops.recommission_server, server)


class _Methods(_Admin, Generic[BK]):
    """Every admin method, bound once for both flavours (client/plan.py)."""

    _backend: BK

    def __init__(self, backend: BK, full_name: Callable[[bytes | str], str]) -> None:
        super().__init__(full_name)
        self._backend = backend

    list_regions = method(list_regions)
    split = method(split)
    merge = method(merge)
    flush = method(flush)
    compact = method(compact)
    major_compact = method(major_compact)
    describe = method(describe)
    status = method(status)
    table_exists = method(table_exists)
    balance = method(balance)
    move = method(move)
    decommission_region_servers = method(decommission_region_servers)
    recommission_region_server = method(recommission_region_server)


class Admin(_Methods[Backend], Blocking):
    """Administration. Methods by purpose:

    - regions: ``list_regions``, ``split``, ``merge``
    - maintenance: ``flush``, ``compact``, ``major_compact``
    - describing: ``describe``, ``status``, ``table_exists``
    - assignment: ``balance``, ``move``, ``decommission_region_servers``,
      ``recommission_region_server``

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> conn.create_table("t", {"cf": {}})
    >>> admin = conn.admin()
    >>> left, right = admin.split("t", b"m")
    >>> [(r["start_key"], r["end_key"]) for r in admin.list_regions("t")]
    [(b'', b'm'), (b'm', b'')]
    >>> conn.close()
    """


class AsyncAdmin(_Methods[AsyncBackend], Awaiting):
    """``Admin``'s methods as coroutines."""
