"""The Thrift gateway fronting a server (``hedgerow thrift --connect hedgerow://...``)."""

from __future__ import annotations

from pathlib import Path

import happybase

import hedgerow
from hedgerow.gateways.thrift import ThriftServer
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer


def test_happybase_through_a_gateway_that_fronts_a_server(tmp_path: Path) -> None:
    server = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    server.start()
    url = f"hedgerow://127.0.0.1:{server.rpc_address[1]}"
    remote = hedgerow.connect(url)
    gateway = ThriftServer(remote, port=0).start()
    try:
        hb = happybase.Connection("127.0.0.1", gateway.address[1])
        hb.create_table("h", {"cf": {"max_versions": 3}})
        t = hb.table("h")
        t.put(b"r1", {b"cf:a": b"1"})
        t.put(b"r2", {b"cf:a": b"2"})
        assert t.counter_inc(b"c", b"cf:n", 5) == 5
        assert [k for k, _ in t.scan(filter="PrefixFilter('r')")] == [b"r1", b"r2"]
        hb.close()
        # what happybase wrote is in the server, seen by a direct client
        direct = hedgerow.connect(url)
        assert direct.table("h").row(b"r2") == {b"cf:a": b"2"}
        assert direct.table("h").families()[b"cf"]["max_versions"] == 3
        direct.close()
    finally:
        gateway.stop()
        remote.close()
        server.stop()
