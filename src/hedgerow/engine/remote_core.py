"""The shared part of the table procedures that drive region servers in other
processes (engine/remote_procedures.py, engine/remote_split_merge.py).

Role: where the regions of a table are (meta rows OPEN on a live region server in
another process, or open on the master's own servers), spreading new regions over the
region servers, and putting back regions a failed procedure had closed.
Concurrency: callers hold the master's DDL lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.meta import OPEN, MetaRegion
from hedgerow.region.region import Region

if TYPE_CHECKING:
    from hedgerow.engine.master import Master

__all__ = ["RemoteCore", "entry_of"]

log = logging.getLogger("hedgerow.master")


class RemoteCore:
    """Lookups and helpers of ``RemoteProcedures`` (``m``: the master)."""

    def __init__(self, master: Master) -> None:
        self.m = master

    # ---- where things are ----------------------------------------------------------------
    def _local(self) -> set[str]:
        return {s.name for s in self.m.region_servers}

    def _remote_candidates(self) -> list[str]:
        local = self._local()
        return [n for n in self.m.server_manager.candidates() if n not in local]

    def _rows(self, table: str) -> list[MetaRegion]:
        region_map, _ = self.m.meta.load()
        return region_map.get(table, [])

    def _remote_rows(self, table: str) -> list[MetaRegion]:
        """The table's rows OPEN on a live region server in another process."""
        local = self._local()
        sm = self.m.server_manager
        return [
            r
            for r in self._rows(table)
            if r.state == OPEN and r.server and r.server not in local and sm.is_live(r.server)
        ]

    def _spread(self, n: int) -> list[str]:
        """``n`` targets over the remote candidates, fewest regions first."""
        counts = {c: 0 for c in self._remote_candidates()}
        for c, k in self.m.assignment.counts().items():
            if c in counts:
                counts[c] = k
        out = []
        for _ in range(n):
            best = min(counts, key=lambda c: (counts[c], c))
            counts[best] += 1
            out.append(best)
        return out

    def _reassign(self, done: list[tuple[str, str]]) -> None:
        """Open again, each on the server it was on (or the least-loaded candidate),
        regions a failed procedure had unassigned; errors are logged (the first error
        is already on its way)."""
        m = self.m
        for name, server in done:
            dest = server if server in m.server_manager.candidates() else None
            try:
                m.assignment.assign(name, dest)
            except Exception as e:
                log.error("reopening region %s failed: %r", name, e)

    @staticmethod
    def _quietly(fn: Callable[[], object], what: str) -> None:
        try:
            fn()
        except Exception as e:
            log.error("%s failed: %r", what, e)

    def _local_regions(self, table: str) -> list[Region]:
        return [r for s in self.m.region_servers for r in s.hosted() if r.info.table == table]


def entry_of(row: MetaRegion) -> RegionEntry:
    return RegionEntry(row.name, row.start_key, row.end_key)
