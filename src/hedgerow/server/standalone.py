"""``hedgerow standalone``: one process serving a data directory to the network.

Role: opens the engine on a data directory -- its master (catalog,
``hbase:meta``, DDL and region procedures, assignment) and its region server
(WAL, regions, flushes and compactions) -- and serves it over the internal RPC
protocol (what ``hedgerow.connect("hedgerow://host:port")`` speaks) and over
HBase's Thrift1 API (happybase), and shuts down cleanly (flush, close the WAL).
Once the RPC port is bound, the master records "host:port" in ``hbase:meta``
as the server of every open region; clients read it with the region list,
address each request to its region, and look again when a region split or
moved (RFC 0001, docs/design/server.md).
Concurrency: the RPC server runs an asyncio loop on its own thread and calls
the engine from a worker pool; the Thrift gateway runs its own threads; the
engine is thread-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hedgerow.client.connection import Connection
from hedgerow.engine import Engine, EngineConfig

__all__ = ["StandaloneConfig", "StandaloneServer"]

log = logging.getLogger("hedgerow.standalone")


@dataclass(frozen=True)
class StandaloneConfig:
    data: str
    host: str = "127.0.0.1"
    #: RPC port for hedgerow:// clients (HBase's master port is 16000)
    port: int = 16000
    #: Thrift1 gateway port; None disables it
    thrift_port: int | None = 9090
    #: Thrift gateway limits by name (hedgerow.gateways.thrift.server.DEFAULTS), e.g.
    #: {"max_connections": 1000}; the gateway's defaults for the others
    thrift_options: Mapping[str, Any] = field(default_factory=dict)
    thrift_framed: bool = False
    thrift_compact: bool = False
    scanner_lease_s: float = 60.0
    #: RPC limits per connection (docs/design/server.md#limits-and-backpressure)
    rpc_max_in_flight: int = 128
    rpc_max_queued_response_bytes: int = 8 * 1024 * 1024


class StandaloneServer:
    """Engine + RPC server + Thrift gateway. ``start()``, then ``stop()``.

    >>> import tempfile
    >>> srv = StandaloneServer(StandaloneConfig(tempfile.mkdtemp(), port=0, thrift_port=0))
    >>> lines = srv.start()
    >>> import hedgerow
    >>> conn = hedgerow.connect(f"hedgerow://127.0.0.1:{srv.rpc_address[1]}")
    >>> conn.create_table("t", {"cf": {}}); conn.table("t").put(b"r", {b"cf:a": b"1"})
    >>> conn.table("t").row(b"r")
    {b'cf:a': b'1'}
    >>> conn.close(); srv.stop()
    """

    def __init__(
        self, config: StandaloneConfig, engine_options: dict[str, Any] | None = None
    ) -> None:
        self.config = config
        self._engine_options = dict(engine_options or {})
        self.engine: Engine | None = None
        self._rpc: Any = None
        self._thrift: Any = None
        self.rpc_address: tuple[str, int] = (config.host, config.port)
        self.thrift_address: tuple[str, int] | None = None

    def start(self) -> list[str]:
        """Open the store and start listening; returns one line per listener."""
        from hedgerow.rpc import RpcServer

        cfg = self.config
        # compactions run in a worker process: requests never wait for their merge loop
        options = {"compaction_processes": 1, **self._engine_options}
        self.engine = Engine(cfg.data, EngineConfig.from_options(options))
        lines = [f"data directory {cfg.data} (master and region server)"]
        try:
            self._rpc = RpcServer(
                self.engine,
                host=cfg.host,
                port=cfg.port,
                lease_s=cfg.scanner_lease_s,
                max_in_flight=cfg.rpc_max_in_flight,
                max_queued_response_bytes=cfg.rpc_max_queued_response_bytes,
            )
            self.rpc_address = self._rpc.start_in_thread()
            h, p = self.rpc_address
            self.engine.set_server_name(f"{h}:{p}")
            lines.append(f"Hedgerow RPC on {h}:{p} (hedgerow.connect('hedgerow://{h}:{p}'))")
            if cfg.thrift_port is not None:
                from hedgerow.gateways.thrift import ThriftServer

                self._thrift = ThriftServer(
                    Connection(self.engine),
                    host=cfg.host,
                    port=cfg.thrift_port,
                    framed=cfg.thrift_framed,
                    compact=cfg.thrift_compact,
                    **{"scanner_lease_s": cfg.scanner_lease_s, **cfg.thrift_options},
                ).start()
                self.thrift_address = self._thrift.address
                lines.append(self._thrift.describe())
        except BaseException:
            self.stop()
            raise
        return lines

    def stop(self) -> None:
        """Stop listening, then flush and close the store (idempotent)."""
        if self._thrift is not None:
            self._thrift.stop()
            self._thrift = None
        if self._rpc is not None:
            self._rpc.stop()
            self._rpc = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None
