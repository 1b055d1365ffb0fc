"""In-process coordination: the ``Coordination`` protocol with threads and no network.

Role: what embedded and standalone use (one master and one region server in one process),
and what fast tests use. ``InProcessEnsemble`` plays ZooKeeper: it keeps each cluster
root's state (registered servers, election queue, meta location, cluster id, master state)
as the same encoded records ZooKeeper would hold (``znode_format``), and owns the sessions.
``InProcessCoordination`` is one session on it, with the semantics of
``cluster.zookeeper.ZooKeeperCoordination`` (tests/cluster/test_contract.py runs both):
ephemeral registrations and election places belong to the session; ``expire()`` (or
``InProcessEnsemble.expire_session``) ends a session the way a ZooKeeper server does when
it stops hearing from a client, so tests can drive failover.

Threads: one lock (a Condition) guards the ensemble's state; callbacks run in order on
one dispatcher thread per ensemble, never under the lock.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hedgerow.cluster import znode_format as zf
from hedgerow.cluster.coordination import (
    CLUSTER_ID,
    META_LOCATION,
    ServersListener,
    SessionListener,
    SessionState,
    check_state_key,
)
from hedgerow.cluster.quorum import DEFAULT_ROOT
from hedgerow.errors import CoordinationError, NotLeader, SessionExpired

__all__ = ["InProcessCoordination", "InProcessEnsemble"]

_STOP = object()
_log = logging.getLogger(__name__)


@dataclass
class _Root:
    """One cluster's state (what lives under its znode root)."""

    servers: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # name -> (data, sid)
    contenders: list[tuple[int, int, bytes]] = field(default_factory=list)  # (seq, sid, data)
    meta: bytes | None = None
    cluster_id: bytes | None = None
    state: dict[str, bytes] = field(default_factory=dict)
    server_watches: dict[int, tuple[int, ServersListener]] = field(default_factory=dict)


