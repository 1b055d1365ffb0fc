"""Admin: cluster and region administration (HBase's ``Admin``), beyond happybase's Connection.

Role: returned by ``Connection.admin()``; regions, splits, merges, flushes,
compactions, descriptors and status, through the same ``Backend`` as tables.
Concurrency: thread-safe (the backend is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hedgerow.client.backend import Backend, RegionDescription
from hedgerow.errors import InvalidArgument
from hedgerow.model.mutation import check_row
from hedgerow.model.schema import TableDescriptor

__all__ = ["Admin"]


def _row(x: bytes | str | None) -> bytes | None:
    if x is None:
        return None
    b = x.encode("utf-8") if isinstance(x, str) else x
    if not isinstance(b, bytes):
        raise InvalidArgument(f"row key must be bytes or str, got {type(x).__name__}")
    return check_row(b)


def listed_regions(
    regions: Sequence[RegionDescription], status: dict[str, Any]
) -> list[dict[str, Any]]:
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


class Admin:
    """Administration. Methods by purpose:

    - regions: ``list_regions``, ``split``, ``merge``
    - maintenance: ``flush``, ``compact``, ``major_compact``
    - describing: ``describe``, ``status``

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> conn.create_table("t", {"cf": {}})
    >>> admin = conn.admin()
    >>> left, right = admin.split("t", b"m")
    >>> [(r["start_key"], r["end_key"]) for r in admin.list_regions("t")]
    [(b'', b'm'), (b'm', b'')]
    >>> conn.close()
    """

    def __init__(self, backend: Backend, full_name: Any) -> None:
        self._backend = backend
        self._full = full_name  # applies the connection's table prefix

    def list_regions(self, table: bytes | str) -> list[dict[str, Any]]:
        """The table's regions in key order, with the server hosting each and its sizes."""
        regions = self._backend.regions(self._full(table))
        return listed_regions(regions, self._backend.status())

    def split(
        self,
        table: bytes | str,
        split_row: bytes | str | None = None,
        region: str | None = None,
    ) -> tuple[str, str]:
        """Split the region holding ``split_row`` there (or ``region`` at its middle row).

        With neither, the table's largest region is split at its middle row. Returns the
        two new regions' names. Reads and writes continue; requests that reach the old
        region while it closes are routed again.
        """
        return self._backend.split_region(self._full(table), region, _row(split_row))

    def merge(self, table: bytes | str, region_a: str, region_b: str) -> str:
        """Merge two adjacent regions; returns the new region's name."""
        return self._backend.merge_regions(self._full(table), region_a, region_b)

    def flush(self, table: bytes | str) -> None:
        self._backend.flush_table(self._full(table))

    def compact(self, table: bytes | str) -> None:
        self._backend.compact_table(self._full(table), major=False)

    def major_compact(self, table: bytes | str) -> None:
        self._backend.compact_table(self._full(table), major=True)

    def describe(self, table: bytes | str) -> TableDescriptor:
        return self._backend.descriptor(self._full(table))

    def status(self) -> dict[str, Any]:
        """Servers, regions (sizes, request counts) and block cache counters."""
        return self._backend.status()
