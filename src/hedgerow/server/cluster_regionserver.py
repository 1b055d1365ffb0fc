"""``hedgerow regionserver``: one region server process of a cluster.

Role: HBase's HRegionServer. It serves the data operations of the regions the active
master opened on it (and NOT_SERVING_REGION for every other region), plus the master's
OPEN_REGION, CLOSE_REGION, FLUSH_REGION, COMPACT_REGION and REGION_SERVER_REPORT
(docs/formats/rpc.md); a flush or compaction runs here while the region keeps serving. Its WAL is
``WALs/<host,port,startcode>/`` under the cluster's shared root. Once listening it
registers ``/rs/<host,port,startcode>`` (ephemeral) in ZooKeeper; the master sees it
join. docs/design/cluster.md#processes.
Invariants: a master call carrying an epoch older than the newest one seen is refused
(NotLeader): a deposed master cannot open or close regions here. The session's loss
aborts the process (exit 1, nothing flushed: ZooKeeper has declared it dead and its
regions may already be open elsewhere); SIGTERM (``stop``) stops serving, flushes and
closes every region, and closes the session, so the master sees the leave at once.
Before that, SIGTERM **drains** the server (``drain``, HBase's graceful_stop): it asks the
active master to decommission it, which moves its regions to the other region servers
one by one while it keeps serving, so clients see only a relocation; it is bounded by
``drain_timeout_s`` and skipped when no other region server is live (the last one
flushes and closes as before). docs/design/cluster.md#draining-a-region-server.
Concurrency: RPC calls come from the RPC server's worker threads; opens and closes are
serialised by ``_lock``; the region server's online map is switched atomically.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from hedgerow.cluster.quorum import parse_quorum
from hedgerow.cluster.znode_format import ServerName, ServerRecord
from hedgerow.cluster.zookeeper import ZooKeeperCoordination
from hedgerow.engine import EngineConfig
from hedgerow.engine.catalog import RegionEntry
from hedgerow.engine.regionserver import RegionServer
from hedgerow.errors import HedgerowError, InvalidArgument, NotLeader, NotServingRegion
from hedgerow.model.schema import TableDescriptor
from hedgerow.region.region import Region, RegionInfo
from hedgerow.rpc.messages import ServerReportResponse
from hedgerow.rpc.operations import Handler

__all__ = ["RegionServerProcess"]

if TYPE_CHECKING:
    from hedgerow.rpc import RpcBackend

log = logging.getLogger("hedgerow.regionserver")


def _not_here(table: str) -> NoReturn:
    raise NotServingRegion(f"no region of table {table!r} is open on this region server")


class RegionServerProcess:
    """A region server process: ``start()``, then ``stop()`` (or it aborts)."""

    def __init__(
        self,
        zk: str,
        root: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        session_timeout_s: float = 10.0,
        engine_options: dict[str, Any] | None = None,
        on_abort: Callable[[], None] | None = None,
        drain_timeout_s: float = 60.0,
        drain_linger_s: float = 0.5,
    ) -> None:
        self.quorum = parse_quorum(zk)
        self.root = os.path.abspath(root)
        self.host = host
        self.port = port
        self.session_timeout_s = session_timeout_s
        self._options = dict(engine_options or {})
        self._on_abort = on_abort or (lambda: os._exit(1))
        self.drain_timeout_s = drain_timeout_s
        self.drain_linger_s = drain_linger_s
        self._lock = threading.Lock()
        self._epoch = 0
        self.rs: RegionServer | None = None
        self.coord: ZooKeeperCoordination | None = None
        self._rpc: Any = None
        self.server: ServerName | None = None
        self._splits_asked: set[str] = set()  # regions whose split request is under way

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        """Connect, listen, open the WAL and register; returns a line for the log."""
        from hedgerow.rpc import RpcServer
        from hedgerow.storage.fs import LocalFS

        self.coord = ZooKeeperCoordination(self.quorum, self.session_timeout_s)
        self.coord.connect()
        self.coord.on_session_lost(self._session_lost)
        fs = LocalFS()
        fs.makedirs(self.root)
        config = EngineConfig.from_options({"compaction_processes": 0, **self._options})
        from hedgerow._internal.clock import SystemClock

        rs = RegionServer(self.root, config, SystemClock(), fs, name="starting", sid="starting")
        rs.table_missing = self._not_here
        rs.request_split = self._request_split
        self.rs = rs
        self._rpc = RpcServer(cast(Handler, _Handler(self)), host=self.host, port=self.port)
        h, p = self._rpc.start_in_thread()
        self.server = ServerName(h, p, rs.start_code)
        rs.name = self.server.address
        rs.sid = self.server.name  # WALs/<host,port,startcode>/
        rs.start_wal()
        rs.recover([])  # nothing to replay (a fresh directory); starts flush/compaction threads
        self.coord.register_server(ServerRecord(self.server, version=_version()))
        return f"region server {self.server.address} ({self.server.name}) root {self.root}"

    def _not_here(self, table: str) -> NoReturn:
        if self.rs is not None:
            self.rs.not_serving_answers += 1
        _not_here(table)

    def _session_lost(self) -> None:
        log.error("ZooKeeper session lost: aborting (the master may reassign our regions)")
        if self._rpc is not None:
            try:
                self._rpc.stop(timeout_s=2.0)
            except Exception as e:  # aborting anyway
                log.error("stopping the RPC server: %r", e)
        self._on_abort()

    def stop(self, *, drain: bool = True) -> None:
        """Drain (``drain``), then stop serving, flush and close every region and the WAL,
        close the session."""
        if drain and self.drain_timeout_s > 0 and self._rpc is not None:
            try:
                self.drain()
            except Exception as e:  # stopping anyway: the master reassigns what is left
                log.error("drain failed: %r; closing the regions still here", e)
        if self._rpc is not None:
            self._rpc.stop()
            self._rpc = None
        if self.rs is not None:
            self.rs.close()
        if self.coord is not None:
            self.coord.close()

    def drain(self) -> bool:
        """Have the active master move every region off this server (decommission with
        offload) while it keeps serving; True when none is left here. False at once when
        no other region server is live (nowhere to move them) or the master refuses;
        gives up after ``drain_timeout_s``. Afterwards the server lingers
        ``drain_linger_s`` answering NOT_SERVING_REGION, so a client holding an old
        location is sent on before the port closes."""
        from hedgerow._internal.clock import SystemClock
        from hedgerow.rpc.operations import Operations

        coord, me = self.coord, self.server
        if coord is None or me is None or not self._rs().hosted():
            return True
        clock = SystemClock()
        deadline = clock.monotonic_s() + self.drain_timeout_s
        others = [r for r in coord.live_servers() if r.server.name != me.name]
        if not others:
            log.info("drain: the last region server; flushing and closing instead")
            return False
        started = clock.monotonic_s()
        n = len(self._rs().hosted())
        log.info("draining: asking the master to move %d regions elsewhere", n)
        while self._rs().hosted():
            left = deadline - clock.monotonic_s()
            if left <= 0:
                log.error("drain timed out with %d regions here", len(self._rs().hosted()))
                return False
            backend = self._master_backend(left)
            if backend is None:
                time.sleep(0.2)  # a master failover: wait for the next one
                continue
            try:
                backend.call(Operations.decommission_server, [me.address], True)
            except InvalidArgument as e:  # e.g. every other server is decommissioned too
                log.warning("drain refused by the master: %s", e)
                return False
            except HedgerowError as e:  # master moving, a move failed: try again
                log.warning("drain: %r; retrying", e)
                time.sleep(0.2)
            finally:
                backend.close()
        log.info("drained %d regions in %.2f s", n, clock.monotonic_s() - started)
        time.sleep(self.drain_linger_s)
        return True

    def _master_backend(self, timeout_s: float) -> RpcBackend | None:
        """An RPC backend to the active master as ZooKeeper names it now (the caller
        closes it), or None while there is none (a failover)."""
        from hedgerow.rpc import RpcBackend, SocketTransport

        master = self.coord.active_master() if self.coord is not None else None
        if master is None:
            return None
        return RpcBackend(
            SocketTransport(master.server.host, master.server.port, timeout_s=timeout_s)
        )

    def _request_split(self, table: str, region_name: str) -> object:
        """A region outgrew ``region_split_bytes`` (engine/background.py): ask the active
        master to split it, as HBase's region server requests a split of the master. The
        master's split procedure closes the region here, so the request goes from a thread
        of its own (the caller is a compaction thread, which the close may wait for); one
        request per region at a time."""
        with self._lock:
            if region_name in self._splits_asked:
                return None
            self._splits_asked.add(region_name)
        threading.Thread(
            target=self._ask_master_to_split,
            args=(table, region_name),
            name=f"split-request-{region_name}",
            daemon=True,
        ).start()
        return None

    def _ask_master_to_split(self, table: str, region_name: str) -> None:
        from hedgerow.rpc.operations import Operations

        try:
            backend = self._master_backend(60.0)
            if backend is None:
                log.info("split of %s not requested: no active master now", region_name)
                return
            try:
                a, b = backend.call(Operations.split_region, table, region_name, None)
                log.info("region %s split by the master into %s and %s", region_name, a, b)
            finally:
                backend.close()
        except HedgerowError as e:  # the table changed, a daughter still has references...
            log.info("split of %s not done: %s", region_name, e)
        except OSError as e:
            log.warning("split of %s not requested: %r", region_name, e)
        finally:
            with self._lock:
                self._splits_asked.discard(region_name)

    # ---- the master's calls --------------------------------------------------------------
    def check_epoch(self, epoch: int) -> None:
        with self._lock:
            if epoch < self._epoch:
                raise NotLeader(
                    f"master epoch {epoch} is older than {self._epoch}, the newest seen: "
                    "a deposed master's call is ignored"
                )
            self._epoch = epoch

    def _rs(self) -> RegionServer:
        if self.rs is None:
            raise InvalidArgument("the region server is not started")
        return self.rs

    def hosted(self, region: str) -> Region | None:
        for r in self._rs().hosted():
            if r.info.name == region:
                return r
        return None

    def open_region(
        self, epoch: int, desc: TableDescriptor, region: str, start_key: bytes, end_key: bytes
    ) -> None:
        self.check_epoch(epoch)
        rs = self._rs()
        with self._lock:
            if self.hosted(region) is not None:
                raise InvalidArgument(f"region {region} is already open on {rs.name}")
            opened = rs.open_region(desc, RegionEntry(region, start_key, end_key), create=False)
            opened.drop_orphan_families()
            tr = rs.online(desc.name)
            others = [r for r in tr.regions if not r.closed] if tr is not None else []
            rs.set_online(desc.name, [*others, opened])
        log.info("opened region %s of %s", region, desc.name)

    def close_region(self, epoch: int, table: str, region: str) -> None:
        self.check_epoch(epoch)
        rs = self._rs()
        with self._lock:
            r = self.hosted(region)
            if r is None:
                return
            if r.info.table != table:
                raise NotServingRegion(f"region {region} is not a region of table {table!r}")
            tr = rs.online(table)
            rest = [x for x in (tr.regions if tr is not None else []) if x is not r]
            if rest:
                rs.set_online(table, rest)
            else:
                rs.set_offline(table)
            rs.close_region(r, flush=True)
            rs.forget_region(region)  # flushed: its edits no longer keep WAL files alive
        log.info("closed region %s of %s", region, table)

    def _serving(self, table: str, region: str) -> Region:
        with self._lock:
            r = self.hosted(region)
        if r is None or r.info.table != table:
            raise NotServingRegion(f"region {region} of table {table!r} is not open here")
        return r

    def flush_region(self, epoch: int, table: str, region: str) -> None:
        """Flush the region on this RPC thread while it keeps serving (HBase's
        FlushRegion). Not under ``_lock``: a background compaction asking for a split
        takes it, and a close waits for the flush by the region's own lock."""
        self.check_epoch(epoch)
        r = self._serving(table, region)
        clock = self._rs().clock
        t0 = clock.monotonic_s()
        flushed = r.flush()
        log.info(
            "flushed region %s of %s in place (%s, %.3f s)",
            region,
            table,
            "written" if flushed else "nothing to flush",
            clock.monotonic_s() - t0,
        )

    def compact_region(self, epoch: int, table: str, region: str, major: bool) -> None:
        """Flush, then compact the region with this server's compaction (the same as its
        background thread's, engine/background.py) while it keeps serving (HBase's
        CompactRegion, run here at once rather than queued: the master's compact_table
        returns when it is done, as in standalone)."""
        self.check_epoch(epoch)
        r = self._serving(table, region)
        clock = self._rs().clock
        t0 = clock.monotonic_s()
        r.flush()
        self._rs().compact_region(r, major=major)
        files = sum(s.file_count() for s in r.stores.values())
        log.info(
            "compacted region %s of %s in place (%s, %d store files, %.3f s)",
            region,
            table,
            "major" if major else "minor",
            files,
            clock.monotonic_s() - t0,
        )

    def region_server_report(self, epoch: int) -> ServerReportResponse:
        self.check_epoch(epoch)
        rs = self._rs()
        return ServerReportResponse(
            rs.name,
            rs.start_code,
            tuple(
                (
                    r.info.table,
                    r.info.name,
                    r.size_bytes(),
                    r.memstore_size(),
                    r.read_requests,
                    r.write_requests,
                )
                for r in rs.hosted()
            ),
        )


