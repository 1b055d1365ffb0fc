"""Client-side region locations: which region holds a row, cached per table (RFC 0001).

Role: ``RpcBackend`` asks ``locate(table, row)`` before a get, multi-get or
mutation and sends the request addressed to that region; a
``NotServingRegion`` answer makes it ``forget(table)`` and look again (the
table's regions are re-read with one REGIONS call, which the server answers
from ``hbase:meta``). HBase's client does the same with its MetaCache.
Invariants: a cached table's ranges are sorted by start key and tile the key
space as of the moment they were read.
Concurrency: one lock guards the cache; lookups are a bisect.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["RegionLocator"]


class _TableLocations:
    __slots__ = ("starts", "names", "ends")

    def __init__(self, regions: Sequence[Any]) -> None:
        ordered = sorted(regions, key=lambda r: r.start_key)
        self.starts = [r.start_key for r in ordered]
        self.names = [r.name for r in ordered]
        self.ends = [r.end_key for r in ordered]

    def locate(self, row: bytes) -> str:
        i = max(bisect.bisect_right(self.starts, row) - 1, 0)
        return str(self.names[i])


class RegionLocator:
    """Cached region locations of every table a client used.

    ``fetch(table)`` returns the table's regions (objects with ``name``,
    ``start_key``, ``end_key``); it is called on the first use of a table and after
    every ``forget``. ``lookups`` and ``refreshes`` count for tests and stats.
    """

    def __init__(self, fetch: Callable[[str], Sequence[Any]]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._tables: dict[str, _TableLocations] = {}  # guarded by self._lock
        self.lookups = 0
        self.refreshes = 0

    def _table(self, table: str) -> _TableLocations:
        with self._lock:
            loc = self._tables.get(table)
        if loc is None:
            loc = _TableLocations(self._fetch(table))
            with self._lock:
                self._tables[table] = loc
                self.refreshes += 1
        return loc

    def locate(self, table: str, row: bytes) -> str:
        """The name of the region holding ``row`` (1 REGIONS call on a cache miss)."""
        self.lookups += 1
        return self._table(table).locate(row)

    def group(self, table: str, rows: Sequence[bytes]) -> dict[str, list[int]]:
        """Positions of ``rows`` grouped by region, regions in key order."""
        loc = self._table(table)
        self.lookups += len(rows)
        out: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            out.setdefault(loc.locate(row), []).append(i)
        return out

    def forget(self, table: str) -> None:
        """Drop a table's cached locations (after NotServingRegion or a DDL change)."""
        with self._lock:
            self._tables.pop(table, None)
