"""The master's region procedures: split and merge.

Role: ``Master.split_region`` (also the region server's ``request_split``) and
``Master.merge_regions``, following docs/design/region-lifecycle.md: close the
parent(s), lay out the new region directories with links to their files,
commit the new region list in one meta batch and the catalog, then open and
serve the new regions.
Invariants: the commit point is the meta batch (after ``check_tiling``); a
failure before it reopens the old regions (``_reopen_after_failure``) and the
new directories are orphans removed at once or at the next open; a region with
reference files (``has_references``) is not split or merged again until a
compaction rewrote them.
Concurrency: every procedure holds the master's ``_ddl_lock``; the region
server's online map is switched atomically, so requests route without locking
and see ``RegionClosed`` (then route again) while a parent is closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import RegionEntry, TableEntry
from hedgerow.engine.master_core import MasterCore
from hedgerow.engine.meta import (
    MERGING,
    OPEN,
    SPLITTING,
    MetaRegion,
    refuse_reserved,
)
from hedgerow.engine.regionserver import RegionServer, TableRegions
from hedgerow.engine.tiling import check_tiling
from hedgerow.errors import (
    InvalidArgument,
)
from hedgerow.model.mutation import check_row
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames

__all__ = ["RegionProcedures"]

log = logging.getLogger("hedgerow.master")


class RegionProcedures(MasterCore):
    """Regions: ``split_region``, ``merge_regions``."""

    def _find_region(self, tr: TableRegions, name: str) -> int:
        i = tr.index.get(name)
        if i is None:
            raise InvalidArgument(f"table {tr.regions[0].info.table!r} has no region {name!r}")
        return i

    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        """Split a region in two at ``split_row`` (default: its middle row).

        Without ``region_name`` the region holding ``split_row`` is split, or, when no
        row is given either, the largest region. Steps (docs/design/region-lifecycle.md):
        flush and close the parent; create both daughters' directories with links to
        the parent's store files; one meta batch replaces the parent by the daughters
        (the commit point); open and assign the daughters; delete the parent's
        directory. A crash before the meta batch leaves the parent (daughter
        directories are orphans removed at open); after it, the daughters. Returns
        the daughters' names.
        """
        refuse_reserved(table, "split")
        rs = self.rs
        with self._ddl_lock:
            entry = self._enabled_entry(table)
            tr = self._online(table)
            if region_name is not None:
                idx = self._find_region(tr, region_name)
            elif split_row is not None:
                idx = tr.regions.index(tr.for_row(split_row))
            else:
                idx = max(range(len(tr.regions)), key=lambda i: tr.regions[i].size_bytes())
            parent = tr.regions[idx]
            info = parent.info
            rs = self._server_of(parent)  # the daughters open where the parent was
            if parent.has_references():
                rs.compact_region(parent, major=False)
            if parent.has_references():
                raise InvalidArgument(
                    f"region {info.name} still shares store files with its sibling from an "
                    "earlier split; compact it first"
                )
            if split_row is None:
                parent.flush()
                split_row = parent.mid_row()
                if split_row is None:
                    raise InvalidArgument(f"region {info.name} has no middle row to split at")
            check_row(split_row)
            if split_row <= info.start_key or (info.end_key and split_row >= info.end_key):
                raise InvalidArgument(
                    f"split row {split_row!r} is not inside region {info.name} "
                    f"[{info.start_key!r}, {info.end_key!r})"
                )
            # recorded first (HBase's SPLITTING): a crash before the commit leaves the
            # parent, which the next open records OPEN again
            self._mark(table, [parent], rs.name, SPLITTING)
            failpoints.hit("master.split.before_close")
            rs.close_region(parent, flush=True)
            try:
                files = parent.store_files_snapshot
                left = self._new_region_entry(info.start_key, split_row)
                right = self._new_region_entry(split_row, info.end_key)
                for d in (left, right):
                    Region.create_from_files(
                        self.fs,
                        rs.region_dir(table, d.name),
                        RegionInfo(table, d.name, d.start_key, d.end_key),
                        files,
                        parent.flushed_seq,
                        filenames.store_file_path,
                    )
                    failpoints.hit("master.split.after_daughter")
                check_tiling(table, [*entry.regions[:idx], left, right, *entry.regions[idx + 1 :]])
                failpoints.hit("master.split.before_meta")
                self.meta.write(
                    add=self._hosted_rows(table, (left, right), rs.name),
                    remove=self._meta_rows(table, [_entry_of(info)]),
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                self._reopen_after_failure(entry, tr, rs, idx)
                self._mark(table, [parent], rs.name, OPEN, quiet=True)
                raise
            failpoints.hit("master.split.after_meta")
            regions_before = entry.regions
            entry.regions = [*regions_before[:idx], left, right, *regions_before[idx + 1 :]]
            daughters = [rs.open_region(entry.descriptor, e, create=False) for e in (left, right)]
            self.rs.set_online(table, [*tr.regions[:idx], *daughters, *tr.regions[idx + 1 :]])
            self._gone(table, [info.name])
            log.info(
                "split region %s of %s at %r into %s and %s",
                info.name,
                table,
                split_row,
                left.name,
                right.name,
            )
            for daughter in daughters:
                rs.request_compaction(daughter)
            return left.name, right.name

    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        """Merge two adjacent regions into one; returns the new region's name.

        Both must be free of files shared from an earlier split (they are compacted
        first if not). Steps mirror ``split_region``: flush and close both, create the
        merged directory with links to both regions' files, one meta batch (commit
        point), open and assign, delete the old directories.
        """
        refuse_reserved(table, "merge regions of")
        rs = self.rs
        with self._ddl_lock:
            entry = self._enabled_entry(table)
            tr = self._online(table)
            ia, ib = sorted((self._find_region(tr, region_a), self._find_region(tr, region_b)))
            if ib != ia + 1:
                raise InvalidArgument(
                    f"regions {region_a} and {region_b} of table {table!r} are not adjacent"
                )
            a, b = tr.regions[ia], tr.regions[ib]
            rs = self._server_of(a)  # the merged region opens where the first one was
            for r in (a, b):
                if r.has_references():
                    rs.compact_region(r, major=False)
                if r.has_references():
                    raise InvalidArgument(
                        f"region {r.info.name} still shares store files with a sibling"
                    )
            self._mark(table, [a, b], rs.name, MERGING)
            failpoints.hit("master.merge.before_close")
            rs.close_region(a, flush=True)
            rs.close_region(b, flush=True)
            try:
                merged = self._new_region_entry(a.info.start_key, b.info.end_key)
                files: dict[bytes, list[tuple[Any, str]]] = {}
                for r in (a, b):
                    for fam, lst in r.store_files_snapshot.items():
                        files.setdefault(fam, []).extend(lst)
                Region.create_from_files(
                    self.fs,
                    rs.region_dir(table, merged.name),
                    RegionInfo(table, merged.name, merged.start_key, merged.end_key),
                    files,
                    max(a.flushed_seq, b.flushed_seq),
                    filenames.store_file_path,
                )
                check_tiling(table, [*entry.regions[:ia], merged, *entry.regions[ib + 1 :]])
                failpoints.hit("master.merge.before_meta")
                self.meta.write(
                    add=self._hosted_rows(table, [merged], rs.name),
                    remove=self._meta_rows(table, [_entry_of(a.info), _entry_of(b.info)]),
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                self._reopen_after_failure(entry, tr, rs, ia, ib)
                self._mark(table, [a, b], rs.name, OPEN, quiet=True)
                raise
            failpoints.hit("master.merge.after_meta")
            regions_before = entry.regions
            entry.regions = [*regions_before[:ia], merged, *regions_before[ib + 1 :]]
            region = rs.open_region(entry.descriptor, merged, create=False)
            self.rs.set_online(table, [*tr.regions[:ia], region, *tr.regions[ib + 1 :]])
            self._gone(table, [a.info.name, b.info.name])
            return merged.name

    def _split_request(self, table: str, region_name: str) -> object:
        return self.split_region(table, region_name)

    def _merge(self, table: str, region_a: str, region_b: str) -> object:
        return self.merge_regions(table, region_a, region_b)

    def _mark(
        self, table: str, regions: Sequence[Region], server: str, state: str, *, quiet: bool = False
    ) -> None:
        """Record ``regions`` in ``state`` on ``server`` in meta (``quiet``: log a failure
        instead of raising it, when another error is already on its way)."""
        rows = [
            # state "": unknown here, so the row is always written
            MetaRegion(table, r.info.name, r.info.start_key, r.info.end_key, server, "")
            for r in regions
        ]
        try:
            self.meta.assign(rows, server, state)
        except Exception as e:
            if not quiet:
                raise
            log.error("hbase:meta: regions %s not recorded %s: %r", rows, state, e)

    def _hosted_rows(
        self, table: str, entries: Sequence[RegionEntry], server: str
    ) -> list[MetaRegion]:
        rows = self._meta_rows(table, entries)
        for row in rows:
            row.server = server
        return rows

    def _reopen_after_failure(
        self, entry: TableEntry, tr: TableRegions, rs: RegionServer, *indexes: int
    ) -> None:
        """A split or merge failed before its commit: serve the old regions again (on
        the server that hosted them)."""
        known = {e.name: e for e in entry.regions}
        regions = list(tr.regions)
        for i in indexes:
            old = tr.regions[i]
            e = known.get(old.info.name)
            if old.closed and e is not None:
                regions[i] = rs.open_region(entry.descriptor, e, create=False)
        self.rs.set_online(entry.descriptor.name, regions)
        self._remove_orphans()


def _entry_of(info: RegionInfo) -> RegionEntry:
    return RegionEntry(info.name, info.start_key, info.end_key)
