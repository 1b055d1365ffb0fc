"""Split and merge of regions open on region servers in other processes.

Role: ``RemoteSplitMerge``, the split and merge half of ``RemoteProcedures``
(engine/remote_procedures.py): the hosting server closes the region(s), the master
lays out the new directories on the shared root with links to the old files, one meta
batch commits, the new regions open on the hosting server. Steps, failpoints and
recovery: docs/design/assignment.md ("Table procedures across processes").
Invariants: the commit point is the one meta batch; before it, a failure reopens the
old regions where they were and a new master does the same (SPLITTING/MERGING rows).
Concurrency: every procedure holds the master's DDL lock.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import RegionEntry, TableEntry
from hedgerow.engine.meta import MERGING, OPENING, SPLITTING, MetaRegion, refuse_reserved
from hedgerow.engine.remote_core import RemoteCore
from hedgerow.engine.remote_core import entry_of as _entry
from hedgerow.engine.tiling import check_tiling
from hedgerow.errors import InvalidArgument
from hedgerow.model.mutation import check_row
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames

if TYPE_CHECKING:
    from hedgerow.engine.master import Master

__all__ = ["RemoteSplitMerge"]

log = logging.getLogger("hedgerow.master")


class RemoteSplitMerge(RemoteCore):
    """``split_region`` and ``merge_regions`` on region servers."""

    # ---- split ----------------------------------------------------------------------------
    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        """Split a region open on a region server; its daughters open on that server.

        Steps (each persisted before it is carried out):

        1. the parent's row: SPLITTING, server = target = its host, proc ``split``
           (with the daughters' names and the next region id)  ``master.split.before_close``
        2. the host flushes and closes the parent          ``master.split.after_close``
        3. the master lays out both daughters' directories on the shared filesystem with
           links to the parent's files                     ``master.split.before_meta``
        4. one meta batch: the parent's row goes, the daughters' rows come in OPENING on
           the host (the commit point)                     ``master.split.after_meta``
        5. each daughter opens on the host, recorded OPEN; the parent's directory goes

        A failure before 4 reopens the parent where it was. Recovery by a new master:
        a SPLITTING row (no commit) is opened again (rolled back), daughters in OPENING
        are opened (rolled forward); leftover directories are orphans removed at start.
        """
        m = self.m
        refuse_reserved(table, "split")
        with m._ddl_lock:
            entry = m._enabled_entry(table)
            rows = self._remote_rows(table)
            local = self._local_regions(table)
            row = None if local and not rows else _pick(rows, region_name, split_row, m)
            if row is None:
                if _holds(local, region_name, split_row):  # on the master's own server
                    return m.split_region(table, region_name, split_row)
                raise InvalidArgument(
                    f"no open region of table {table!r} matches "
                    f"{region_name or split_row!r}: it is in transition or does not exist"
                )
            if split_row is not None:
                _check_inside(row, split_row)
            src = row.server or ""
            left = m._new_region_entry(row.start_key, b"")
            right = m._new_region_entry(b"", row.end_key)
            proc: dict[str, Any] = {
                "id": m.assignment._proc("split")["id"],
                "kind": "split",
                "daughters": [left.name, right.name],
            }
            row.state, row.server, row.target, row.proc = SPLITTING, src, src, proc
            m.meta.write(add=[row], next_region_id=m.catalog.next_region_id)
            try:
                failpoints.hit("master.split.before_close")
                m.server_manager.get(src).close_region(table, row.name)
                failpoints.hit("master.split.after_close")
                split_row = self._lay_out_daughters(entry, row, split_row, left, right)
                failpoints.hit("master.split.before_meta")
                dproc = {"id": proc["id"], "kind": "split"}
                daughters = m._meta_rows(table, [left, right])
                for d in daughters:
                    d.server, d.state, d.target, d.proc = src, OPENING, src, dproc
                m.meta.write(
                    add=daughters,
                    remove=m._meta_rows(table, [_entry(row)]),
                    next_region_id=m.catalog.next_region_id,
                )
            except BaseException:
                log.error("split of region %s failed before its commit; reopening it", row.name)
                m._remove_orphans()
                m.assignment._open_step(row, proc)
                raise
            failpoints.hit("master.split.after_meta")
            idx = [e.name for e in entry.regions].index(row.name)
            entry.regions = [*entry.regions[:idx], left, right, *entry.regions[idx + 1 :]]
            for d in daughters:
                m.assignment._open_step(d, dproc)
            m._gone(table, [row.name])
            log.info(
                "split region %s of %s at %r into %s and %s on %s",
                row.name,
                table,
                split_row,
                left.name,
                right.name,
                src,
            )
            return left.name, right.name

    def _lay_out_daughters(
        self,
        entry: TableEntry,
        row: MetaRegion,
        split_row: bytes | None,
        left: RegionEntry,
        right: RegionEntry,
    ) -> bytes:
        """Read the closed parent's files (shared filesystem), choose the split row if
        not given, and create both daughters' directories; returns the split row."""
        m = self.m
        table = row.table
        parent = m.rs.open_region(entry.descriptor, _entry(row), create=False)
        try:
            if parent.has_references():
                raise InvalidArgument(
                    f"region {row.name} still shares store files with its sibling from an "
                    "earlier split; compact the table first"
                )
            if split_row is None:
                split_row = parent.mid_row()
                if split_row is None:
                    raise InvalidArgument(f"region {row.name} has no middle row to split at")
            _check_inside(row, split_row)
            left.end_key = split_row
            right.start_key = split_row
            check_tiling(
                table,
                [d for e in entry.regions for d in ((left, right) if e.name == row.name else (e,))],
            )
            files = parent.store_files()
            for d in (left, right):
                Region.create_from_files(
                    m.fs,
                    m.rs.region_dir(table, d.name),
                    RegionInfo(table, d.name, d.start_key, d.end_key),
                    files,
                    parent.flushed_seq,
                    filenames.store_file_path,
                )
                failpoints.hit("master.split.after_daughter")
        finally:
            m.rs.close_region(parent, flush=False)
        return split_row

    # ---- merge ------------------------------------------------------------------------------
    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        """Merge two adjacent regions open on region servers; the merged region opens on
        the first one's server.

        Steps: both rows MERGING (each server = target = its host, proc ``merge``
        naming the new region) ``master.merge.before_close``; both close on their
        servers; the master lays out the merged directory with links to both regions'
        files ``master.merge.before_meta``; one meta batch replaces both rows by the
        merged one, OPENING on the first's server (the commit point)
        ``master.merge.after_meta``; it opens there; the old directories go. A failure
        or crash before the commit reopens both where they were.
        """
        m = self.m
        refuse_reserved(table, "merge regions of")
        with m._ddl_lock:
            entry = m._enabled_entry(table)
            remote = {r.name: r for r in self._remote_rows(table) if r.proc is None}
            if region_a not in remote or region_b not in remote:
                local = {r.info.name for r in self._local_regions(table)}
                if {region_a, region_b} <= local:  # both on the master's own server
                    return m.merge_regions(table, region_a, region_b)
                raise InvalidArgument(
                    f"regions {region_a} and {region_b} of table {table!r} are not both open "
                    "on region servers (in transition, on different kinds of server, or "
                    "not regions of the table)"
                )
            names = [e.name for e in entry.regions]
            ia, ib = sorted((names.index(region_a), names.index(region_b)))
            if ib != ia + 1:
                raise InvalidArgument(
                    f"regions {region_a} and {region_b} of table {table!r} are not adjacent"
                )
            a, b = remote[entry.regions[ia].name], remote[entry.regions[ib].name]
            dest = a.server or ""
            merged = m._new_region_entry(a.start_key, b.end_key)
            proc: dict[str, Any] = {
                "id": m.assignment._proc("merge")["id"],
                "kind": "merge",
                "merged": merged.name,
            }
            for r in (a, b):
                r.state, r.target, r.proc = MERGING, r.server or "", proc
            m.meta.write(add=[a, b], next_region_id=m.catalog.next_region_id)
            try:
                failpoints.hit("master.merge.before_close")
                for r in (a, b):
                    m.server_manager.get(r.server or "").close_region(table, r.name)
                self._lay_out_merged(entry, a, b, merged)
                check_tiling(table, [*entry.regions[:ia], merged, *entry.regions[ib + 1 :]])
                failpoints.hit("master.merge.before_meta")
                mproc = {"id": proc["id"], "kind": "merge"}
                (row,) = m._meta_rows(table, [merged])
                row.server, row.state, row.target, row.proc = dest, OPENING, dest, mproc
                m.meta.write(
                    add=[row],
                    remove=m._meta_rows(table, [_entry(a), _entry(b)]),
                    next_region_id=m.catalog.next_region_id,
                )
            except BaseException:
                log.error("merge of %s and %s failed before its commit; reopening", a.name, b.name)
                m._remove_orphans()
                for r in (a, b):
                    m.assignment._open_step(r, proc)
                raise
            failpoints.hit("master.merge.after_meta")
            entry.regions = [*entry.regions[:ia], merged, *entry.regions[ib + 1 :]]
            m.assignment._open_step(row, mproc)
            m._gone(table, [a.name, b.name])
            return merged.name

    def _lay_out_merged(
        self, entry: TableEntry, a: MetaRegion, b: MetaRegion, merged: RegionEntry
    ) -> None:
        m = self.m
        table = entry.descriptor.name
        files: dict[bytes, list[tuple[Any, str]]] = {}
        seq = 0
        for r in (a, b):
            region = m.rs.open_region(entry.descriptor, _entry(r), create=False)
            try:
                if region.has_references():
                    raise InvalidArgument(
                        f"region {r.name} still shares store files with a sibling; compact "
                        "the table first"
                    )
                for fam, lst in region.store_files().items():
                    files.setdefault(fam, []).extend(lst)
                seq = max(seq, region.flushed_seq)
            finally:
                m.rs.close_region(region, flush=False)
        Region.create_from_files(
            m.fs,
            m.rs.region_dir(table, merged.name),
            RegionInfo(table, merged.name, merged.start_key, merged.end_key),
            files,
            seq,
            filenames.store_file_path,
        )


def _check_inside(row: MetaRegion, split_row: bytes) -> None:
    check_row(split_row)
    if split_row <= row.start_key or (row.end_key and split_row >= row.end_key):
        raise InvalidArgument(
            f"split row {split_row!r} is not inside region {row.name} "
            f"[{row.start_key!r}, {row.end_key!r})"
        )


def _holds(local: list[Region], region_name: str | None, split_row: bytes | None) -> bool:
    """Whether the master's own server hosts the region a split names."""
    if region_name is not None:
        return any(r.info.name == region_name for r in local)
    if split_row is not None:
        return any(
            r.info.start_key <= split_row and (not r.info.end_key or split_row < r.info.end_key)
            for r in local
        )
    return bool(local)


def _pick(
    rows: list[MetaRegion], region_name: str | None, split_row: bytes | None, m: Master
) -> MetaRegion | None:
    """The remote row to split: by name, by the row it holds, or the largest."""
    if region_name is not None:
        return next((r for r in rows if r.name == region_name and r.proc is None), None)
    if split_row is not None:
        return next(
            (
                r
                for r in rows
                if r.proc is None
                and r.start_key <= split_row
                and (not r.end_key or split_row < r.end_key)
            ),
            None,
        )
    if not rows:
        return None
    reports = m.server_manager.refresh()

    def size(r: MetaRegion) -> int:
        rep = reports.get(r.server or "")
        load = rep.regions.get(r.name) if rep is not None else None
        return 0 if load is None else load.store_file_bytes + load.memstore_bytes

    return max(rows, key=lambda r: (size(r), r.name))
