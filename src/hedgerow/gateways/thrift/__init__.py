"""HBase Thrift1 gateway: serves HBase's ``Hbase`` Thrift service so happybase works unchanged.

Role: ``hedgerow thrift`` (cli/thrift_cmd.py) and ``hedgerow standalone`` start a
``ThriftServer`` around a ``hedgerow.Connection``. Pieces: ``hbase.thrift`` (the
IDL, package data), ``idl`` (loads it), ``convert`` (struct conversions and error
mapping), ``scanners`` (scanner ids and leases), ``handler`` (one method per IDL
method), ``server`` (sockets, transports, protocols, threads).
Design and method-by-method mapping: docs/design/thrift-gateway.md.

>>> import hedgerow, tempfile
>>> from hedgerow.gateways.thrift import ThriftServer
>>> conn = hedgerow.connect(tempfile.mkdtemp())
>>> srv = ThriftServer(conn, host="127.0.0.1", port=0).start()
>>> srv.address[1] > 0
True
>>> srv.stop(); conn.close()
"""

from __future__ import annotations

from hedgerow.gateways.thrift.handler import HbaseHandler
from hedgerow.gateways.thrift.idl import load_idl
from hedgerow.gateways.thrift.server import ThriftServer

__all__ = ["HbaseHandler", "ThriftServer", "load_idl"]