class InProcessEnsemble:
    """The shared state many ``InProcessCoordination`` sessions coordinate through."""

    def __init__(self, session_timeout_s: float = 10.0) -> None:
        self.session_timeout_s = session_timeout_s
        self.cond = threading.Condition()
        self._roots: dict[str, _Root] = {}
        self._sessions: dict[int, InProcessCoordination] = {}
        self._ids = itertools.count(1)
        self._events: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._dispatcher: threading.Thread | None = None

    # -- used by sessions (callers hold self.cond unless noted) ------------------------

    def root(self, path: str) -> _Root:
        return self._roots.setdefault(path, _Root())

    def next_id(self) -> int:
        return next(self._ids)

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the dispatcher thread (any thread may call this)."""
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="hedgerow-coordination-events", daemon=True
            )
            self._dispatcher.start()
        self._events.put(fn)

    def _dispatch(self) -> None:
        while (fn := self._events.get()) is not _STOP:
            try:
                fn()  # type: ignore[operator]
            except Exception:  # a callback's bug must not stop the others
                _log.exception("coordination callback raised")

    def open_session(self, session: InProcessCoordination) -> int:
        sid = self.next_id()
        self._sessions[sid] = session
        return sid

    def end_session(self, sid: int) -> None:
        """Drop everything ephemeral ``sid`` held, and fire the watches that changes."""
        self._sessions.pop(sid, None)
        for root in self._roots.values():
            gone = [n for n, (_d, owner) in root.servers.items() if owner == sid]
            for name in gone:
                del root.servers[name]
            before = len(root.contenders)
            root.contenders = [c for c in root.contenders if c[1] != sid]
            for watch_id in [w for w, (owner, _f) in root.server_watches.items() if owner == sid]:
                del root.server_watches[watch_id]
            if gone:
                self.fire_server_watches(root)
            if len(root.contenders) != before:
                self.cond.notify_all()

    def fire_server_watches(self, root: _Root) -> None:
        names = sorted((zf.ServerName.parse(n) for n in root.servers), key=lambda s: s.name)
        for _owner, fn in list(root.server_watches.values()):
            self.post(lambda fn=fn: fn(list(names)))  # type: ignore[misc]

    # -- for tests ------------------------------------------------------------------

    def expire_session(self, sid: int) -> None:
        """End session ``sid`` as a ZooKeeper server does on a session timeout."""
        with self.cond:
            session = self._sessions.get(sid)
        if session is not None:
            session._expired()

    def close(self) -> None:
        """Stop the dispatcher thread (after the callbacks already queued)."""
        if self._dispatcher is not None:
            self._events.put(_STOP)
            self._dispatcher.join(timeout=10)
            self._dispatcher = None


class InProcessCoordination:
    """One session on an ``InProcessEnsemble`` (see ``coordination.Coordination``)."""

    def __init__(self, ensemble: InProcessEnsemble, root: str = DEFAULT_ROOT) -> None:
        self._ens = ensemble
        self._root_path = root
        self._state = SessionState.NOT_CONNECTED
        self._sid = 0
        self._listeners: list[SessionListener] = []
        self._lost: list[Callable[[], None]] = []
        self._my_seq: int | None = None  # my place in the election queue
        self._campaigning = 0  # threads inside campaign()

    @property
    def session_id(self) -> int:
        return self._sid

    # -- the session --------------------------------------------------------------------

    def connect(self, timeout_s: float = 10.0) -> None:
        with self._ens.cond:
            if self._state is not SessionState.NOT_CONNECTED:
                raise CoordinationError(f"connect() on a session that is {self._state.value}")
            self._sid = self._ens.open_session(self)
            self._ens.root(self._root_path)
        self._set_state(SessionState.CONNECTED)

    def close(self) -> None:
        with self._ens.cond:
            if self._state in (SessionState.CLOSED, SessionState.EXPIRED):
                return
            was_open = self._state is not SessionState.NOT_CONNECTED
            self._state = SessionState.CLOSED
            self._my_seq = None
            if was_open:
                self._ens.end_session(self._sid)
            self._ens.cond.notify_all()
        self._notify(SessionState.CLOSED)

    def expire(self) -> None:
        """End this session as if the service had expired it (tests)."""
        self._ens.expire_session(self._sid)

    def _expired(self) -> None:
        with self._ens.cond:
            if self._state is not SessionState.CONNECTED:
                return
            self._state = SessionState.EXPIRED
            self._my_seq = None
            self._ens.end_session(self._sid)
            self._ens.cond.notify_all()
            lost = list(self._lost)
        self._notify(SessionState.EXPIRED)
        for cb in lost:
            self._ens.post(cb)

    def _set_state(self, state: SessionState) -> None:
        with self._ens.cond:
            self._state = state
        self._notify(state)

    def _notify(self, state: SessionState) -> None:
        for fn in list(self._listeners):
            self._ens.post(lambda fn=fn: fn(state))  # type: ignore[misc]

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def session_timeout_s(self) -> float:
        return self._ens.session_timeout_s

    def add_session_listener(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def on_session_lost(self, callback: Callable[[], None]) -> None:
        self._lost.append(callback)

    def _check(self) -> None:
        """Raise unless connected (callers hold the lock)."""
        if self._state is SessionState.CONNECTED:
            return
        if self._state is SessionState.EXPIRED:
            raise SessionExpired(f"coordination session {self._sid} expired")
        raise CoordinationError(f"coordination session is {self._state.value}")

    def _root(self) -> _Root:
        return self._ens.root(self._root_path)

    # -- region servers -----------------------------------------------------------------

    def register_server(self, record: zf.ServerRecord) -> None:
        data = zf.encode(record)
        with self._ens.cond:
            self._check()
            root = self._root()
            held = root.servers.get(record.server.name)
            if held is not None and held[1] != self._sid:
                raise CoordinationError(
                    f"region server {record.server.name} is already registered by another session"
                )
            root.servers[record.server.name] = (data, self._sid)
            if held is None:
                self._ens.fire_server_watches(root)

    def update_server(self, record: zf.ServerRecord) -> None:
        data = zf.encode(record)
        with self._ens.cond:
            self._check()
            root = self._root()
            held = root.servers.get(record.server.name)
            if held is None or held[1] != self._sid:
                raise CoordinationError(
                    f"region server {record.server.name} is not registered by this session"
                )
            root.servers[record.server.name] = (data, self._sid)

    def unregister_server(self, server: zf.ServerName) -> None:
        with self._ens.cond:
            self._check()
            root = self._root()
            held = root.servers.get(server.name)
            if held is not None and held[1] == self._sid:
                del root.servers[server.name]
                self._ens.fire_server_watches(root)

    def live_servers(self) -> list[zf.ServerRecord]:
        with self._ens.cond:
            self._check()
            items = sorted(self._root().servers.items())
        return [zf.decode_server(d, f"{self._root_path}/rs/{n}") for n, (d, _o) in items]

    def watch_servers(self, listener: ServersListener) -> Callable[[], None]:
        with self._ens.cond:
            self._check()
            root = self._root()
            watch_id = self._ens.next_id()
            root.server_watches[watch_id] = (self._sid, listener)
            names = sorted((zf.ServerName.parse(n) for n in root.servers), key=lambda s: s.name)
            self._ens.post(lambda: listener(list(names)))

        def cancel() -> None:
            with self._ens.cond:
                root.server_watches.pop(watch_id, None)

        return cancel

    # -- master election ----------------------------------------------------------------

    def campaign(self, me: zf.MasterRecord, timeout_s: float | None = None) -> bool:
        data = zf.encode(me)
        with self._ens.cond:
            self._check()
            root = self._root()
            if self._my_seq is None:
                self._my_seq = self._ens.next_id()
                root.contenders.append((self._my_seq, self._sid, data))
            seq = self._my_seq
            self._campaigning += 1
            try:
                won = self._ens.cond.wait_for(
                    lambda: self._my_seq != seq or root.contenders[0][0] == seq, timeout_s
                )
                if self._my_seq != seq:  # resigned, closed or expired while waiting
                    self._check()
                    return False
                if not won:
                    root.contenders = [c for c in root.contenders if c[0] != seq]
                    self._my_seq = None
                    self._ens.cond.notify_all()
                    return False
                return True
            finally:
                self._campaigning -= 1

    def campaign_async(self, me: zf.MasterRecord, on_elected: Callable[[], None]) -> None:
        with self._ens.cond:
            self._check()

        def run() -> None:
            try:
                if self.campaign(me):
                    on_elected()
            except CoordinationError:
                pass  # the session ended before this contender won

        threading.Thread(target=run, name="hedgerow-master-campaign", daemon=True).start()

    def master_epoch(self) -> int:
        seq = self._my_seq
        if seq is None:
            raise CoordinationError("this session is not campaigning for mastership")
        return seq

    def is_active_master(self) -> bool:
        with self._ens.cond:
            root = self._root()
            return (
                self._state is SessionState.CONNECTED
                and self._my_seq is not None
                and bool(root.contenders)
                and root.contenders[0][0] == self._my_seq
                and self._campaigning == 0
            )

    def check_active_master(self) -> None:
        with self._ens.cond:
            self._check()
            if not self.is_active_master():
                raise NotLeader("this process is not the active master")

    def _contenders(self) -> list[zf.MasterRecord]:
        with self._ens.cond:
            self._check()
            items = list(self._root().contenders)
        return [zf.decode_master(d, f"{self._root_path}/master-election/{s}") for s, _o, d in items]

    def active_master(self) -> zf.MasterRecord | None:
        contenders = self._contenders()
        return contenders[0] if contenders else None

    def backup_masters(self) -> list[zf.MasterRecord]:
        return self._contenders()[1:]

    def resign(self) -> None:
        with self._ens.cond:
            self._check()
            if self._my_seq is not None:
                root = self._root()
                root.contenders = [c for c in root.contenders if c[0] != self._my_seq]
                self._my_seq = None
                self._ens.cond.notify_all()

    # -- what the active master publishes ----------------------------------------------

    def publish_meta_location(self, location: zf.MetaLocation) -> None:
        data = zf.encode(location)
        with self._ens.cond:
            self.check_active_master()
            self._root().meta = data

    def meta_location(self) -> zf.MetaLocation | None:
        with self._ens.cond:
            self._check()
            data = self._root().meta
        return (
            None if data is None else zf.decode_meta_location(data, self._root_path + META_LOCATION)
        )

    def cluster_id(self, proposed: str) -> str:
        data = zf.encode(zf.ClusterIdRecord(proposed))
        with self._ens.cond:
            self._check()
            root = self._root()
            if root.cluster_id is None:
                root.cluster_id = data
            stored = root.cluster_id
        return zf.decode_cluster_id(stored, self._root_path + CLUSTER_ID).cluster_id

    def state_put(self, key: str, value: bytes) -> None:
        check_state_key(key, value)
        with self._ens.cond:
            self.check_active_master()
            self._root().state[key] = bytes(value)

    def state_get(self, key: str) -> bytes | None:
        check_state_key(key)
        with self._ens.cond:
            self._check()
            return self._root().state.get(key)

    def state_delete(self, key: str) -> None:
        check_state_key(key)
        with self._ens.cond:
            self.check_active_master()
            self._root().state.pop(key, None)

    def state_keys(self) -> list[str]:
        with self._ens.cond:
            self._check()
            return sorted(self._root().state)
