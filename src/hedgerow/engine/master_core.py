"""MasterCore: the master's state and the helpers its procedures share.

Role: the base of ``Master`` (hedgerow.engine.master) and of its
``RegionProcedures`` (split, merge): the catalog, the meta table, the region
server it drives and the DDL lock, with the lookups (``_entry``,
``_enabled_entry``, ``_online``), region naming (``_new_region_entry``) and
clean-up (``_gone``, ``_remove_orphans``) every procedure uses.
Invariants: region names come only from ``catalog.next_region_id``, which only
grows, so a name is never reused; ``_remove_orphans`` removes only directories
no catalog entry names.
Concurrency: the procedures that use these helpers hold ``_ddl_lock``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import NoReturn

from hedgerow.engine.assignment import AssignmentManager
from hedgerow.engine.catalog import Catalog, RegionEntry, TableEntry
from hedgerow.engine.meta import (
    META_TABLE,
    OPEN,
    MetaRegion,
    MetaTable,
)
from hedgerow.engine.regionserver import RegionServer, TableRegions, table_dir
from hedgerow.engine.rs_client import InProcessRegionServer, RegionServerClient
from hedgerow.engine.server_manager import ServerManager
from hedgerow.errors import (
    RegionClosed,
    TableDisabled,
    TableNotFound,
)
from hedgerow.region.region import Region
from hedgerow.storage.fs import FileSystem

__all__ = ["MasterCore"]

log = logging.getLogger("hedgerow.master")


class MasterCore:
    """Fields and shared helpers of the master (see ``Master`` for its methods)."""

    def __init__(
        self,
        root: str,
        fs: FileSystem,
        region_server: RegionServer,
        peers: Sequence[RegionServer] = (),
        remote: Sequence[RegionServerClient] = (),
    ) -> None:
        self.root = root
        self.fs = fs
        #: the primary region server: hosts hbase:meta, routes every request
        self.rs = region_server
        #: every region server this master drives (the primary first)
        self.region_servers = [region_server, *peers]
        self.catalog = Catalog()
        self.meta: MetaTable
        self._catalog_path = os.path.join(root, "CATALOG")
        self._ddl_lock = threading.RLock()
        self.server_manager = ServerManager()
        for server in self.region_servers:
            self.server_manager.register(
                InProcessRegionServer(server, region_server, self._split_request, self._merge)
            )
        #: region servers in other processes (server/cluster_master.py), live at open
        for client in remote:
            self.server_manager.register(client)
        self.assignment = AssignmentManager(
            lambda: self.meta, self.server_manager, self.catalog_entry, self._ddl_lock
        )
        self.server_manager.on_dead(self._forget_server)
        self.server_manager.on_dead(self.assignment.server_died)

    def _forget_server(self, name: str) -> None:
        """A region server died: it hosts nothing any more (the primary never leaves: it
        serves hbase:meta and routes every request)."""
        self.region_servers = [
            s for i, s in enumerate(self.region_servers) if i == 0 or s.name != name
        ]

    def _split_request(self, table: str, region_name: str) -> object:
        raise NotImplementedError  # replaced by RegionProcedures

    def _merge(self, table: str, region_a: str, region_b: str) -> object:
        raise NotImplementedError  # replaced by RegionProcedures

    def catalog_entry(self, table: str) -> TableEntry | None:
        return self.catalog.tables.get(table)

    # ---- where regions are hosted ---------------------------------------------------------
    def _server(self, name: str) -> RegionServer:
        for s in self.region_servers:
            if s.name == name:
                return s
        return self.rs

    def _hosts(self) -> dict[str, str]:
        """Region name -> the server it is open on (every open user region)."""
        return {r.info.name: s.name for s in self.region_servers for r in s.hosted()}

    def _server_of(self, region: Region) -> RegionServer:
        for s in self.region_servers:
            if any(r is region for r in s.hosted()):
                return s
        return self.rs

    def _record_hosts(self, table: str, entries: Sequence[RegionEntry]) -> None:
        """Meta records each region OPEN on the server hosting it."""
        hosts = self._hosts()
        by_server: dict[str, list[MetaRegion]] = {}
        for row in self._meta_rows(table, entries):
            if row.name in hosts:
                by_server.setdefault(hosts[row.name], []).append(row)
        for server, rows in by_server.items():
            self.meta.assign(rows, server, OPEN)

    def _open_on_servers(
        self, entry: TableEntry, hosts: dict[str, str] | None = None
    ) -> list[Region]:
        """Open the table's regions, each on ``hosts[name]`` if given and live, else on
        the least-loaded candidate; not yet online."""
        load = {s: 0 for s in self.server_manager.candidates()}
        for name in self._hosts().values():
            if name in load:
                load[name] += 1
        regions = []
        for e in entry.regions:
            want = (hosts or {}).get(e.name, "")
            if not self.server_manager.is_live(want) or not load:
                want = min(load, key=lambda n: (load[n], n)) if load else self.rs.name
            load[want] = load.get(want, 0) + 1
            regions.append(self._server(want).open_region(entry.descriptor, e, create=False))
        return regions

    # ---- helpers ------------------------------------------------------------------------
    def _table_missing(self, table: str) -> NoReturn:
        """Why the region server serves no region of ``table``."""
        entry = self._entry(table)
        if not entry.enabled:
            raise TableDisabled(f"table {table!r} is disabled")
        # enabled but not (yet) online: a procedure is reopening it; route again
        raise RegionClosed(f"the regions of table {table!r} are being opened")

    def _entry(self, table: str) -> TableEntry:
        entry = self.catalog.tables.get(table)
        if entry is None:
            raise TableNotFound(f"table {table!r} does not exist")
        return entry

    def _enabled_entry(self, table: str) -> TableEntry:
        entry = self._entry(table)
        if not entry.enabled:
            raise TableDisabled(f"table {table!r} is disabled")
        return entry

    def _online(self, table: str) -> TableRegions:
        tr = self.rs.online(table)
        if tr is None:
            self._table_missing(table)
        return tr

    def _save_catalog(self) -> None:
        self.catalog.save(self.fs, self._catalog_path)

    def _new_entries(self, split_keys: Sequence[bytes]) -> list[RegionEntry]:
        bounds = [b"", *split_keys, b""]
        return [self._new_region_entry(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]

    def _new_region_entry(self, start: bytes, end: bytes) -> RegionEntry:
        name = f"{self.catalog.next_region_id:010d}"
        self.catalog.next_region_id += 1
        return RegionEntry(name, start, end)

    def _meta_rows(self, table: str, entries: Sequence[RegionEntry]) -> list[MetaRegion]:
        return [MetaRegion(table, e.name, e.start_key, e.end_key) for e in entries]

    def _gone(self, table: str, names: Sequence[str]) -> None:
        """Regions removed for good: their logs and assignment are forgotten, their
        directories deleted."""
        for name in names:
            self.rs.forget_region(name)
            self.fs.rmtree(self.rs.region_dir(table, name))

    def _remove_orphans(self) -> None:
        tables_dir = os.path.join(self.root, "tables")
        known = {
            (table_dir(t.descriptor.name), r.name)
            for t in self.catalog.tables.values()
            for r in t.regions
        }
        known.add((table_dir(META_TABLE), self.rs.meta_region.info.name))
        known_tables = {k[0] for k in known}
        for tdir in self.fs.listdir(tables_dir):
            tpath = os.path.join(tables_dir, tdir)
            if tdir not in known_tables:
                log.warning("removing orphaned table directory %s", tpath)
                self.fs.rmtree(tpath)
                continue
            for rdir in self.fs.listdir(tpath):
                if (tdir, rdir) not in known:
                    log.warning("removing orphaned region directory %s/%s", tpath, rdir)
                    self.fs.rmtree(os.path.join(tpath, rdir))
