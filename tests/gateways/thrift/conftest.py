"""Fixtures for the Thrift gateway tests: an in-process gateway on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import hedgerow
from hedgerow.gateways.thrift import ThriftServer, load_idl


class Gateway:
    """A running gateway plus the embedded connection behind it."""

    def __init__(self, conn: hedgerow.Connection, server: ThriftServer) -> None:
        self.conn = conn
        self.server = server
        self.port = server.address[1]
        self.clients: list[Any] = []

    def client(self) -> Any:
        """A thriftpy2 client speaking this gateway's transport and protocol."""
        from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
        from thriftpy2.rpc import make_client
        from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

        proto = (
            TCompactProtocolFactory(decode_response=False)
            if self.server.compact
            else TBinaryProtocolFactory(decode_response=False)
        )
        trans = TFramedTransportFactory() if self.server.framed else TBufferedTransportFactory()
        c = make_client(
            load_idl().Hbase,
            "127.0.0.1",
            self.port,
            proto_factory=proto,
            trans_factory=trans,
            timeout=None,
        )
        self.clients.append(c)
        return c


@pytest.fixture
def make_gateway(tmp_path: Any) -> Iterator[Any]:
    made: list[Gateway] = []

    def make(**kw: Any) -> Gateway:
        conn = hedgerow.connect(str(tmp_path / f"data{len(made)}"))
        server = ThriftServer(conn, host="127.0.0.1", port=0, **kw).start()
        gw = Gateway(conn, server)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        for c in gw.clients:
            c.close()
        gw.server.stop()
        gw.conn.close()


@pytest.fixture(
    params=[(False, False), (True, True), (False, True)],
    ids=["buffered-binary", "framed-compact", "buffered-compact"],
)
def gw(request: Any, make_gateway: Any) -> Gateway:
    framed, compact = request.param
    return make_gateway(framed=framed, compact=compact)  # type: ignore[no-any-return]


@pytest.fixture
def T() -> Any:
    """The IDL's types (TScan, Mutation, IOError, ...)."""
    return load_idl()
