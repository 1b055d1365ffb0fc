"""Table procedures that drive region servers in other processes (issue 14).

Role: the active master of a cluster of processes (server/cluster_master.py) runs
create, split, disable, alter and delete through ``RegionServerClient`` on whichever
server hosts each region, instead of first moving the table's regions to its own
region server. Every step is persisted in the region's meta row before it is carried
out (``info:state``, ``info:server``, ``info:target``, ``info:proc``; as
engine/assignment.py does for a move), so a master that dies mid-way is succeeded by one
that rolls the same procedure forward or back (``Master.start``, then
``AssignmentManager.resume``). Steps, failpoints and recovery: docs/design/assignment.md
("Table procedures across processes").
Invariants: the commit point of each procedure is the same one write as in
engine/master.py (catalog write for create/disable/alter/delete, one meta batch for
split); a region is opened only through ``AssignmentManager._open_step``, which closes
any stray copy first (never two servers). New region directories are laid out by the
master on the shared filesystem (every server sees the one root).
Concurrency: every procedure holds the master's DDL lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import RegionEntry, TableEntry
from hedgerow.engine.meta import (
    CLOSED,
    CLOSING,
    MERGING,
    META_TABLE,
    OPEN,
    OPENING,
    SPLITTING,
    MetaRegion,
    refuse_reserved,
)
from hedgerow.engine.tiling import check_tiling
from hedgerow.errors import InvalidArgument, TableDisabled, TableEnabled, TableExists
from hedgerow.model.mutation import check_row
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage import filenames

if TYPE_CHECKING:
    from hedgerow.engine.master import Master

__all__ = ["RemoteProcedures"]

log = logging.getLogger("hedgerow.master")


class RemoteProcedures:
    """create/split/disable/alter/delete of tables whose regions live on region servers
    other than the master's own (``local``: the in-process servers' names)."""

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

    # ---- create ---------------------------------------------------------------------------
    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        """Create a table with its regions opened on the region servers.

        Steps: lay out the region directories (shared filesystem); one meta batch adds
        the rows OPENING on their targets with a ``create`` procedure
        (``master.create_table.before_meta``, ``before_catalog``); the catalog write
        commits (``after_catalog``); each region opens on its target and is recorded
        OPEN. A crash before the catalog write leaves no table (the next master drops the
        meta rows and directories); after it, the next master opens the regions.
        """
        m = self.m
        if not self._remote_candidates():
            m.create_table(desc, split_keys)
            return
        refuse_reserved(desc.name, "create")
        keys = sorted(set(split_keys))
        for k in keys:
            check_row(k)
        with m._ddl_lock:
            if desc.name in m.catalog.tables:
                raise TableExists(f"table {desc.name!r} already exists")
            entries = m._new_entries(keys)
            check_tiling(desc.name, entries)
            for e in entries:  # the directories, on the root every server reads
                m.rs.close_region(m.rs.open_region(desc, e, create=True), flush=False)
            proc = m.assignment._proc("create")
            rows = m._meta_rows(desc.name, entries)
            for row, target in zip(rows, self._spread(len(rows)), strict=True):
                row.server, row.state, row.target, row.proc = target, OPENING, target, proc
            try:
                failpoints.hit("master.create_table.before_meta")
                m.meta.write(add=rows, next_region_id=m.catalog.next_region_id)
                failpoints.hit("master.create_table.before_catalog")
                m.catalog.tables[desc.name] = TableEntry(desc, True, entries)
                try:
                    m._save_catalog()
                except BaseException:
                    del m.catalog.tables[desc.name]
                    raise
            except BaseException:  # not created: its rows and directories go now
                self._quietly(lambda: m.meta.write(remove=rows), "removing the new meta rows")
                self._quietly(m._remove_orphans, "removing the new directories")
                raise
            failpoints.hit("master.create_table.after_catalog")
            for row in rows:
                m.assignment._open_step(row, proc)

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

    # ---- disable, alter, delete ------------------------------------------------------------
    def disable_table(self, table: str) -> None:
        """Unassign each region on its region server (CLOSING, close, CLOSED: persisted
        steps, engine/assignment.py), then the master's own part and the catalog
        commit (``Master.disable_table``)."""
        m = self.m
        refuse_reserved(table, "disable")
        with m._ddl_lock:
            if not m._entry(table).enabled:
                raise TableDisabled(f"table {table!r} is already disabled")
            done: list[tuple[str, str]] = []
            try:
                for row in self._remote_rows(table):
                    m.assignment.unassign(row.name)
                    done.append((row.name, row.server or ""))
                failpoints.hit("master.disable.after_unassign")
                m.disable_table(table)  # the master's own regions, and the commit
            except BaseException:  # still enabled: serve what was closed again
                self._reassign(done)
                raise

    def enable_table(self, table: str) -> None:
        """Commit the enabled state (catalog write), then assign each region to a region
        server (persisted steps: OPENING, open, OPEN). A crash after the commit leaves
        CLOSED rows of an enabled table, which the next master opens."""
        m = self.m
        refuse_reserved(table, "enable")
        with m._ddl_lock:
            entry = m._entry(table)
            if entry.enabled or not self._remote_candidates():
                m.enable_table(table)  # refuses an enabled table
                return
            entry.enabled = True
            try:
                m._save_catalog()
            except BaseException:
                entry.enabled = False
                raise
            failpoints.hit("master.enable.before_open")
            names = [e.name for e in entry.regions]
            for name, target in zip(names, self._spread(len(names)), strict=True):
                m.assignment.assign(name, target)

    def modify_table(self, desc: TableDescriptor) -> None:
        """Unassign each remote region, commit the descriptor (``Master.modify_table``),
        and open each region again on the server it was on. A crash in between leaves
        CLOSED rows of an enabled table, which the next master opens."""
        m = self.m
        refuse_reserved(desc.name, "alter")
        with m._ddl_lock:
            entry = m._entry(desc.name)
            moved = [(r.name, r.server or "") for r in self._remote_rows(desc.name)]
            for name, _server in moved:
                m.assignment.unassign(name)
            failpoints.hit("master.alter.after_unassign")
            try:
                if self._local_regions(desc.name):
                    m.modify_table(desc)  # and the master's own regions
                else:
                    previous = entry.descriptor
                    entry.descriptor = desc
                    try:
                        m._save_catalog()  # the commit point
                    except BaseException:
                        entry.descriptor = previous
                        raise
            finally:
                for name, server in moved:
                    ok = server in m.server_manager.candidates()
                    m.assignment.assign(name, server if ok else None)

    def delete_table(self, table: str) -> None:
        """A disabled table has no open region anywhere: the master's procedure."""
        m = self.m
        with m._ddl_lock:
            if m._entry(table).enabled:
                raise TableEnabled(f"table {table!r} is enabled; disable it first")
            stray = [r.name for r in self._rows(table) if r.state != CLOSED]
            if stray:
                log.warning("regions %s of disabled table %s were not CLOSED", stray, table)
            m.delete_table(table)

    # ---- flush, compact: close -> act on the shared filesystem -> open ----------------------
    def flush_table(self, table: str) -> None:
        """Flush every region: a remote region by closing it on its server (a close
        flushes) and opening it there again (``_offline``); the master's own directly."""
        self._each_region(table, "flush", None)

    def compact_table(self, table: str, *, major: bool = False) -> None:
        """Compact every region: a remote one is closed on its server (flushed), the
        master compacts its files on the shared filesystem, and it opens on the same
        server again (``_offline``); the master's own regions in place."""
        self._each_region(table, "compact", major)

    def _each_region(self, table: str, kind: str, major: bool | None) -> None:
        m = self.m
        with m._ddl_lock:
            if table == META_TABLE:
                if major is None:
                    m.flush_table(table)
                else:
                    m.compact_table(table, major=major)
                return
            entry = m._entry(table)
            for region in self._local_regions(table):
                if major is None:
                    region.flush()
                else:
                    region.flush()
                    m._server_of(region).compact_region(region, major=major)
            for row in self._remote_rows(table):
                act = None if major is None else self._compact_files(entry, major)
                self._offline(row, kind, act)

    def _compact_files(self, entry: TableEntry, major: bool) -> Callable[[MetaRegion], None]:
        def act(row: MetaRegion) -> None:
            m = self.m
            region = m.rs.open_region(entry.descriptor, _entry(row), create=False)
            try:
                m.rs.compact_region(region, major=major)
            finally:
                m.rs.close_region(region, flush=False)

        return act

    def _offline(
        self, row: MetaRegion, kind: str, act: Callable[[MetaRegion], None] | None
    ) -> None:
        """Take a region off its server, act on its files, open it there again; steps:
        CLOSING (server = target = its host, proc ``kind``), close, ``act``, OPENING,
        open, OPEN: a new master rolls it back (still open) or forward (reopens it)
        like a move to the same server (engine/assignment.py, ``resume``)."""
        m = self.m
        src = row.server or ""
        proc = m.assignment._proc(kind)
        m.meta.transition(row, CLOSING, src, src, proc)
        try:
            failpoints.hit(f"master.{kind}.after_closing")
            m.server_manager.get(src).close_region(row.table, row.name)
        except BaseException:  # still open there (a failed close keeps serving)
            m.meta.transition(row, OPEN, src)
            raise
        try:
            if act is not None:
                act(row)
        finally:
            m.meta.transition(row, OPENING, src, src, proc)
            m.assignment._open_step(row, proc)

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

    # ---- truncate ---------------------------------------------------------------------------
    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        """Replace every region by a new empty one: each remote region is unassigned
        (persisted steps), the new directories are laid out, one meta batch swaps the
        rows (the commit point; the new ones OPENING on the region servers with a
        ``truncate`` procedure, or CLOSED for a disabled table), they open, the old
        directories go. Regions on the master's own server: ``Master.truncate_table``."""
        m = self.m
        refuse_reserved(table, "truncate")
        with m._ddl_lock:
            entry = m._entry(table)
            done: list[tuple[str, str]] = []
            try:
                for row in self._remote_rows(table):
                    m.assignment.unassign(row.name)
                    done.append((row.name, row.server or ""))
                if self._local_regions(table) or not self._remote_candidates():
                    m.truncate_table(table, preserve_splits=preserve_splits)
                    return
                keys = [e.start_key for e in entry.regions[1:]] if preserve_splits else []
                entries = m._new_entries(keys)
                check_tiling(table, entries)
                for e in entries:
                    r = m.rs.open_region(entry.descriptor, e, create=True)
                    m.rs.close_region(r, flush=False)
                proc = m.assignment._proc("truncate")
                rows = m._meta_rows(table, entries)
                for row, target in zip(rows, self._spread(len(rows)), strict=True):
                    if entry.enabled:
                        row.server, row.state, row.target, row.proc = target, OPENING, target, proc
                    else:
                        row.server, row.state = "", CLOSED
                failpoints.hit("master.truncate.before_meta")
                old = entry.regions
                m.meta.write(
                    add=rows,
                    remove=m._meta_rows(table, old),
                    next_region_id=m.catalog.next_region_id,
                )
            except BaseException:  # before the commit: the old regions serve again
                self._quietly(m._remove_orphans, "removing the new directories")
                self._reassign(done)
                raise
            failpoints.hit("master.truncate.after_meta")
            entry.regions = entries
            if entry.enabled:
                for row in rows:
                    m.assignment._open_step(row, proc)
            m._gone(table, [e.name for e in old])


def _entry(row: MetaRegion) -> RegionEntry:
    return RegionEntry(row.name, row.start_key, row.end_key)


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