#: data operations the region server role answers with the same signatures
#: (rpc/operations.py declares them; engine/regionserver.py implements them)
_DATA_OPERATIONS = frozenset(
    {
        "check_region",
        "get",
        "get_many",
        "scan",
        "mutate",
        "increment",
        "append",
        "check_and_mutate",
    }
)


class _Handler:
    """What the RPC server calls: data operations on the hosted regions, the master's
    operations, and a description of this server's own regions; everything else (DDL,
    admin) belongs to the master."""

    def __init__(self, proc: RegionServerProcess) -> None:
        self._p = proc

    def __getattr__(self, name: str) -> Any:
        if name in _DATA_OPERATIONS:  # served by the region server itself, as declared
            return getattr(self._p._rs(), name)

        def refuse(*_a: Any, **_k: Any) -> NoReturn:
            raise InvalidArgument(
                f"{name} is served by the active master, not by a region server "
                "(connect with hedgerow+zk://...)"
            )

        return refuse

    # master -> region server
    def open_region(
        self, epoch: int, desc: TableDescriptor, region: str, start_key: bytes, end_key: bytes
    ) -> None:
        self._p.open_region(epoch, desc, region, start_key, end_key)

    def close_region(self, epoch: int, table: str, region: str) -> None:
        self._p.close_region(epoch, table, region)

    def region_server_report(self, epoch: int) -> ServerReportResponse:
        return self._p.region_server_report(epoch)

    def flush_region(self, epoch: int, table: str, region: str) -> None:
        self._p.flush_region(epoch, table, region)

    def compact_region(self, epoch: int, table: str, region: str, major: bool) -> None:
        self._p.compact_region(epoch, table, region, major)

    # this server's own regions (a client connected here directly)
    def _mine(self, table: str) -> list[RegionInfo]:
        rs = self._p._rs()
        return sorted(
            (r.info for r in rs.hosted() if r.info.table == table), key=lambda i: i.start_key
        )

    def regions(self, table: str) -> list[RegionInfo]:
        return self._mine(table)

    def region_locations(self, table: str) -> list[tuple[RegionInfo, str]]:
        name = self._p._rs().name
        return [(i, name) for i in self._mine(table)]

    def table_names(self) -> list[str]:
        return sorted({r.info.table for r in self._p._rs().hosted()})

    def is_table_enabled(self, table: str) -> bool:
        return True

    def table_exists(self, table: str) -> bool:
        return bool(self._mine(table))

    def status(self) -> dict[str, object]:
        """This server's status, with its regions' metrics (store-file counts too)."""
        rs = self._p._rs()
        return {**rs.status(), "region_metrics": rs.region_metrics()}


def _version() -> str:
    from hedgerow import __version__

    return __version__
