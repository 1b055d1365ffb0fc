"""The master role: table DDL, the region map in ``hbase:meta``, region procedures, assignment.

Role: HBase's HMaster. It keeps the catalog (table descriptors and enabled
state, docs/formats/catalog.md) and the meta table (every region of every
table, its hosting server and state, docs/formats/meta.md), and it is the only
code that changes either. It runs the multi-step procedures of
docs/design/region-lifecycle.md (create, delete, alter, truncate, enable,
disable, split, merge) by telling the region server (``RegionServer``) to
open, close and stop serving regions, and it assigns regions: every region of
an enabled table is opened on the region server and meta records
``info:server``/``info:state`` for it; a disabled table's regions are closed
and recorded CLOSED with no server.
Recovery (``start``, steps of docs/design/storage.md#recovery): load the
catalog; let the region server open a fresh WAL and ``hbase:meta``; load the
region map and drop rows of tables the catalog does not know; open every
table's regions and remove directories no meta row names; let the region
server replay the old logs into them; close the regions of disabled tables;
record the assignment in meta.
Layout: ``Master`` keeps recovery, the table procedures and reporting; its
state and shared helpers are ``master_core.MasterCore``, split and merge are
``region_procedures.RegionProcedures``, the tiling invariant is ``tiling.py``
(``tiling_problem`` is re-exported here).
Reserved names: every procedure first refuses a table in a reserved namespace
(``hbase:``, ``meta.refuse_reserved``) with ``ReservedName``: hbase:meta can be
read, flushed and compacted, never created, altered, enabled, disabled,
truncated, deleted, split or merged (issue 11, finding 3: deleting a client's
"hbase:meta" removed the real meta region's directory).
Invariants: each procedure's commit point is one write (a catalog rename or
one fsync'ed meta batch); a crash before it leaves the old state (new
directories are orphans removed at open), after it the new one (leftovers are
cleaned at open). Region names are never reused. The catalog holds no table in
a reserved namespace.
Concurrency: ``_ddl_lock`` serialises every procedure; the region server's
online map is switched atomically, so requests route without locking.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import Catalog, RegionEntry, TableEntry
from hedgerow.engine.meta import (
    CLOSED,
    META_DESCRIPTOR,
    META_TABLE,
    OPEN,
    MetaRegion,
    MetaTable,
    is_reserved,
    refuse_reserved,
)
from hedgerow.engine.region_procedures import RegionProcedures
from hedgerow.engine.regionserver import RegionServer, table_dir
from hedgerow.engine.rs_client import RegionServerClient
from hedgerow.engine.tiling import check_tiling, tiling_problem
from hedgerow.engine.wal_layout import dead_wal_dirs
from hedgerow.errors import (
    ClosedError,
    CorruptionError,
    HedgerowError,
    StorageError,
    TableDisabled,
    TableEnabled,
    TableExists,
)
from hedgerow.model.mutation import check_row
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region, RegionInfo
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.wal import read_wal_dir

__all__ = ["Master", "tiling_problem"]

log = logging.getLogger("hedgerow.master")


class Master(RegionProcedures):
    """Owns the catalog and meta; runs DDL and region procedures on a region server.

    - tables: ``create_table``, ``delete_table``, ``modify_table``, ``truncate_table``,
      ``enable_table``, ``disable_table``, ``is_table_enabled``, ``table_names``,
      ``descriptor``
    - regions: ``regions``, ``region_locations``, ``split_region``, ``merge_regions``,
      ``assign_all``
    - maintenance and reporting: ``flush_table``, ``compact_table``, ``status``
    """

    def __init__(
        self,
        root: str,
        fs: FileSystem,
        region_server: RegionServer,
        peers: Sequence[RegionServer] = (),
        remote: Sequence[RegionServerClient] = (),
    ) -> None:
        super().__init__(root, fs, region_server, peers, remote)
        for server in self.region_servers:
            server.table_missing = self._table_missing
            server.request_split = self.split_region

    # ---- recovery -----------------------------------------------------------------------
    def start(self) -> None:
        fs = self.fs
        rs = self.rs
        self.catalog = Catalog.load(fs, self._catalog_path)
        fs.makedirs(os.path.join(self.root, "tables"))
        for server in self.region_servers:
            server.start_wal()
        self.meta = MetaTable(rs.open_meta(), rs.name, after_flush=rs.after_flush)
        region_map, next_id = self.meta.load()  # refuses a newer meta version
        self.meta.write_version()
        stale = [r for t, rs_ in region_map.items() if t not in self.catalog.tables for r in rs_]
        if stale:  # a create that crashed before its catalog write, or a finished delete
            log.warning("removing %d meta rows of tables the catalog does not list", len(stale))
            self.meta.write(remove=stale)
        ids = [next_id, self.catalog.next_region_id]
        for name in self.catalog.tables:
            if is_reserved(name):  # created by a client before names were reserved
                log.error(
                    "the catalog lists table %r in a reserved namespace; no procedure can "
                    "change it, and a table named %s is not served",
                    name,
                    META_TABLE,
                )
        for entry in self.catalog.tables.values():
            rows = region_map.get(entry.descriptor.name, [])
            if not rows:
                raise CorruptionError(
                    f"table {entry.descriptor.name!r} has no regions in hbase:meta",
                    self._catalog_path,
                )
            entry.regions = [RegionEntry(r.name, r.start_key, r.end_key) for r in rows]
            problem = tiling_problem(entry.regions)
            if problem is not None:
                raise CorruptionError(
                    f"hbase:meta: table {entry.descriptor.name!r} does not tile its key "
                    f"space: {problem}",
                    rs.region_dir(META_TABLE, rs.meta_region.info.name),
                )
            ids += [int(r.name) + 1 for r in rows if r.name.isdigit()]
        self.catalog.next_region_id = max(ids)
        # where each region opens: its recorded server, or the target of a procedure
        # that was in flight (rolled forward: nothing is open anywhere now), or the
        # least-loaded server (engine/assignment.py)
        plan = self.assignment.plan_open(
            [r for t in self.catalog.tables for r in region_map.get(t, [])], {}
        )
        # regions a region server in another process has open stay there (a new active
        # master takes over a running cluster: server/cluster_master.py)
        remote = self._remote_hosted()
        # and a procedure in flight between region servers in other processes (its row's
        # server and target both live there) is left to AssignmentManager.resume, which
        # opens the region on one of them: nothing of it is in this master's WAL
        live_remote = {c.name for c in self.server_manager.clients()} - {
            s.name for s in self.region_servers
        }
        for t in self.catalog.tables:
            for row in region_map.get(t, []):
                if row.proc is not None and {row.server, row.target} <= live_remote:
                    remote.setdefault(row.name, row.target)
        # every region is opened so that the old logs replay into it, even a disabled
        # table's (its regions are closed again, flushed, below)
        opened: dict[str, list[Region]] = {}
        for entry in self.catalog.tables.values():
            regions = [
                self._server(plan.get(r.name, rs.name)).open_region(
                    entry.descriptor, r, create=False
                )
                for r in entry.regions
                if not (entry.enabled and r.name in remote)
            ]
            opened[entry.descriptor.name] = regions
            for r in regions:
                r.drop_orphan_families()
        self._remove_orphans()
        every = [r for regions in opened.values() for r in regions]
        self._replay_dead_wals(every)
        for server in self.region_servers:
            mine = server.hosted()
            server.recover(mine, [r for r in every if all(r is not m for m in mine)])
        for table, regions in opened.items():
            # a client's own "hbase:meta" (made before names were reserved) is never
            # served: it would shadow the real meta region
            if self.catalog.tables[table].enabled and table != META_TABLE:
                rs.set_online(table, regions)
            else:
                for r in regions:
                    try:
                        r.close(flush=True)
                    except StorageError as e:  # a full disk: its edits stay in the WAL
                        log.error("region %s closed without its flush: %s", r.info.name, e)
                        r.close(flush=False)
        self._record_assignment_or_retry()

    def _remote_hosted(self) -> dict[str, str]:
        """Region name -> the region server in another process reporting it open."""
        local = {s.name for s in self.region_servers}
        found: dict[str, str] = {}
        for client in self.server_manager.clients():
            if client.name in local:
                continue
            try:
                report = client.report()
            except Exception as e:  # unreachable: its regions open here instead
                log.warning("region server %s did not report: %r", client.name, e)
                continue
            for name in report.regions:
                found[name] = client.name
        return found

    def _replay_dead_wals(self, regions: list[Region]) -> None:
        """Replay the WAL directories of servers that no longer run (a run with more
        region servers) into the regions, flush those, then delete the directories (the
        ServerCrashProcedure's SPLIT_LOGS and DELETE_SPLIT_WALS_DIR steps)."""
        live = {s.sid for s in self.region_servers}
        by_name = {r.info.name: r for r in regions}
        for d in dead_wal_dirs(self.fs, self.root, live):
            if "," in os.path.basename(d):
                # a region server process's WAL (WALs/<host,port,startcode>/): it may
                # be live and not yet registered; splitting a dead one is issue 15
                continue
            replayed: dict[str, Region] = {}
            for _path, _offset, edit in read_wal_dir(
                self.fs, d, skip_corruption=self.rs.config.skip_corrupt_wal
            ):
                region = by_name.get(edit.region)
                if region is not None and region.replay(edit):
                    replayed[edit.region] = region
            for region in replayed.values():
                region.flush()  # an error stops the open: the directory stays for next time
            log.warning("replayed and removed the WAL directory %s of a server gone", d)
            self.fs.rmtree(d)

    def _record_assignment_or_retry(self, delay_s: float = 0.0) -> None:
        """Record the assignment in meta; when meta cannot be written (a full disk) the
        data directory still opens and serves, and the recording is retried with backoff
        (in one process meta's info:server is what Table.regions() reports, not what
        routes requests)."""
        if self.rs.closed:
            return
        try:
            with self._ddl_lock:
                region_map, _ = self.meta.load()
                self._record_assignment(region_map)
        except ClosedError:
            return  # shut down meanwhile
        except StorageError as e:
            delay_s = min(max(delay_s * 2, 0.5), 30.0)
            log.error("hbase:meta: assignment not recorded (%s); retrying in %.1f s", e, delay_s)
            timer = threading.Timer(delay_s, self._record_assignment_or_retry, (delay_s,))
            timer.daemon = True
            timer.start()

    def _record_assignment(self, region_map: dict[str, list[MetaRegion]]) -> None:
        """Meta says where every region is: OPEN on the server hosting it, or CLOSED."""
        hosts = self._hosts()
        by_server: dict[str, list[MetaRegion]] = {}
        closed: list[MetaRegion] = []
        for table, rows in region_map.items():
            entry = self.catalog.tables.get(table)
            if entry is None:
                continue
            for row in rows:
                if not entry.enabled or table == META_TABLE:
                    closed.append(row)
                elif row.name in hosts:
                    by_server.setdefault(hosts[row.name], []).append(row)
        for server, rows in sorted(by_server.items()):
            self.meta.assign(rows, server, OPEN)
        self.meta.assign(closed, "", CLOSED)

    def assign_all(self, server_name: str) -> None:
        """The primary region server is now known as ``server_name`` (it started
        listening); the other in-process servers as ``server_name/rsN``: record them as
        the hosts of their open regions."""
        with self._ddl_lock:
            for i, server in enumerate(self.region_servers):
                new = server_name if i == 0 else f"{server_name}/{server.sid}"
                self.server_manager.rename(server.name, new)
                server.name = new
            self.meta.server = server_name
        self._record_assignment_or_retry()

    # ---- tables -------------------------------------------------------------------------
    def table_names(self) -> list[str]:
        return sorted(self.catalog.tables)

    def descriptor(self, table: str) -> TableDescriptor:
        if table == META_TABLE:
            return META_DESCRIPTOR
        return self._entry(table).descriptor

    def is_table_enabled(self, table: str) -> bool:
        if table == META_TABLE:  # always served (as HBase answers for hbase:meta)
            return True
        return self._entry(table).enabled

    def regions(self, table: str) -> list[RegionInfo]:
        if table == META_TABLE:  # one region, never split, hosted by the region server
            return [self.rs.meta_region.info]
        entry = self._entry(table)
        return [RegionInfo(table, e.name, e.start_key, e.end_key) for e in entry.regions]

    def region_locations(self, table: str) -> list[tuple[RegionInfo, str]]:
        """The table's regions in key order, each with its hosting server ("" if closed).

        Every region of an enabled table is open on one region server (none while a
        move has it closed), a disabled table's regions on none.
        """
        if table == META_TABLE:
            return [(self.rs.meta_region.info, self.rs.name)]
        if not self._entry(table).enabled:
            return [(info, "") for info in self.regions(table)]
        hosts = self._hosts()
        infos = self.regions(table)
        if any(info.name not in hosts for info in infos):
            # open in another process, or in transition: what meta records
            region_map, _ = self.meta.load()
            for row in region_map.get(table, []):
                if row.state == OPEN and row.server and row.name not in hosts:
                    hosts[row.name] = row.server
        return [(info, hosts.get(info.name, "")) for info in infos]

    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        """Create a table, pre-split into regions at ``split_keys`` (crash-safe)."""
        refuse_reserved(desc.name, "create")
        keys = sorted(set(split_keys))
        for k in keys:
            check_row(k)
        with self._ddl_lock:
            if desc.name in self.catalog.tables:
                raise TableExists(f"table {desc.name!r} already exists")
            entries = self._new_entries(keys)
            # region directories, then their meta rows, then the catalog: the catalog
            # write is the commit point (meta rows of an uncommitted table are removed
            # at open, and so are its directories)
            regions = [self.rs.open_region(desc, e, create=True) for e in entries]
            try:
                check_tiling(desc.name, entries)
                failpoints.hit("master.create_table.before_meta")
                self.meta.write(
                    add=self._meta_rows(desc.name, entries),
                    next_region_id=self.catalog.next_region_id,
                )
                failpoints.hit("master.create_table.before_catalog")
                self.catalog.tables[desc.name] = TableEntry(desc, True, entries)
                try:
                    self._save_catalog()
                except BaseException:
                    del self.catalog.tables[desc.name]
                    raise
            except BaseException:
                for r in regions:
                    self.rs.close_region(r, flush=False)
                raise
            self.rs.set_online(desc.name, regions)

    def delete_table(self, table: str) -> None:
        """Delete a disabled table: the catalog write commits, then meta and files go."""
        refuse_reserved(table, "delete")
        with self._ddl_lock:
            entry = self._entry(table)
            if entry.enabled:
                raise TableEnabled(f"table {table!r} is enabled; disable it first")
            del self.catalog.tables[table]
            self._save_catalog()  # commit point; the meta rows below are cleanup
            failpoints.hit("master.delete_table.after_catalog")
            self.meta.write(remove=self._meta_rows(table, entry.regions))
            self._gone(table, [e.name for e in entry.regions])
            self.fs.rmtree(os.path.join(self.root, "tables", table_dir(table)))

    def modify_table(self, desc: TableDescriptor) -> None:
        """Replace a table's column families: add, change options of, or delete families.

        An enabled table's regions are flushed, closed and reopened with the new
        descriptor (requests to the table pause meanwhile, as when HBase reopens
        regions). The catalog write is the commit point; files of deleted families are
        removed when the regions open again (after a crash, at the next open).
        """
        refuse_reserved(desc.name, "alter")
        with self._ddl_lock:
            entry = self._entry(desc.name)
            old = self.rs.online(desc.name) if entry.enabled else None
            hosts = self._hosts()
            if old is not None:
                for r in old.regions:
                    self.rs.close_region(r, flush=True)
            previous = entry.descriptor
            entry.descriptor = desc
            try:
                self._save_catalog()
            except BaseException:
                entry.descriptor = previous
                if old is not None:
                    self._open_online(entry, hosts)
                raise
            if old is not None:
                self._open_online(entry, hosts)

    def _open_online(self, entry: TableEntry, hosts: dict[str, str] | None = None) -> None:
        """Open the table's regions (each on ``hosts[name]`` when given, else spread over
        the servers) and serve them."""
        regions = self._open_on_servers(entry, hosts)
        for r in regions:
            r.drop_orphan_families()
        self.rs.set_online(entry.descriptor.name, regions)

    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        """Remove every row of a table, keeping its families (and region splits if asked).

        Like HBase's ``truncate``/``truncate_preserve``: new empty regions replace the
        old ones in one meta batch (the commit point); the old region directories are
        deleted after it.
        """
        refuse_reserved(table, "truncate")
        with self._ddl_lock:
            entry = self._entry(table)
            old = self.rs.online(table) if entry.enabled else None
            keys = [e.start_key for e in entry.regions[1:]] if preserve_splits else []
            entries = self._new_entries(keys)
            regions = [self.rs.open_region(entry.descriptor, e, create=True) for e in entries]
            old_entries = entry.regions
            rows = self._meta_rows(table, entries)
            if not entry.enabled:
                for row in rows:
                    row.server, row.state = "", CLOSED
            try:
                check_tiling(table, entries)
                failpoints.hit("master.truncate.before_meta")
                self.meta.write(
                    add=rows,
                    remove=self._meta_rows(table, old_entries),
                    next_region_id=self.catalog.next_region_id,
                )
            except BaseException:
                for r in regions:
                    self.rs.close_region(r, flush=False)
                raise
            failpoints.hit("master.truncate.after_meta")
            entry.regions = entries
            if entry.enabled:
                self.rs.set_online(table, regions)
            else:
                for r in regions:
                    self.rs.close_region(r, flush=False)
            if old is not None:
                for r in old.regions:
                    self.rs.close_region(r, flush=False)
            self._gone(table, [e.name for e in old_entries])

    def enable_table(self, table: str) -> None:
        """Commit the enabled state, then open and assign the table's regions."""
        refuse_reserved(table, "enable")
        with self._ddl_lock:
            entry = self._entry(table)
            if entry.enabled:
                # HBase: TableNotDisabledException
                raise TableEnabled(f"table {table!r} is already enabled")
            entry.enabled = True
            try:
                self._save_catalog()
            except BaseException:
                entry.enabled = False
                raise
            failpoints.hit("master.enable.before_open")
            self._open_online(entry)
            self._record_hosts(table, entry.regions)

    def disable_table(self, table: str) -> None:
        """Flush and close the table's regions, then commit the disabled state (HBase
        unassigns a disabled table's regions; requests get TableDisabled)."""
        refuse_reserved(table, "disable")
        with self._ddl_lock:
            entry = self._entry(table)
            if not entry.enabled:
                # HBase: TableNotEnabledException
                raise TableDisabled(f"table {table!r} is already disabled")
            tr = self.rs.online(table)
            if tr is not None:
                for r in tr.regions:
                    self.rs.close_region(r, flush=True)
            failpoints.hit("master.disable.before_catalog")
            entry.enabled = False
            try:
                self._save_catalog()
            except BaseException:
                entry.enabled = True
                self._open_online(entry)
                raise
            self.rs.set_offline(table)
            self.meta.assign(self._meta_rows(table, entry.regions), "", CLOSED)

    # ---- maintenance and reporting ------------------------------------------------------
    def _hosted(self, table: str) -> list[Region]:
        """The table's online regions (hbase:meta's one region included)."""
        if table == META_TABLE:
            return [self.rs.meta_region]
        self._entry(table)
        tr = self.rs.online(table)
        return tr.regions if tr is not None else []

    def flush_table(self, table: str) -> None:
        """Flush every online region of the table (hbase:meta too: it changes nothing)."""
        for r in self._hosted(table):
            r.flush()

    def compact_table(self, table: str, *, major: bool = False) -> None:
        """Flush, then compact every online region of the table (synchronously).

        hbase:meta may be compacted like any table (HBase allows it too): a compaction
        rewrites files, never what a read returns, except that a major one drops
        deleted rows for good.
        """
        for r in self._hosted(table):
            if major:
                r.flush()
            self._server_of(r).compact_region(r, major=major)

    def status(self) -> dict[str, Any]:
        """Cluster status: servers (with request counts), tables, regions, cache. Region
        servers in other processes are listed from a fresh report each (one
        REGION_SERVER_REPORT call; an unreachable one is listed with ``unreachable``)."""
        servers = [
            {**s.status(), "decommissioned": s.name in self.server_manager.decommissioned()}
            for s in self.region_servers
        ]
        regions = [m for s in self.region_servers for m in s.region_metrics()]
        local = {s.name for s in self.region_servers}
        ranges = {
            e.name: (e.start_key, e.end_key)
            for t in self.catalog.tables.values()
            for e in t.regions
        }
        for name in self.server_manager.live():
            if name in local:
                continue
            servers.append(self._remote_status(name, ranges, regions))
        return {
            "master": {"path": self.root, "tables": len(self.catalog.tables)},
            "servers": servers,
            "tables": len(self.catalog.tables),
            "disabled_tables": sorted(t for t, e in self.catalog.tables.items() if not e.enabled),
            "regions": regions,
            "block_cache": self.rs.cache.stats(),
            "table_cache": self.rs.table_cache.stats(),
        }

    def _remote_status(
        self, name: str, ranges: dict[str, tuple[bytes, bytes]], regions: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """One remote region server's status entry, its regions appended to ``regions``."""
        entry: dict[str, Any] = {
            "name": name,
            "start_code": 0,
            "path": self.root,
            "regions": 0,
            "read_requests": 0,
            "write_requests": 0,
            "memstore_bytes": 0,
            "store_file_bytes": 0,
            "decommissioned": name in self.server_manager.decommissioned(),
        }
        try:
            report = self.server_manager.get(name).report()
        except (HedgerowError, OSError) as e:
            return {**entry, "unreachable": str(e)}
        loads = list(report.regions.values())
        for r in loads:
            start, end = ranges.get(r.name, (b"", b""))
            regions.append(
                {
                    "table": r.table,
                    "name": r.name,
                    "start_key": start,
                    "end_key": end,
                    "server": name,
                    "memstore_bytes": r.memstore_bytes,
                    "store_file_bytes": r.store_file_bytes,
                    "read_requests": r.read_requests,
                    "write_requests": r.write_requests,
                }
            )
        return {
            **entry,
            "start_code": report.start_code,
            "regions": len(loads),
            "read_requests": sum(r.read_requests for r in loads),
            "write_requests": sum(r.write_requests for r in loads),
            "memstore_bytes": sum(r.memstore_bytes for r in loads),
            "store_file_bytes": sum(r.store_file_bytes for r in loads),
        }
