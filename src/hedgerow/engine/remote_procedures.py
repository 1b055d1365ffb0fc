"""Table procedures that drive region servers in other processes (issue 14).

Role: the active master of a cluster of processes (server/cluster_master.py) runs
create, split, disable, alter, delete, flush and compact through ``RegionServerClient`` on
whichever server hosts each region, instead of first moving the table's regions to its own
region server. Every step (none for flush and compact, which the hosting server runs
while the region serves) is persisted in the region's meta row before it is carried
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
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import TableEntry
from hedgerow.engine.meta import (
    CLOSED,
    META_TABLE,
    OPENING,
    refuse_reserved,
)
from hedgerow.engine.remote_split_merge import RemoteSplitMerge
from hedgerow.engine.tiling import check_tiling
from hedgerow.errors import TableDisabled, TableEnabled, TableExists
from hedgerow.model.mutation import check_row
from hedgerow.model.schema import TableDescriptor

if TYPE_CHECKING:
    pass

__all__ = ["RemoteProcedures"]

log = logging.getLogger("hedgerow.master")


class RemoteProcedures(RemoteSplitMerge):
    """create/enable/disable/alter/truncate/flush/compact/delete of tables whose
    regions live on region servers other than the master's own (split and merge:
    ``RemoteSplitMerge``; lookups: ``RemoteCore``)."""

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

    # ---- flush, compact: on the hosting server, the region serving all along --------------
    def flush_table(self, table: str) -> None:
        """Flush every region: a remote one on its server (FLUSH_REGION; it keeps
        serving), the master's own directly."""
        self._each_region(table, None)

    def compact_table(self, table: str, *, major: bool = False) -> None:
        """Flush and compact every region: a remote one on its server with that server's
        compaction (COMPACT_REGION; it keeps serving), the master's own in place."""
        self._each_region(table, major)

    def _each_region(self, table: str, major: bool | None) -> None:
        """No meta step is written: the regions stay OPEN where they are, so a master
        that dies mid-way leaves some regions flushed or compacted and nothing to
        resume (failpoint ``master.flush.before_region`` or
        ``master.compact.before_region`` before each remote region). A region that
        moved or closed since meta was read answers NOT_SERVING_REGION, which is
        reported (the caller may run it again)."""
        m = self.m
        with m._ddl_lock:
            if table == META_TABLE:
                if major is None:
                    m.flush_table(table)
                else:
                    m.compact_table(table, major=major)
                return
            m._entry(table)  # TableNotFound for an unknown table
            for region in self._local_regions(table):
                region.flush()
                if major is not None:
                    m._server_of(region).compact_region(region, major=major)
            kind = "flush" if major is None else "compact"
            for row in self._remote_rows(table):
                failpoints.hit(f"master.{kind}.before_region")
                server = m.server_manager.get(row.server or "")
                if major is None:
                    server.flush_region(row.table, row.name)
                else:
                    server.compact_region(row.table, row.name, major=major)

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
