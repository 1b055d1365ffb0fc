"""Assignment: assign, unassign and move as procedures persisted in meta; the balancer.

Role: HBase's AssignmentManager with its TransitRegionStateProcedure and the
StochasticLoadBalancer's simplest cost, region count (apache/hbase
master/assignment/TransitRegionStateProcedure.java, master/balancer/). Every step of a
procedure is written to the region's meta row
(``info:state``, ``info:server``, ``info:target``, ``info:proc``; docs/formats/meta.md)
*before* the master acts on it, so a master that restarts reads the step and rolls the
same procedure forward or back (``resume``). The region servers are reached only
through ``RegionServerClient`` (engine/rs_client.py).
Procedure steps (a move; an unassign stops after CONFIRM_CLOSED, an assign starts at
OPEN), each a persisted meta row, with a failpoint after it for crash tests:

1. ``CLOSING`` server=source target=destination  (``engine.assignment.after_closing``)
2. the source flushes and closes the region       (``engine.assignment.after_close``)
3. ``OPENING`` server=target=destination         (``engine.assignment.after_opening``)
4. the destination opens the region               (``engine.assignment.after_open``)
5. ``OPEN`` server=destination, no procedure

Resume rules (a restarted master, or a region found in transition at open): a row in
CLOSING whose source still reports the region open is rolled back (OPEN on the source);
otherwise (closed, or the source is gone) it is rolled forward from step 3. A row in
OPENING is rolled forward: OPEN at once if the destination reports it open, else opened
there (or, if the destination is gone or decommissioned, on the least-loaded candidate).
An unassign in CLOSING is rolled forward to CLOSED.
Invariants: a region is open on at most one server: before any open, every other
server that reports the region open closes it first; a region has at most one procedure
(``info:proc``) and the balancer does not run while any region has one.
Balancer: moves regions from the servers with the most regions to those with the fewest
until the counts differ by at most one; among equal candidates it moves the busiest
region (requests) of the source to the smallest destination (store bytes), so size and
load spread too. It runs on demand (``balance``) and every ``balancer_period_s`` seconds
(0: never) on the master's timer.
Concurrency: every method runs under the master's DDL lock (``lock``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hedgerow._internal import failpoints
from hedgerow.engine.catalog import RegionEntry, TableEntry
from hedgerow.engine.meta import (
    CLOSED,
    CLOSING,
    MERGING,
    OPEN,
    OPENING,
    SPLITTING,
    MetaRegion,
    MetaTable,
)
from hedgerow.engine.server_manager import ServerManager
from hedgerow.errors import InvalidArgument, NotServingRegion, StorageError

__all__ = ["AssignmentManager", "Move"]

log = logging.getLogger("hedgerow.master")

Move = tuple[str, str, str]
"""(region name, source server, destination server)"""


class AssignmentManager:
    def __init__(
        self,
        meta: Callable[[], MetaTable],
        servers: ServerManager,
        table: Callable[[str], TableEntry | None],
        lock: threading.RLock,
    ) -> None:
        self._meta = meta
        self.servers = servers
        self._table = table
        self.lock = lock
        self._next_proc = 1
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- lookups ------------------------------------------------------------------------
    def _rows(self) -> dict[str, MetaRegion]:
        region_map, _ = self._meta().load()
        return {r.name: r for rows in region_map.values() for r in rows}

    def _row(self, region_name: str) -> MetaRegion:
        row = self._rows().get(region_name)
        if row is None:
            raise NotServingRegion(f"region {region_name!r} is not in hbase:meta")
        return row

    def _entry(self, row: MetaRegion) -> tuple[TableEntry, RegionEntry]:
        entry = self._table(row.table)
        if entry is None or not entry.enabled:
            raise InvalidArgument(
                f"region {row.name} belongs to table {row.table!r}, which is "
                f"{'gone' if entry is None else 'disabled'}; only regions of enabled "
                "tables are assigned"
            )
        return entry, RegionEntry(row.name, row.start_key, row.end_key)

    def _proc(self, kind: str) -> dict[str, Any]:
        proc = {"id": self._next_proc, "kind": kind}
        self._next_proc += 1
        return proc

    def counts(self) -> dict[str, int]:
        """Open user regions per candidate server (from meta)."""
        counts = dict.fromkeys(self.servers.candidates(), 0)
        for row in self._rows().values():
            if row.state == OPEN and row.server in counts:
                counts[row.server] += 1
        return counts

    def least_loaded(self, exclude: str = "") -> str:
        """The candidate with the fewest regions (then the smallest), not ``exclude``."""
        counts = self.counts()
        counts.pop(exclude, None)
        if not counts:
            raise InvalidArgument(
                "no region server can take the region: every live server is decommissioned "
                "or excluded"
            )
        reports = self.servers.refresh()
        return min(
            counts,
            key=lambda n: (counts[n], reports[n].size_bytes if n in reports else 0, n),
        )

    # ---- procedures ---------------------------------------------------------------------
    def move(self, region_name: str, dest: str | None = None) -> Move:
        """Move an open region to ``dest`` (None: the least-loaded candidate)."""
        with self.lock:
            row = self._row(region_name)
            self._entry(row)
            if row.proc is not None:
                raise InvalidArgument(f"region {region_name} is already in transition")
            if row.state != OPEN:
                raise InvalidArgument(f"region {region_name} is {row.state}, not OPEN")
            src = _server(row)
            if dest is None:
                dest = self.least_loaded(exclude=src)
            elif dest not in self.servers.candidates():
                self.servers.get(dest)  # unknown: names the live servers
                raise InvalidArgument(f"region server {dest!r} is decommissioned")
            if dest == src:
                return (region_name, src, dest)
            proc = self._proc("move")
            self._meta().transition(row, CLOSING, src, dest, proc)
            failpoints.hit("engine.assignment.after_closing")
            self._close_step(row, proc)
            return (region_name, src, _server(row))

    def assign(self, region_name: str, dest: str | None = None) -> str:
        """Open a region that is open nowhere (CLOSED/OFFLINE, or its server died)."""
        with self.lock:
            row = self._row(region_name)
            self._entry(row)
            if row.state == OPEN and self.servers.is_live(_server(row)):
                return _server(row)
            target = dest or self.least_loaded()
            proc = self._proc("assign")
            self._meta().transition(row, OPENING, target, target, proc)
            failpoints.hit("engine.assignment.after_opening")
            self._open_step(row, proc)
            return _server(row)

    def unassign(self, region_name: str) -> None:
        """Close a region and record it CLOSED with no server."""
        with self.lock:
            row = self._row(region_name)
            if row.state != OPEN:
                raise InvalidArgument(f"region {region_name} is {row.state}, not OPEN")
            proc = self._proc("unassign")
            self._meta().transition(row, CLOSING, _server(row), "", proc)
            failpoints.hit("engine.assignment.after_closing")
            self._close_step(row, proc)

    def _close_step(self, row: MetaRegion, proc: dict[str, Any]) -> None:
        """From CLOSING: close on the source, then continue (or roll back on failure)."""
        src = _server(row)
        if self.servers.is_live(src):
            try:
                self.servers.get(src).close_region(row.table, row.name)
            except StorageError:
                log.error("closing region %s on %s failed; rolling the move back", row.name, src)
                self._meta().transition(row, OPEN, src)
                raise
        failpoints.hit("engine.assignment.after_close")
        if proc["kind"] == "unassign":
            self._meta().transition(row, CLOSED, "")
            return
        target = row.target
        if target not in self.servers.candidates():
            target = self.least_loaded()
        self._meta().transition(row, OPENING, target, target, proc)
        failpoints.hit("engine.assignment.after_opening")
        self._open_step(row, proc)

    def _open_step(self, row: MetaRegion, proc: dict[str, Any]) -> None:
        """From OPENING: make sure no other server has it open, open it, record OPEN."""
        entry, region = self._entry(row)
        target = row.target
        for other in self.servers.hosts_of(row.name):
            if other != target:  # never two servers: close the stray first
                log.warning("region %s is also open on %s; closing it there", row.name, other)
                self.servers.get(other).close_region(row.table, row.name)
        if row.name not in self.servers.get(target).report().regions:
            self.servers.get(target).open_region(entry.descriptor, region)
        failpoints.hit("engine.assignment.after_open")
        self._meta().transition(row, OPEN, target)
        log.info("region %s of %s is open on %s (%s)", row.name, row.table, target, proc["kind"])

    # ---- recovery -----------------------------------------------------------------------
    def in_transition(self) -> list[MetaRegion]:
        return [r for r in self._rows().values() if r.proc is not None]

    def resume(self) -> list[str]:
        """Finish or roll back every procedure meta records in flight; returns the
        regions it touched."""
        done = []
        with self.lock:
            for row in self.in_transition():
                entry = self._table(row.table)
                if entry is None or not entry.enabled:
                    self._meta().transition(row, CLOSED, "")
                    done.append(row.name)
                    continue
                proc = row.proc
                assert proc is not None
                if proc.get("id", 0) >= self._next_proc:
                    self._next_proc = int(proc["id"]) + 1
                hosts = self.servers.hosts_of(row.name)
                src = _server(row)
                if row.state == CLOSING and proc.get("kind") != "unassign" and src in hosts:
                    log.warning("rolling back the %s of region %s", proc.get("kind"), row.name)
                    for other in hosts:
                        if other != src:
                            self.servers.get(other).close_region(row.table, row.name)
                    self._meta().transition(row, OPEN, src)
                elif row.state == CLOSING:
                    log.warning("rolling forward the %s of region %s", proc.get("kind"), row.name)
                    self._close_step(row, proc)
                else:  # OPENING: roll forward; SPLITTING/MERGING (no commit): reopen
                    verb = "back" if row.state in (SPLITTING, MERGING) else "forward"
                    log.warning("rolling %s the %s of region %s", verb, proc.get("kind"), row.name)
                    if row.target not in self.servers.candidates():
                        target = self.least_loaded()
                        self._meta().transition(row, OPENING, target, target, proc)
                    self._open_step(row, proc)
                done.append(row.name)
        return done

    def plan_open(self, rows: list[MetaRegion], load: dict[str, int]) -> dict[str, str]:
        """Where to open ``rows`` when no region is open anywhere (the data directory is
        opening): a procedure in flight goes to its target, an OPEN row to its recorded
        server if that is a candidate, the rest to the least-loaded candidate. ``load``
        (regions per server) is updated."""
        candidates = self.servers.candidates() or self.servers.live()
        for c in candidates:
            load.setdefault(c, 0)
        plan: dict[str, str] = {}
        for row in rows:
            want = row.target if row.proc is not None and row.target else row.server
            if want not in candidates:
                want = min(candidates, key=lambda n: (load[n], n))
            plan[row.name] = want
            load[want] += 1
        return plan

    def server_died(self, name: str) -> None:
        """Dead-server hook: reassign every region meta records open on ``name`` (the
        ServerCrashProcedure's ASSIGN step; its WAL is replayed when the directory next
        opens, engine/wal_layout.py)."""
        with self.lock:
            for row in list(self._rows().values()):
                if row.server == name and row.state in (OPEN, OPENING, CLOSING):
                    entry = self._table(row.table)
                    if entry is not None and entry.enabled and self.servers.candidates():
                        self.assign(row.name)

    # ---- balancer and draining ----------------------------------------------------------
    def balance(self) -> list[Move] | None:
        """Even out region counts across candidates; None if it did not run (a region is
        in transition, as HBase skips a run then)."""
        with self.lock:
            if self.in_transition():
                log.info("balancer skipped: regions are in transition")
                return None
            candidates = self.servers.candidates()
            if len(candidates) < 2:
                return []
            reports = self.servers.refresh()
            per: dict[str, list[MetaRegion]] = {c: [] for c in candidates}
            for row in self._rows().values():
                if row.state == OPEN and row.server in per:
                    per[row.server].append(row)
            size = {c: reports[c].size_bytes if c in reports else 0 for c in candidates}

            def load(row: MetaRegion) -> int:
                rep = reports.get(_server(row))
                r = rep.regions.get(row.name) if rep is not None else None
                return 0 if r is None else r.requests

            moves: list[Move] = []
            while True:
                most = max(candidates, key=lambda c: (len(per[c]), size[c], c))
                least = min(candidates, key=lambda c: (len(per[c]), size[c], c))
                if len(per[most]) - len(per[least]) <= 1:
                    break
                row = max(per[most], key=lambda r: (load(r), r.name))
                per[most].remove(row)
                per[least].append(row)
                moves.append((row.name, most, least))
            done = [self.move(name, dest) for name, _src, dest in moves]
            if done:
                log.info("balancer moved %d regions", len(done))
            return done

    def decommission(self, names: list[str], *, offload: bool = True) -> list[Move]:
        """Mark servers decommissioned (no new regions) and, with ``offload``, move their
        regions to the remaining candidates."""
        with self.lock:
            for n in names:
                self.servers.get(n)
            if not set(self.servers.live()) - set(names) - set(self.servers.decommissioned()):
                raise InvalidArgument(
                    "cannot decommission every live region server: no server would be left "
                    "to host the regions"
                )
            for n in names:
                self.servers.decommission(n)
            moves: list[Move] = []
            if offload:
                for row in list(self._rows().values()):
                    if row.state == OPEN and row.server in names:
                        moves.append(self.move(row.name))
            return moves

    def recommission(self, name: str) -> None:
        with self.lock:
            self.servers.recommission(name)

    # ---- periodic balancer --------------------------------------------------------------
    def start_balancer(self, period_s: float) -> None:
        if period_s <= 0 or self._timer is not None:
            return

        def run() -> None:
            while not self._stop.wait(period_s):
                try:
                    self.balance()
                except Exception as e:  # logged, retried next period
                    log.error("periodic balancer run failed: %r", e)

        self._timer = threading.Thread(target=run, name="hedgerow-balancer", daemon=True)
        self._timer.start()

    def stop_balancer(self) -> None:
        self._stop.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join()
        self._timer = None


def _server(row: MetaRegion) -> str:
    """The server meta records for a loaded row ("" when none)."""
    return row.server or ""
