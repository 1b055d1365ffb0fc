"""The client's connections to many servers: one transport per server address.

Role: an RPC backend (rpc/client.py, rpc/aio_client.py) sends each data call to
the server its region's location names (``TableLocations.servers``, from the
REGIONS answer, "host:port").  ``ServerPool`` maps such an address to a
transport, opening it on first use with the settings of the *bootstrap*
transport (the address the user connected to; later the active master found
through ZooKeeper), which also answers table/admin calls and location lookups.
Invariants: ``transport_for(None)``, an empty or unparseable address, and the
bootstrap's own address give the bootstrap transport; a wildcard host
("0.0.0.0", "::") means "the host the bootstrap was reached at".  A transport
whose server could not be reached or whose connection broke is ``drop``-ped: the
next call to that address opens a fresh one.  Dropped transports are closed with
the pool (not at once: another thread may be reconnecting through it).  The
bootstrap transport is never dropped (it reconnects by itself).
Concurrency: thread-safe (one lock around the map); an asyncio backend uses it
from its loop only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["ServerPool", "parse_address"]

T = TypeVar("T")

#: hosts a server may advertise when bound to every interface: reach it where the
#: bootstrap was reached instead
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


def parse_address(address: str | None) -> tuple[str, int] | None:
    """``"host:port"`` (IPv6 as ``"[::1]:port"``) as ``(host, port)``; None when it names no
    reachable server (None, "", the embedded ``"local"``, a port of 0 or a malformed one).

    >>> parse_address("127.0.0.1:16020"), parse_address("[::1]:9"), parse_address("local:0")
    (('127.0.0.1', 16020), ('::1', 9), None)
    """
    if not address:
        return None
    host, sep, port_s = address.rpartition(":")
    if not sep or not port_s.isdigit():
        return None
    port = int(port_s)
    if not 0 < port < 65536:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


class ServerPool(Generic[T]):
    """Transports by server address, opened lazily like the bootstrap one.

    ``factory(host, port)`` opens a transport; by default one of the bootstrap's own
    class with its settings (timeouts, frame and answer limits, clock). A bootstrap
    without ``host``/``port`` (``InMemoryTransport``) serves every address itself.
    ``opened`` counts transports opened (tests and stats).
    """

    def __init__(self, bootstrap: T, factory: Callable[[str, int], T] | None = None) -> None:
        self.bootstrap = bootstrap
        b: Any = bootstrap
        host = getattr(b, "host", None)
        port = getattr(b, "port", None)
        self._home: tuple[str, int] | None = (
            (str(host), int(port)) if host is not None and port is not None else None
        )
        if factory is None and self._home is not None:
            # a bootstrap that is not a plain transport (rpc/failover.py) says how to
            # open one to a region server
            factory = getattr(b, "peer_factory", None) or _same_settings(bootstrap)
        self._factory = factory
        self._lock = threading.Lock()
        self._by_address: dict[tuple[str, int], T] = {}  # guarded by self._lock
        self._retired: list[T] = []  # guarded by self._lock
        self._closed = False
        self.opened = 0

    def _key(self, address: str | None) -> tuple[str, int] | None:
        """The (host, port) to reach ``address`` at; None for the bootstrap."""
        hp = parse_address(address)
        if hp is None or self._home is None or self._factory is None:
            return None
        host, port = hp
        if host in _WILDCARD_HOSTS:
            host = self._home[0]
        if (host, port) == self._home:
            return None
        return host, port

    def is_bootstrap(self, address: str | None) -> bool:
        return self._key(address) is None

    def transport_for(self, address: str | None) -> T:
        """The transport to the server at ``address`` (opened now if new)."""
        key = self._key(address)
        if key is None:
            return self.bootstrap
        with self._lock:
            t = self._by_address.get(key)
            if t is None:
                if self._closed:
                    return self.bootstrap  # its own ClosedError tells the caller
                assert self._factory is not None
                t = self._factory(*key)
                self._by_address[key] = t
                self.opened += 1
            return t

    def open_transport(self, address: str | None) -> T | None:
        """The transport to ``address`` if one is open, without opening one (finalizers)."""
        key = self._key(address)
        if key is None:
            return self.bootstrap
        with self._lock:
            return self._by_address.get(key)

    def drop(self, address: str | None, transport: T | None = None) -> None:
        """Forget the transport to ``address`` (its server went away); the next call opens
        a new one. With ``transport``: only if that is still the one in the map."""
        key = self._key(address)
        if key is None:
            return
        with self._lock:
            t = self._by_address.get(key)
            if t is None or (transport is not None and t is not transport):
                return
            del self._by_address[key]
            self._retired.append(t)

    def addresses(self) -> list[str]:
        """The addresses with an open transport (besides the bootstrap)."""
        with self._lock:
            return [f"{h}:{p}" for h, p in self._by_address]

    def take_all(self) -> list[T]:
        """Every transport but the bootstrap, removed from the pool (to close them): the
        pool opens no more."""
        with self._lock:
            self._closed = True
            out = [*self._by_address.values(), *self._retired]
            self._by_address.clear()
            self._retired.clear()
        return out


def _same_settings(bootstrap: Any) -> Callable[[str, int], Any]:
    """A factory of transports of the bootstrap's class with its settings."""
    cls = type(bootstrap)
    settings: dict[str, Any] = {}
    for name in ("timeout_s", "connect_timeout_s", "max_frame_bytes", "max_answer_bytes", "clock"):
        if hasattr(bootstrap, name):
            settings[name] = getattr(bootstrap, name)

    def open_transport(host: str, port: int) -> Any:
        return cls(host, port, **settings)

    return open_transport
