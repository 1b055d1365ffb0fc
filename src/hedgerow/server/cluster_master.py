"""``hedgerow master``: one master process of a cluster (active or backup).

Role: HBase's HMaster. It listens first (so its election record names its RPC address),
then campaigns (``Coordination.campaign``); a backup answers every call with NotLeader
until it is elected. The active master:

1. checks the cluster id: ``CLUSTER_ID`` in the root against ``/cluster-id`` (made from
   the file's id by the first master); a root of another cluster is refused;
2. opens the ``Engine`` on the shared root with the live region servers registered as
   ``RemoteRegionServer``s: it loads the catalog, opens ``hbase:meta`` on its own region
   server (meta is served by the active master process: docs/design/cluster.md#why-meta-is-served-by-the-active-master-process),
   replays its own WAL, and leaves regions a live region server reports open where they
   are (``Master.start``);
3. publishes meta's location (fenced) and resumes the procedures meta records in flight
   (``AssignmentManager.resume``);
4. watches ``/rs``: a join registers the server and runs the balancer, a leave expires it
   (its regions are reassigned; splitting its WAL is issue 15). While any region server
   is live, the master's own region server is decommissioned: a region opened on it
   (at a takeover) is moved to the region servers by the reconcile loop (``_reconcile``).

The table procedures drive the region servers directly (engine/remote_procedures.py,
``_REMOTE``). SIGTERM waits ``stop_grace_s`` for a running procedure; one still running
then is left to the next master (the session is closed at once, nothing is flushed).

It serves the admin, DDL and location operations (``region_locations`` answers each
region's server address from meta). It exits (status 1, at once, nothing flushed) when
its session is lost or a fenced write says it is no longer the leader; SIGTERM
(``stop``) closes the engine (flushing) and the session, so a backup takes over at once.
Concurrency: membership changes are queued by the ZooKeeper watch and applied by the
reconcile thread under the master's DDL lock; RPC calls run on the RPC server's workers.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, cast

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.cluster.quorum import parse_quorum
from hedgerow.cluster.znode_format import MasterRecord, MetaLocation, ServerName
from hedgerow.cluster.zookeeper import ZooKeeperCoordination
from hedgerow.engine import Engine, EngineConfig
from hedgerow.engine.remote_procedures import RemoteProcedures
from hedgerow.errors import DirectoryLocked, InvalidArgument, NotLeader
from hedgerow.rpc.operations import Handler
from hedgerow.server.remote_rs import RemoteRegionServer

__all__ = ["MasterProcess"]

log = logging.getLogger("hedgerow.master")

_CLUSTER_ID_FILE = "CLUSTER_ID"


class MasterProcess:
    """A master process: ``start()`` (listen, campaign in the background), ``stop()``."""

    def __init__(
        self,
        zk: str,
        root: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        session_timeout_s: float = 10.0,
        reconcile_interval_s: float = 0.5,
        stop_grace_s: float = 2.0,
        engine_options: dict[str, Any] | None = None,
        on_exit: Callable[[int], None] | None = None,
        clock: Clock | None = None,
        new_cluster_id: Callable[[], str] | None = None,
    ) -> None:
        self.quorum = parse_quorum(zk)
        self.root = os.path.abspath(root)
        self.host = host
        self.port = port
        self.session_timeout_s = session_timeout_s
        self.reconcile_interval_s = reconcile_interval_s
        self.stop_grace_s = stop_grace_s
        self._options = dict(engine_options or {})
        self._on_exit = on_exit or os._exit
        self._clock = clock or SystemClock()
        self._new_cluster_id = new_cluster_id or (lambda: os.urandom(16).hex())
        self.engine: Engine | None = None
        self.coord: ZooKeeperCoordination | None = None
        self.server: ServerName | None = None
        self.elected_at: float | None = None
        self._rpc: Any = None
        self._events: queue.Queue[list[str] | None] = queue.Queue()
        self._remote: dict[str, RemoteRegionServer] = {}  # zk name -> client
        self._draining: set[str] = set()  # decommissioned servers by ZooKeeper name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        from hedgerow.rpc import RpcServer

        self.coord = ZooKeeperCoordination(self.quorum, self.session_timeout_s)
        self.coord.connect()
        self.coord.on_session_lost(lambda: self._exit(1, "ZooKeeper session lost"))
        self._rpc = RpcServer(cast(Handler, _MasterHandler(self)), host=self.host, port=self.port)
        h, p = self._rpc.start_in_thread()
        self.server = ServerName(h, p, self._clock.now_ms())
        self._thread = threading.Thread(target=self._run, name="hedgerow-master", daemon=True)
        self._thread.start()
        return f"master {h}:{p} ({self.server.name}) root {self.root}: campaigning"

    def stop(self) -> None:
        """Stop serving, close the engine (flush) and the session (a backup takes over).

        A procedure still running after ``stop_grace_s`` (it holds the DDL lock) is left
        to the next master: the session is closed at once (a backup takes over now) and
        the process exits without flushing; every step the procedure took is in meta,
        whose edits are in the master's WAL, so the successor rolls it forward or back
        (docs/design/assignment.md, "Table procedures across processes")."""
        self._stopping.set()
        self._events.put(None)
        engine = self.engine
        if engine is not None:
            lock = engine.master._ddl_lock
            if not lock.acquire(timeout=self.stop_grace_s):
                log.warning(
                    "a procedure is still running %.1f s after the stop request; leaving it "
                    "to the next master",
                    self.stop_grace_s,
                )
                if self.coord is not None:
                    self.coord.close()
                self._exit(0, "stopped in the middle of a procedure")
            lock.release()  # no procedure runs now; the RPC server stops next
        if self._rpc is not None:
            self._rpc.stop()
            self._rpc = None
        if self.engine is None and self.coord is not None:
            self.coord.close()  # a backup: stop campaigning (campaign() returns False)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self.coord is not None:
            self.coord.close()
        for c in self._remote.values():
            c.close()

    def _exit(self, code: int, why: str) -> NoReturn:
        log.error("master exiting: %s", why)
        self._on_exit(code)
        raise SystemExit(code)  # on_exit returned (tests)

    # ---- the master's thread ---------------------------------------------------------------
    def _run(self) -> None:
        coord = self.coord
        assert coord is not None and self.server is not None
        try:
            if not coord.campaign(MasterRecord(self.server)):
                return  # closed while waiting
            if self._stopping.is_set():
                return
            self.elected_at = self._clock.monotonic_s()
            log.info("elected active master (epoch %d)", coord.master_epoch())
            self._become_active()
            self._loop()
        except NotLeader as e:
            self._exit(1, f"no longer the active master: {e}")
        except Exception as e:
            if self._stopping.is_set():
                return
            log.exception("master failed")
            self._exit(1, f"master failed: {e!r}")

    def _check_cluster_id(self) -> None:
        assert self.coord is not None
        path = os.path.join(self.root, _CLUSTER_ID_FILE)
        os.makedirs(self.root, exist_ok=True)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                mine = f.read().strip()
        else:
            mine = self._new_cluster_id()
        cid = self.coord.cluster_id(mine)
        if cid != mine:
            raise InvalidArgument(
                f"the root {self.root} belongs to cluster {mine!r} but ZooKeeper "
                f"{self.quorum} holds cluster {cid!r}: refusing to serve another cluster's data"
            )
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(mine + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)

    def _client(self, zk_name: str) -> RemoteRegionServer:
        assert self.coord is not None
        s = ServerName.parse(zk_name)
        return RemoteRegionServer(s.host, s.port, s.name, self.coord.master_epoch)

    def _become_active(self) -> None:
        coord = self.coord
        assert coord is not None and self.server is not None
        self._check_cluster_id()
        live = [r.server.name for r in coord.live_servers()]
        self._remote = {n: self._client(n) for n in live}
        options = {"compaction_processes": 0, **self._options}
        deadline = self._clock.monotonic_s() + 60.0
        while True:  # the previous master's process may still hold LOCK while it exits
            try:
                self.engine = Engine(
                    self.root,
                    EngineConfig.from_options(options),
                    remote_servers=list(self._remote.values()),
                )
                break
            except DirectoryLocked:
                if self._clock.monotonic_s() > deadline or self._stopping.is_set():
                    raise
                time.sleep(0.2)
        self.engine.set_server_name(self.server.address)
        coord.publish_meta_location(MetaLocation(self.server))
        self._restore_decommissioned()
        done = self.engine.master.assignment.resume()
        if done:
            log.warning("resumed %d region procedures", len(done))
        coord.watch_servers(lambda names: self._events.put([n.name for n in names]))
        log.info("active master %s: %d region servers, meta here", self.server.address, len(live))

    # ---- decommissioned servers, kept in ZooKeeper ------------------------------------------
    def _restore_decommissioned(self) -> None:
        """Decommission again the servers the previous master had decommissioned (by
        ZooKeeper name, host,port,startcode: a restarted server is a new one and takes
        regions, as HBase's draining list), and persist every later change."""
        coord, engine = self.coord, self.engine
        assert coord is not None and engine is not None
        raw = coord.state_get(_DRAINING_KEY)
        kept = set(_decode_draining(raw)) if raw is not None else set()
        self._draining = kept & set(self._remote)  # gone incarnations are forgotten
        sm = engine.master.server_manager
        for n, client in self._remote.items():
            if n in self._draining and sm.is_live(client.name):
                sm.decommission(client.name)
        sm.on_decommission_change(self._save_decommissioned)
        if self._draining:
            log.info("decommissioned (from ZooKeeper): %s", ", ".join(sorted(self._draining)))

    def _save_decommissioned(self, names: list[str]) -> None:
        coord = self.coord
        assert coord is not None
        by_address = {c.name: n for n, c in self._remote.items()}
        self._draining = {by_address[a] for a in names if a in by_address}
        body = {"format": _DRAINING_FORMAT, "servers": sorted(self._draining)}
        coord.state_put(_DRAINING_KEY, json.dumps(body).encode())

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                names = self._events.get(timeout=self.reconcile_interval_s)
            except queue.Empty:
                names = None
            if self._stopping.is_set():
                return
            # take every queued change: only the newest list matters
            while True:
                try:
                    newer = self._events.get_nowait()
                except queue.Empty:
                    break
                if newer is None:
                    return
                names = newer
            try:
                self._reconcile(names)
            except NotLeader:
                raise
            except Exception as e:  # logged and retried on the next round
                log.error("reconcile failed: %r", e)

    def _reconcile(self, names: list[str] | None) -> None:
        """Apply joins and leaves (``names``: the live servers now, None: no change), keep
        the master's own region server empty while region servers are live, balance
        after a join."""
        engine = self.engine
        coord = self.coord
        assert engine is not None and coord is not None
        coord.check_active_master()
        master = engine.master
        sm = master.server_manager
        am = master.assignment
        primary = master.rs.name
        joined = False
        with master._ddl_lock:
            if names is not None:
                now = set(names)
                for n in sorted(now - set(self._remote)):
                    client = self._client(n)
                    self._remote[n] = client
                    if sm.is_live(client.name):  # the same address, an older incarnation
                        sm.expire(client.name)
                    sm.register(client)
                    if n in self._draining:  # the same incarnation came back into view
                        sm.decommission(client.name)
                    joined = True
                    log.info("region server %s joined", client.name)
                gone = sorted(set(self._remote) - now)
                if gone and not (now & set(self._remote)):
                    sm.recommission(primary)  # the master's server is the only one left
                for n in gone:
                    client = self._remote.pop(n)
                    log.warning("region server %s left; reassigning its regions", client.name)
                    sm.expire(client.name)
                    client.close()
            remote_live = [c.name for c in self._remote.values()]
            if remote_live:
                if primary not in sm.decommissioned():
                    sm.decommission(primary)
                on_primary = [
                    r.info.name
                    for r in master.rs.hosted()
                    if master.catalog_entry(r.info.table) is not None
                ]
                if on_primary and not am.in_transition():
                    am.decommission([primary], offload=True)
            if joined:
                am.balance()


#: the master-state key of the decommissioned servers (docs/formats/zookeeper.md)
_DRAINING_KEY = "decommissioned"
_DRAINING_FORMAT = 1


def _decode_draining(raw: bytes) -> list[str]:
    """The server names of a ``decommissioned`` record; FormatVersionError or
    CorruptionError (naming the key) for another version or a malformed record."""
    from hedgerow.errors import CorruptionError, FormatVersionError

    try:
        body = json.loads(raw)
    except ValueError as e:
        raise CorruptionError(f"master-state/{_DRAINING_KEY} is not JSON: {e}") from None
    if not isinstance(body, dict) or "format" not in body:
        raise CorruptionError(f"master-state/{_DRAINING_KEY}: not a record: {raw[:100]!r}")
    if body["format"] != _DRAINING_FORMAT:
        raise FormatVersionError(
            f"master-state/{_DRAINING_KEY} has format {body['format']!r}; "
            f"this version reads {_DRAINING_FORMAT}"
        )
    servers = body.get("servers")
    if not isinstance(servers, list) or not all(isinstance(x, str) for x in servers):
        raise CorruptionError(f"master-state/{_DRAINING_KEY}: servers is not a list of names")
    return servers


#: table procedures that drive the region servers directly
#: (engine/remote_procedures.py; docs/design/assignment.md)
_REMOTE = frozenset(
    {
        "create_table",
        "split_region",
        "merge_regions",
        "enable_table",
        "disable_table",
        "modify_table",
        "truncate_table",
        "delete_table",
        "flush_table",
        "compact_table",
    }
)


class _MasterHandler:
    """The master's RPC handler: the engine once elected; NotLeader while a backup."""

    def __init__(self, proc: MasterProcess) -> None:
        self._p = proc

    def __getattr__(self, name: str) -> Any:
        engine = self._p.engine
        if engine is None:

            def refuse(*_a: Any, **_k: Any) -> NoReturn:
                raise NotLeader("this master is a backup: connect to the active master")

            return refuse
        if name in _REMOTE:
            engine.region_server.check_open()
            return getattr(RemoteProcedures(engine.master), name)
        return getattr(engine, name)
