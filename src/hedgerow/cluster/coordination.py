"""The ``Coordination`` protocol: the one interface masters and region servers use to find
each other, elect the active master and publish where ``hbase:meta`` is.

Role: the seam between the cluster's processes and whatever keeps the shared state.
``cluster.inprocess.InProcessCoordination`` (threads in one process: embedded and
standalone, and fast tests) and ``cluster.zookeeper.ZooKeeperCoordination`` (Apache
ZooKeeper through kazoo) implement it with the same semantics, checked by the same tests
(tests/cluster/test_contract.py). Design: docs/design/cluster.md.

Sessions. One ``Coordination`` object is one session. ``connect()`` opens it. Everything
ephemeral (a region server's registration, a master's place in the election) belongs to
the session and disappears when it ends. A session ends by ``close()`` (state CLOSED) or
by expiry (state EXPIRED: the coordination service stopped hearing from this process for
longer than the session timeout, or a test expired it). Both are terminal: every later
call raises ``SessionExpired`` (or ``CoordinationError`` after ``close()``), and the owner
must stop acting on anything the session held (a region server aborts, as HBase's do; a
master stops writing) and may start over with a new object. SUSPENDED means the
connection dropped but the session may still be alive: a master must not assume it is
still active, and ``check_active_master`` raises until the connection is back.

Callbacks (session listeners, session-lost callbacks, server watches, ``on_elected``) run
on a background thread of the implementation; they must not block (hand slow work to
another thread) and must not raise.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from hedgerow.cluster.znode_format import (
    MasterRecord,
    MetaLocation,
    ServerName,
    ServerRecord,
)
from hedgerow.errors import InvalidArgument

__all__ = [
    "CLUSTER_ID",
    "ELECTION",
    "MAX_STATE_VALUE_BYTES",
    "META_LOCATION",
    "REGION_SERVERS",
    "STATE",
    "Coordination",
    "ServersListener",
    "SessionListener",
    "SessionState",
    "check_state_key",
]

# The znode layout under the cluster's root (docs/formats/zookeeper.md).
REGION_SERVERS = "/rs"
ELECTION = "/master-election"
META_LOCATION = "/meta-region-server"
CLUSTER_ID = "/cluster-id"
STATE = "/master-state"

MAX_STATE_VALUE_BYTES = 512 * 1024  # ZooKeeper refuses znodes over 1 MiB (jute.maxbuffer)
_STATE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class SessionState(enum.Enum):
    NOT_CONNECTED = "not-connected"  # before connect()
    CONNECTED = "connected"
    SUSPENDED = "suspended"  # connection lost; the session may still be alive
    EXPIRED = "expired"  # terminal: the session ended without close()
    CLOSED = "closed"  # terminal: close() was called


SessionListener = Callable[[SessionState], None]
ServersListener = Callable[[list[ServerName]], None]


def check_state_key(key: str, value: bytes | None = None) -> None:
    """Refuse a bad key (or an oversized value) for the master's state area."""
    if not isinstance(key, str) or key in (".", "..") or not _STATE_KEY.match(key):
        raise InvalidArgument(f"bad master-state key {key!r}: 1-200 of A-Z a-z 0-9 _ . -")
    if value is not None:
        if not isinstance(value, bytes):
            raise InvalidArgument(f"master-state value must be bytes, not {type(value).__name__}")
        if len(value) > MAX_STATE_VALUE_BYTES:
            raise InvalidArgument(
                f"master-state value for {key!r} is {len(value)} bytes, over "
                f"{MAX_STATE_VALUE_BYTES}"
            )


@runtime_checkable
class Coordination(Protocol):
    """One coordination session of one process (a master or a region server)."""

    # -- the session --------------------------------------------------------------------

    def connect(self, timeout_s: float = 10.0) -> None:
        """Open the session; CoordinationConnectionLost if it cannot within ``timeout_s``."""

    def close(self) -> None:
        """End the session: its ephemeral registrations go now. Idempotent."""

    @property
    def state(self) -> SessionState: ...

    @property
    def session_timeout_s(self) -> float:
        """How long the service waits for a silent session before expiring it."""
        ...

    def add_session_listener(self, listener: SessionListener) -> None:
        """Call ``listener(state)`` on every state change from now on."""

    def on_session_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once if the session expires (not on ``close()``)."""

    # -- region servers -----------------------------------------------------------------

    def register_server(self, record: ServerRecord) -> None:
        """Register a live region server: ephemeral ``/rs/<host,port,startcode>``.

        CoordinationError if another session registered the same server name."""

    def update_server(self, record: ServerRecord) -> None:
        """Replace the load info of a server this session registered."""

    def unregister_server(self, server: ServerName) -> None:
        """Remove this session's registration of ``server`` (no error if absent)."""

    def live_servers(self) -> list[ServerRecord]:
        """Every registered region server, sorted by name."""
        ...

    def watch_servers(self, listener: ServersListener) -> Callable[[], None]:
        """Call ``listener(names)`` now and whenever a server joins or leaves; returns a
        function that stops the watch."""
        ...

    # -- master election ----------------------------------------------------------------

    def campaign(self, me: MasterRecord, timeout_s: float | None = None) -> bool:
        """Stand for active master and block until this session is active (True) or
        ``timeout_s`` passes (False; this session is then no longer a contender). While
        waiting, this session is a backup master."""
        ...

    def campaign_async(self, me: MasterRecord, on_elected: Callable[[], None]) -> None:
        """Stand for active master without blocking; ``on_elected()`` runs when it wins."""

    def is_active_master(self) -> bool:
        """True while this session holds mastership and its connection is up."""
        ...

    def check_active_master(self) -> None:
        """Raise NotLeader (or SessionExpired/CoordinationConnectionLost) unless
        ``is_active_master()``."""

    def master_epoch(self) -> int:
        """This session's place in the election queue (the election znode's sequence
        number) while it campaigns or is active: later masters have larger epochs, so
        it stamps master -> region server calls (docs/formats/rpc.md). CoordinationError
        if this session is not campaigning."""
        ...

    def active_master(self) -> MasterRecord | None:
        """The active master, or None while there is none."""
        ...

    def backup_masters(self) -> list[MasterRecord]:
        """The contenders waiting behind the active master, in takeover order."""
        ...

    def resign(self) -> None:
        """Stop being active master, or stop campaigning; the next contender takes over."""

    # -- what the active master publishes ----------------------------------------------

    def publish_meta_location(self, location: MetaLocation) -> None:
        """Record where ``hbase:meta`` is open; only the active master may (NotLeader),
        checked atomically with the write."""

    def meta_location(self) -> MetaLocation | None:
        """Where ``hbase:meta`` is open, or None before the first master published it."""
        ...

    def cluster_id(self, proposed: str) -> str:
        """The cluster's id: the stored one, or ``proposed`` stored now if there is none
        (the first caller wins a race)."""
        ...

    # -- the active master's durable key/value area (procedure state) -----------------

    def state_put(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` durably; only the active master may (NotLeader),
        checked atomically with the write."""

    def state_get(self, key: str) -> bytes | None:
        """The value under ``key``, or None."""
        ...

    def state_delete(self, key: str) -> None:
        """Delete ``key`` (no error if absent); active master only."""

    def state_keys(self) -> list[str]:
        """Every key, sorted."""
        ...
