"""ZooKeeper coordination: the ``Coordination`` protocol over Apache ZooKeeper with kazoo.

Role: what ``hedgerow master`` and ``hedgerow regionserver`` use to find each other across
machines. ZooKeeper is used as is: ephemeral znodes for live region servers, kazoo's
``Lock`` recipe (ephemeral sequential znodes, each contender watching its predecessor,
kazoo docs "Lock") for the master election, kazoo's ``ChildrenWatch`` for joins and
leaves, and multi-op transactions (``check`` of the master's own lock znode plus the
write) so only the active master's writes land. No consensus of our own.

Every path lives under the quorum's root (``Quorum.root``, default ``/hedgerow``), which
the class prefixes itself, so two clusters share one ensemble without seeing each other.
The znode tree and records: docs/formats/zookeeper.md; design: docs/design/cluster.md.

Sessions map onto kazoo's states (kazoo docs "Understanding Kazoo States"): CONNECTED and
SUSPENDED as kazoo reports them; kazoo's LOST after a start becomes EXPIRED here, which is
terminal: the client is stopped rather than left to reconnect with a new session, because
everything the old session held is gone and its owner has to act on that.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    LockTimeout,
    NodeExistsError,
    NoNodeError,
    RolledBackError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.recipe.lock import Lock
from kazoo.recipe.watchers import ChildrenWatch

from hedgerow.cluster import znode_format as zf
from hedgerow.cluster.coordination import (
    CLUSTER_ID,
    ELECTION,
    META_LOCATION,
    REGION_SERVERS,
    STATE,
    ServersListener,
    SessionListener,
    SessionState,
    check_state_key,
)
from hedgerow.cluster.quorum import Quorum, parse_quorum
from hedgerow.errors import (
    CoordinationConnectionLost,
    CoordinationError,
    NotLeader,
    SessionExpired,
)

__all__ = ["ZooKeeperCoordination"]

_log = logging.getLogger(__name__)


class ZooKeeperCoordination:
    """One ZooKeeper session (see ``coordination.Coordination``).

    ``quorum`` is a ``Quorum`` or a ``--zk`` string; ``session_timeout_s`` is what the
    client asks for (the server clamps it to between 2 and 20 of its ticks).
    """

    def __init__(self, quorum: Quorum | str, session_timeout_s: float = 10.0) -> None:
        self.quorum = parse_quorum(quorum) if isinstance(quorum, str) else quorum
        if not 0.1 <= session_timeout_s <= 3600:
            raise CoordinationError(f"session_timeout_s {session_timeout_s} not in 0.1..3600")
        self._requested_timeout_s = session_timeout_s
        self._client: KazooClient | None = None
        self._state = SessionState.NOT_CONNECTED
        self._guard = threading.Lock()
        self._listeners: list[SessionListener] = []
        self._lost: list[Callable[[], None]] = []
        self._lock: Lock | None = None  # the election recipe, once campaigning

    def _p(self, path: str) -> str:
        return self.quorum.root + path

    @property
    def client_id(self) -> tuple[int, bytes]:
        """The ZooKeeper session id and password (tests use it to expire the session)."""
        client = self._require_client()
        cid: tuple[int, bytes] = client.client_id
        return cid

    # -- the session --------------------------------------------------------------------

    def connect(self, timeout_s: float = 10.0) -> None:
        with self._guard:
            if self._state is not SessionState.NOT_CONNECTED:
                raise CoordinationError(f"connect() on a session that is {self._state.value}")
            client = KazooClient(
                hosts=self.quorum.connect_string, timeout=self._requested_timeout_s
            )
            self._client = client
        client.add_listener(self._on_kazoo_state)
        try:
            client.start(timeout=timeout_s)
        except KazooTimeoutError:
            client.close()
            with self._guard:
                self._state = SessionState.CLOSED
            raise CoordinationConnectionLost(
                f"no ZooKeeper server of {self.quorum.connect_string} answered within {timeout_s}s"
            ) from None
        with self._guard:
            if self._state is SessionState.NOT_CONNECTED:
                self._state = SessionState.CONNECTED
        with self._calls():
            for path in (REGION_SERVERS, ELECTION, STATE):
                client.ensure_path(self._p(path))

    def close(self) -> None:
        with self._guard:
            if self._state in (SessionState.CLOSED, SessionState.EXPIRED):
                return
            self._state = SessionState.CLOSED
            client, self._client = self._client, None
        if client is not None:
            try:
                client.stop()  # ends the session: the server deletes its ephemeral znodes
            finally:
                client.close()
        self._notify(SessionState.CLOSED)

    def _on_kazoo_state(self, kstate: str) -> None:
        """kazoo's listener (its connection thread: must not block)."""
        with self._guard:
            if self._state in (SessionState.CLOSED, SessionState.EXPIRED):
                return
            if kstate == KazooState.CONNECTED:
                new = SessionState.CONNECTED
            elif kstate == KazooState.SUSPENDED:
                new = SessionState.SUSPENDED
            elif self._state is SessionState.NOT_CONNECTED:
                return  # LOST before the first connection: nothing held yet
            else:
                new = SessionState.EXPIRED
            self._state = new
            lost = list(self._lost) if new is SessionState.EXPIRED else []
        self._notify(new)
        if new is SessionState.EXPIRED:
            threading.Thread(
                target=self._after_expiry, args=(lost,), name="hedgerow-zk-expired", daemon=True
            ).start()

    def _after_expiry(self, lost: list[Callable[[], None]]) -> None:
        with self._guard:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.stop()  # stop kazoo reconnecting with a new, empty session
                client.close()
            except Exception:
                _log.exception("stopping the expired ZooKeeper client")
        for cb in lost:
            try:
                cb()
            except Exception:
                _log.exception("session-lost callback raised")

    def _notify(self, state: SessionState) -> None:
        for fn in list(self._listeners):
            try:
                fn(state)
            except Exception:
                _log.exception("session listener raised")

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def session_timeout_s(self) -> float:
        client = self._client
        negotiated = getattr(client, "_session_timeout", None) if client else None
        return negotiated / 1000 if negotiated else self._requested_timeout_s

    def add_session_listener(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def on_session_lost(self, callback: Callable[[], None]) -> None:
        self._lost.append(callback)

    def _check(self) -> None:
        state = self._state
        if state is SessionState.CONNECTED:
            return
        if state is SessionState.EXPIRED:
            raise SessionExpired("the ZooKeeper session expired")
        if state is SessionState.SUSPENDED:
            raise CoordinationConnectionLost(
                f"lost the connection to ZooKeeper ({self.quorum.connect_string}); "
                "the session may still be alive"
            )
        raise CoordinationError(f"the ZooKeeper session is {state.value}")

    def _require_client(self) -> KazooClient:
        client = self._client
        if client is None:
            self._check()
            raise CoordinationError("the ZooKeeper session is closed")
        return client

    @contextmanager
    def _calls(self) -> Iterator[KazooClient]:
        """Check the session, then turn kazoo's errors into ours."""
        self._check()
        client = self._require_client()
        try:
            yield client
        except SessionExpiredError as e:
            raise SessionExpired(f"the ZooKeeper session expired: {e!r}") from e
        except (ConnectionLoss, ConnectionClosedError, KazooTimeoutError) as e:
            if self._state is SessionState.EXPIRED:
                raise SessionExpired("the ZooKeeper session expired") from e
            raise CoordinationConnectionLost(f"ZooKeeper call failed: {e!r}") from e
        except KazooException as e:
            raise CoordinationError(f"ZooKeeper call failed: {e!r}") from e

    # -- region servers -----------------------------------------------------------------

    def _own(self, client: KazooClient, stat: Any) -> bool:
        return bool(stat.ephemeralOwner == client.client_id[0])

    def register_server(self, record: zf.ServerRecord) -> None:
        path = self._p(f"{REGION_SERVERS}/{record.server.name}")
        data = zf.encode(record)
        with self._calls() as client:
            try:
                client.create(path, data, ephemeral=True)
            except NodeExistsError:
                _, stat = client.get(path)
                if not self._own(client, stat):
                    raise CoordinationError(
                        f"region server {record.server.name} is already registered by another session"
                    ) from None
                client.set(path, data, version=stat.version)

    def update_server(self, record: zf.ServerRecord) -> None:
        path = self._p(f"{REGION_SERVERS}/{record.server.name}")
        data = zf.encode(record)
        with self._calls() as client:
            try:
                _, stat = client.get(path)
            except NoNodeError:
                stat = None
            if stat is None or not self._own(client, stat):
                raise CoordinationError(
                    f"region server {record.server.name} is not registered by this session"
                )
            client.set(path, data, version=stat.version)

    def unregister_server(self, server: zf.ServerName) -> None:
        path = self._p(f"{REGION_SERVERS}/{server.name}")
        with self._calls() as client:
            try:
                _, stat = client.get(path)
                if self._own(client, stat):
                    client.delete(path, version=stat.version)
            except NoNodeError:
                pass

    def live_servers(self) -> list[zf.ServerRecord]:
        base = self._p(REGION_SERVERS)
        out = []
        with self._calls() as client:
            for name in sorted(client.get_children(base)):
                try:
                    data, _ = client.get(f"{base}/{name}")
                except NoNodeError:
                    continue  # left between the listing and the read
                out.append(zf.decode_server(data, f"{base}/{name}"))
        return out

    def watch_servers(self, listener: ServersListener) -> Callable[[], None]:
        stopped = threading.Event()

        def on_children(children: list[str]) -> bool:
            if stopped.is_set():
                return False  # tells ChildrenWatch to stop watching
            names = []
            for child in children:
                try:
                    names.append(zf.ServerName.parse(child))
                except Exception:
                    _log.warning("ignoring a foreign znode %r under /rs", child)
            try:
                listener(sorted(names, key=lambda s: s.name))
            except Exception:
                _log.exception("server watch raised")
            return True

        with self._calls() as client:
            ChildrenWatch(client, self._p(REGION_SERVERS), on_children)
        return stopped.set

    # -- master election ----------------------------------------------------------------

    def _election(self, me: zf.MasterRecord) -> Lock:
        with self._calls() as client:
            if self._lock is None:
                self._lock = client.Lock(self._p(ELECTION), zf.encode(me).decode())
            return self._lock

    def campaign(self, me: zf.MasterRecord, timeout_s: float | None = None) -> bool:
        lock = self._election(me)
        with self._calls():
            try:
                won = bool(lock.acquire(blocking=True, timeout=timeout_s))
            except LockTimeout:
                won = False
        if won:
            self._check()  # the session may have ended while we waited
        return won

    def campaign_async(self, me: zf.MasterRecord, on_elected: Callable[[], None]) -> None:
        lock = self._election(me)

        def run() -> None:
            try:
                if self.campaign(me):
                    on_elected()
            except CoordinationError:
                pass  # the session ended before this contender won
            except Exception:
                _log.exception("master campaign failed")

        self._check()
        threading.Thread(target=run, name="hedgerow-master-campaign", daemon=True).start()
        del lock

    def is_active_master(self) -> bool:
        lock = self._lock
        return self._state is SessionState.CONNECTED and lock is not None and lock.is_acquired

    def check_active_master(self) -> None:
        self._check()
        if not self.is_active_master():
            raise NotLeader("this process is not the active master")

    def _contenders(self) -> list[zf.MasterRecord]:
        path = self._p(ELECTION)
        with self._calls() as client:
            identifiers = client.Lock(path).contenders()
        out = []
        for ident in identifiers:
            if ident:  # a contender that set no identifier is not one of ours
                out.append(zf.decode_master(ident.encode(), path))
        return out

    def active_master(self) -> zf.MasterRecord | None:
        contenders = self._contenders()
        return contenders[0] if contenders else None

    def backup_masters(self) -> list[zf.MasterRecord]:
        return self._contenders()[1:]

    def resign(self) -> None:
        lock = self._lock
        if lock is None:
            return
        with self._calls():
            if lock.is_acquired:
                lock.release()
            else:
                lock.cancel()  # a campaign() waiting in another thread returns False
        self._lock = None

    def master_epoch(self) -> int:
        lock = self._lock
        node = lock.node if lock is not None else None
        if not node or "__lock__" not in node:
            raise CoordinationError("this session is not campaigning for mastership")
        # kazoo names the node <uuid>__lock__<10-digit sequence> (docs/formats/zookeeper.md)
        return int(node.rsplit("__lock__", 1)[1])

    # -- fenced writes of the active master ---------------------------------------------

    def _fenced_write(self, path: str, data: bytes | None) -> None:
        """Create, overwrite (``data``) or delete (None) ``path`` in one transaction with a
        check that this session's election znode still exists: if it does not, this
        process is not the active master any more and nothing is written."""
        self.check_active_master()
        lock = self._lock
        assert lock is not None and lock.node is not None
        mine = f"{lock.path}/{lock.node}"
        with self._calls() as client:
            for _attempt in range(3):
                exists = client.exists(path) is not None
                if data is None and not exists:
                    return
                txn = client.transaction()
                txn.check(mine, 0)  # election znodes are never written after creation
                if data is None:
                    txn.delete(path)
                elif exists:
                    txn.set_data(path, data)
                else:
                    txn.create(path, data)
                results = txn.commit()
                first = results[0]
                if isinstance(first, Exception) and not isinstance(first, RolledBackError):
                    raise NotLeader(
                        "this process is not the active master any more "
                        f"(its election znode is gone: {first!r}); nothing was written"
                    )
                failed = [r for r in results[1:] if isinstance(r, Exception)]
                if not failed:
                    return
                if not isinstance(failed[-1], NodeExistsError | NoNodeError):
                    raise CoordinationError(f"write of {path} failed: {failed[-1]!r}")
                # raced with another writer between exists() and commit(): look again
            raise CoordinationError(f"write of {path} kept racing with another writer")

    def publish_meta_location(self, location: zf.MetaLocation) -> None:
        self._fenced_write(self._p(META_LOCATION), zf.encode(location))

    def meta_location(self) -> zf.MetaLocation | None:
        path = self._p(META_LOCATION)
        with self._calls() as client:
            try:
                data, _ = client.get(path)
            except NoNodeError:
                return None
        return zf.decode_meta_location(data, path)

    def cluster_id(self, proposed: str) -> str:
        path = self._p(CLUSTER_ID)
        data = zf.encode(zf.ClusterIdRecord(proposed))
        with self._calls() as client:
            try:
                client.create(path, data)
            except NodeExistsError:
                pass  # someone was first: theirs is the id
            stored, _ = client.get(path)
        return zf.decode_cluster_id(stored, path).cluster_id

    def state_put(self, key: str, value: bytes) -> None:
        check_state_key(key, value)
        self._fenced_write(self._p(f"{STATE}/{key}"), value)

    def state_get(self, key: str) -> bytes | None:
        check_state_key(key)
        with self._calls() as client:
            try:
                data, _ = client.get(self._p(f"{STATE}/{key}"))
            except NoNodeError:
                return None
        return bytes(data)

    def state_delete(self, key: str) -> None:
        check_state_key(key)
        self._fenced_write(self._p(f"{STATE}/{key}"), None)

    def state_keys(self) -> list[str]:
        with self._calls() as client:
            return sorted(client.get_children(self._p(STATE)))
