"""The read path of a region: point gets and (reverse, filtered) scans.

Role: the ``get``/``scan`` half of ``Region`` (a mixin over ``RegionCore``).
Each family's store yields merged internal-key entries; ``query_matcher``
resolves versions, deletes and TTL per family; families are merged by row and
the spec's filter is applied row by row (``_filtered``).
Invariants: a read sees exactly the writes whose seq is <= its read point
(``mvcc.read_point`` unless given); rows outside ``info``'s range are never
returned; gets and filtered scans call ``_internal.deadline.check()`` once per
row, so an RPC request's deadline stops them mid-scan (issue 11, finding 6).
Concurrency: lock-free against writers (MVCC read points); a scan iterator is
used by one thread.
Hot path: ``get`` (the unfiltered fast path) and ``scan``; bench/engine.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hedgerow._internal import deadline
from hedgerow.errors import RegionClosed
from hedgerow.model.cell import Cell
from hedgerow.model.keys import row_end, row_of, row_prefix
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.region.core import RegionCore
from hedgerow.region.query_matcher import (
    VersionCounter,
    apply_row_filter,
    oldest_unexpired,
    resolve_family,
    row_visible,
)
from hedgerow.storage.store import Store

__all__ = ["ReadPath"]

_MAX_KEY = b"\xff" * 65540  # greater than every internal key (rows are <= 32767 bytes)


class ReadPath(RegionCore):
    """Reading: ``get``, ``scan``."""

    def _families_for(self, spec: ReadSpec) -> list[Store]:
        if spec.columns is None:
            return list(self.stores.values())
        out = []
        for fam in sorted(spec.columns):
            out.append(self._store(fam))
        return out

    def _rows(
        self,
        start: bytes,
        stop: bytes | None,
        spec: ReadSpec,
        read_point: int,
        now: int,
        *,
        row: bytes | None = None,
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        count = spec.filter is None
        gens = [
            resolve_family(
                s.merged(start, stop, row=row),
                s.family,
                s.cf,
                spec,
                read_point,
                now,
                count_versions=count,
            )
            for s in self._families_for(spec)
        ]
        if len(gens) == 1:
            return gens[0]
        return _merge_rows(gens)

    def _filtered(
        self,
        rows: Iterator[tuple[bytes, list[Cell]]],
        spec: ReadSpec,
        now: int,
        state: dict[str, Any] | None = None,
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Apply the spec's filter row by row (steps of hedgerow.model.filters.evaluate).

        ``state`` carries the per-family scanner positions across calls; when every
        family's position lies in a later row, ``state["restart"]`` is set to that
        row and iteration stops so the caller can seek there instead of reading the
        rows between.
        """
        filt = spec.filter
        if filt is None:
            yield from rows
            return
        limits = {
            s.family: (
                min(spec.max_versions, s.cf.max_versions),
                s.cf.min_versions,
                oldest_unexpired(s.cf, now),
            )
            for s in self.stores.values()
        }
        if state is None:
            state = {}
        positions: dict[bytes, tuple[bytes, bytes, bytes, int, int]] = state.setdefault(
            "positions", {}
        )
        n_families = len(self._families_for(spec))
        check_deadline = deadline.check  # hoisted: once per row
        for row, cells in rows:
            # a request's deadline stops a scan whose filter drops row after row
            # (issue 11 f6); outside an RPC request there is none and this returns
            check_deadline()
            if positions and not row_visible(cells, positions):
                continue
            if filt.filter_all_remaining():
                state["done"] = True
                return
            filt.reset()
            if filt.filter_row_key(row):
                if filt.filter_all_remaining():
                    state["done"] = True
                    return
                continue
            out, stop = apply_row_filter(filt, row, cells, VersionCounter(limits), positions)
            if out:
                yield row, out
            if stop or filt.filter_all_remaining():
                state["done"] = True
                return
            if len(positions) == n_families:
                nxt = min(p[0] for p in positions.values())
                # NEXT_ROW leaves positions at row + 0x00, which the next row passes anyway;
                # re-seeking every row would rebuild every source for nothing
                if nxt > row + b"\x00":
                    state["restart"] = nxt
                    return

    def get(self, row: bytes, spec: ReadSpec, *, read_point: int | None = None) -> list[Cell]:
        """The cells of one row (one bloom check and one block read per store file)."""
        if self.closed:
            raise RegionClosed(f"region {self.info.name} of table {self.table.name!r} is closed")
        deadline.check()  # a multi-get's rows each come here (issue 11 f6)
        rp = self.mvcc.read_point if read_point is None else read_point
        now = self._clock.now_ms()
        self.read_requests += 1
        if spec.filter is None:
            # fast path: no filter, so no _filtered/_merge_rows generators; each
            # family's row is read eagerly (Store.point_entries) and resolved, and the
            # families' cells are concatenated in _families_for order, as _merge_rows does
            start, stop = row_prefix(row), row_end(row)
            out: list[Cell] | None = None
            cols = spec.columns
            for s in self._families_for(spec):
                quals = None if cols is None else cols.get(s.family)
                entries = s.point_entries(row, start, stop, quals)
                if not entries:
                    continue
                for _r, cells in resolve_family(
                    entries, s.family, s.cf, spec, rp, now, count_versions=True
                ):
                    if out is None:
                        out = cells
                    else:
                        out.extend(cells)
            return [] if out is None else out
        rows = self._rows(row_prefix(row), row_end(row), spec, rp, now, row=row)
        for _r, cells in self._filtered(rows, spec, now):
            return cells
        return []

    def scan(
        self, rng: ScanRange, spec: ReadSpec, *, read_point: int | None = None
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows in ``rng`` within this region, in order (reverse when ``rng.reverse``).

        RegionClosed when the region is closed, or closed while the scan ran (a split,
        merge, move or alter): its stores may have been released under the scan, so the
        rows given may stop short of what it held; the caller goes on after the last row
        it got, on whatever region serves the rest. (Ending quietly instead lost rows: a
        scan racing a split in a cluster returned 659 of 2,000.)"""
        if self.closed:
            raise RegionClosed(f"region {self.info.name} of table {self.table.name!r} is closed")
        yield from self._scan_open(rng, spec, read_point)
        if self.closed:
            raise RegionClosed(
                f"region {self.info.name} of table {self.table.name!r} closed during the scan"
            )

    def _scan_open(
        self, rng: ScanRange, spec: ReadSpec, read_point: int | None
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        rp = self.mvcc.read_point if read_point is None else read_point
        now = self._clock.now_ms()
        if rng.reverse:
            yield from self._scan_reverse(rng, spec, rp, now)
            return
        start_row = rng.start
        if start_row is not None and self.info.start_key > start_row:
            start_row, start_incl = self.info.start_key, True
        else:
            start_incl = rng.start_inclusive
        if start_row is None or start_row == b"":
            start_key = row_prefix(self.info.start_key) if self.info.start_key else b""
        else:
            start_key = row_prefix(start_row) if start_incl else row_end(start_row)
        stop_keys = []
        if rng.stop is not None:
            stop_keys.append(row_end(rng.stop) if rng.stop_inclusive else row_prefix(rng.stop))
        if self.info.end_key:
            stop_keys.append(row_prefix(self.info.end_key))
        stop_key = min(stop_keys) if stop_keys else None
        state: dict[str, Any] = {}
        while True:
            rows = self._rows(start_key, stop_key, spec, rp, now)
            if spec.filter is None:  # fast path: no _filtered generator per row
                for item in rows:
                    self.read_requests += 1
                    yield item
                return
            for item in self._filtered(rows, spec, now, state):
                self.read_requests += 1
                yield item
            restart = state.pop("restart", None)
            if restart is None or state.get("done"):
                return
            start_key = row_prefix(restart)
            if stop_key is not None and start_key >= stop_key:
                return

    def _scan_reverse(
        self, rng: ScanRange, spec: ReadSpec, rp: int, now: int
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        # reverse: rng.start is the high end, rng.stop the low end (HBase semantics)
        if rng.start is None or rng.start == b"":
            upper = _MAX_KEY
        else:
            upper = row_end(rng.start) if rng.start_inclusive else row_prefix(rng.start)
        if self.info.end_key:
            upper = min(upper, row_prefix(self.info.end_key))
        lower: bytes | None = None
        if rng.stop:
            lower = row_prefix(rng.stop) if rng.stop_inclusive else row_end(rng.stop)
        if self.info.start_key:
            lk = row_prefix(self.info.start_key)
            lower = lk if lower is None else max(lower, lk)
        stores = self._families_for(spec)
        state: dict[str, Any] = {}
        while True:
            deadline.check()
            best: bytes | None = None
            for s in stores:
                k = s.last_row_key_before(upper)
                if k is not None and (best is None or k > best):
                    best = k
            if best is None or (lower is not None and best < lower):
                return
            row = row_of(best)
            upper = row_prefix(row)
            rows = self._rows(row_prefix(row), row_end(row), spec, rp, now, row=row)
            yield from self._filtered(rows, spec, now, state)
            state.pop("positions", None)  # forward hints mean nothing in reverse
            if state.get("done"):
                return


def _merge_rows(
    gens: list[Iterator[tuple[bytes, list[Cell]]]],
) -> Iterator[tuple[bytes, list[Cell]]]:
    import heapq

    cur: bytes | None = None
    acc: list[Cell] = []
    for row, cells in heapq.merge(*gens, key=lambda t: t[0]):
        if row != cur:
            if acc:
                yield cur, acc  # type: ignore[misc]
            cur = row
            acc = list(cells)
        else:
            acc.extend(cells)
    if acc:
        yield cur, acc  # type: ignore[misc]
