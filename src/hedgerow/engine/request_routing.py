"""A region server's request path: route each row to its online region and serve it.

Role: the request half of ``RegionServer`` (a mixin over ``BackgroundWork``: a
write asks for a flush when its region reached its flush size). Writes
(``mutate``, ``increment``, ``append``, ``check_and_mutate``) and reads
(``get``, ``get_many``, ``scan``) find their region in ``_online`` by bisecting
the start keys (``TableRegions.for_row``).
Invariants: a request only ever touches an online region; a region closed under
a request raises ``RegionClosed`` and the request is routed again (every 10 ms,
up to 200 times) against the new region list, so callers never see a split;
writes to a reserved namespace (hbase:meta) are refused (``refuse_meta``).
Concurrency: thread-safe; routing reads ``_online`` without locking (it is
replaced copy-on-write); writes take only their region's locks.
Hot path: ``mutate`` and ``get``; bench/engine.py.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from hedgerow.engine.background import BackgroundWork
from hedgerow.engine.meta import (
    META_TABLE,
    refuse_reserved,
)
from hedgerow.engine.regionserver_core import TableRegions
from hedgerow.errors import (
    ClosedError,
    NotServingRegion,
    RegionClosed,
)
from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.region.region import Region
from hedgerow.storage.wal import Durability

__all__ = ["RequestRouting", "not_serving", "refuse_meta"]

_T = TypeVar("_T")
#: how often a request is routed again when its region closed under it
_RETRIES = 200


class RequestRouting(BackgroundWork):
    """Routing, writing and reading (see ``RegionServer`` for the list)."""

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
        self.not_serving_answers += 1
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


def not_serving(table: str, region: str) -> NotServingRegion:
    return NotServingRegion(
        f"region {region} of table {table!r} is not served here "
        "(split, merged or moved); look it up again"
    )


def refuse_meta(table: str) -> None:
    """Writes to a table of a reserved namespace (hbase:meta) are refused: ReservedName."""
    refuse_reserved(table, "write to")
