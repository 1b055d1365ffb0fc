"""Hedgerow: an HBase/Bigtable-class wide-column store in Python.

>>> import hedgerow, tempfile
>>> conn = hedgerow.connect(tempfile.mkdtemp())
>>> conn.create_table("t", {"cf": {"max_versions": 3}})
>>> t = conn.table("t")
>>> t.put(b"row1", {b"cf:a": b"1"})
>>> t.row(b"row1")
{b'cf:a': b'1'}
>>> conn.close()

The asyncio flavour, with the same methods as coroutines, is ``hedgerow.aio``
(``hedgerow.aio.connect(...)`` gives an ``AsyncConnection``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hedgerow.client import Admin, Batch, Connection, Table
from hedgerow.errors import (
    CellTooLarge,
    ClosedError,
    CorruptionError,
    DirectoryLocked,
    FamilyNotFound,
    FilterSyntaxError,
    FormatVersionError,
    HedgerowError,
    InvalidArgument,
    KeyTooLarge,
    NotACounter,
    ReservedName,
    StorageError,
    TableDisabled,
    TableEnabled,
    TableError,
    TableExists,
    TableNotFound,
)
from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.durability import Durability

__version__ = "0.1.0"

__all__ = [
    "Admin",
    "Batch",
    "Cell",
    "CellTooLarge",
    "ClosedError",
    "Connection",
    "CorruptionError",
    "DirectoryLocked",
    "Durability",
    "FamilyNotFound",
    "FilterSyntaxError",
    "FormatVersionError",
    "HedgerowError",
    "InvalidArgument",
    "KeyTooLarge",
    "KeyType",
    "NotACounter",
    "ReservedName",
    "StorageError",
    "Table",
    "TableDisabled",
    "TableEnabled",
    "TableError",
    "TableExists",
    "TableNotFound",
    "__version__",
    "connect",
]


def connect(
    path: str,
    *,
    table_prefix: str | None = None,
    table_prefix_separator: str = "_",
    clock: Any = None,
    **options: Any,
) -> Connection:
    """Open a Hedgerow store and return a ``Connection``.

    ``path`` is a data directory (created if missing) for the embedded engine.
    ``options`` override engine settings (see ``hedgerow.engine.DEFAULTS``), e.g.
    ``flush_size_bytes=64 << 20`` or ``background=False``. A second process opening
    the same directory gets ``DirectoryLocked``.

    ``"hedgerow+zk://ZK1:PORT,ZK2:PORT/ROOT"`` finds a cluster's active master in
    ZooKeeper and connects to it as ``hedgerow://`` does; when that master goes away or
    answers NOT_LEADER, admin and location calls look the active master up again and
    are retried within their deadline (docs/design/cluster.md#the-client-path).
    ``"hedgerow://HOST:PORT"`` connects to a server instead (any other
    ``scheme://`` raises ``InvalidArgument`` and creates nothing); its options are
    ``timeout_s`` (a call's deadline, also enforced by the server),
    ``connect_timeout_s``, ``max_frame_bytes`` and ``max_answer_bytes`` (the largest
    answer the client reassembles, 256 MiB by default: docs/formats/rpc.md).
    """
    if not isinstance(path, str):
        import os

        path = os.fspath(path)
    from hedgerow.client.url import is_server_url

    if path[:14].lower() == "hedgerow+zk://":
        return _connect_cluster(path, table_prefix, table_prefix_separator, options)
    if is_server_url(path):  # InvalidArgument for another scheme: nothing is created
        return _connect_remote(path, table_prefix, table_prefix_separator, options)
    from hedgerow.engine import Engine, EngineConfig

    engine = Engine(path, EngineConfig.from_options(options), clock=clock)
    return Connection(
        engine,
        table_prefix=table_prefix,
        table_prefix_separator=table_prefix_separator,
    )


def _connect_remote(
    url: str, table_prefix: str | None, separator: str, options: dict[str, Any]
) -> Connection:
    """``hedgerow://host:port`` -> a Connection over the RPC protocol."""
    from hedgerow.rpc import RpcBackend, SocketTransport

    host, port = _remote_address(url, options)
    transport = SocketTransport(host, port, **options)
    return Connection(
        RpcBackend(transport),
        table_prefix=table_prefix,
        table_prefix_separator=separator,
    )


def _connect_cluster(
    url: str, table_prefix: str | None, separator: str, options: dict[str, Any]
) -> Connection:
    """``hedgerow+zk://...`` -> a Connection whose admin and location calls follow the
    active master through ZooKeeper (``rpc.failover.FailoverTransport``)."""
    from hedgerow.rpc import RpcBackend
    from hedgerow.rpc.failover import FailoverTransport

    resolve = _master_resolver(url, options)
    first = resolve()
    _remote_address(f"hedgerow://{first[0]}:{first[1]}", options)  # checks the options
    transport = FailoverTransport(resolve, first, **options)
    return Connection(
        RpcBackend(transport), table_prefix=table_prefix, table_prefix_separator=separator
    )


def _master_resolver(url: str, options: dict[str, Any]) -> Callable[[], tuple[str, int]]:
    """A function that reads a ``hedgerow+zk://`` cluster's active master from ZooKeeper
    (one short session per call); the URL is checked now."""
    from hedgerow.cluster.quorum import parse_url

    parse_url(url)
    return lambda: _active_master(url, options)


def _active_master(url: str, options: dict[str, Any]) -> tuple[str, int]:
    """``hedgerow+zk://host:port,.../root`` -> the active master's RPC address, read once
    from ZooKeeper (docs/design/cluster.md#the-client-path)."""
    from hedgerow.cluster.quorum import parse_url
    from hedgerow.cluster.zookeeper import ZooKeeperCoordination
    from hedgerow.errors import CoordinationError

    quorum = parse_url(url)
    coord = ZooKeeperCoordination(quorum)
    try:
        coord.connect(timeout_s=float(options.get("connect_timeout_s", 10.0)))
        master = coord.active_master()
    finally:
        coord.close()
    if master is None:
        raise CoordinationError(f"no active master in {quorum}: is the cluster up?")
    return master.server.host, master.server.port


def _remote_address(url: str, options: dict[str, Any]) -> tuple[str, int]:
    """Check a ``hedgerow://HOST:PORT`` URL and the options a network connection takes."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname or parts.path not in ("", "/"):
        raise InvalidArgument(f"expected hedgerow://HOST:PORT, got {url!r}")
    # the transport's bounds: a frame, and an answer received in pieces (rpc.md)
    known = {"timeout_s", "connect_timeout_s", "max_frame_bytes", "max_answer_bytes"}
    unknown = set(options) - known
    if unknown:
        raise InvalidArgument(
            f"unknown option(s) {', '.join(sorted(unknown))} for a network connection; "
            f"known: {', '.join(sorted(known))}"
        )
    try:
        port = parts.port or 16000
    except ValueError:
        raise InvalidArgument(f"bad port in {url!r}") from None
    return parts.hostname, port
