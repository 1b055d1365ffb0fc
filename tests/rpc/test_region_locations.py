"""RFC 0001: REGIONS names each region's hosting server, and ``Table.regions()`` reports
it the same way for embedded and remote connections, blocking and asyncio (happybase's
region dict: numeric ``id``, ``server_name``/``port`` from "host:port", b"local"/0
embedded, b""/0 while the table is disabled)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import hedgerow
import hedgerow.aio
from hedgerow.client.table import region_dicts
from hedgerow.rpc import InMemoryTransport, RpcBackend
from hedgerow.rpc import messages as m
from hedgerow.rpc.aio_client import AsyncRpcBackend
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.server.standalone import StandaloneServer

from ._routing import url_of


def _regions_aio(url_or_path: str) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        conn = hedgerow.aio.connect(url_or_path)
        try:
            return await conn.table("t").regions()
        finally:
            await conn.close()

    return asyncio.run(main())


def test_embedded_and_rpc_connections_report_the_same_regions(tmp_path: Path) -> None:
    embedded = hedgerow.connect(str(tmp_path / "db"))
    remote = hedgerow.Connection(RpcBackend(InMemoryTransport(embedded.backend)))
    embedded.create_table("t", {"cf": {}}, split_keys=[b"m"])
    embedded.admin().split("t", b"t")
    got = remote.table("t").regions()
    assert got == embedded.table("t").regions()
    assert [(r["start_key"], r["end_key"]) for r in got] == [
        (b"", b"m"),
        (b"m", b"t"),
        (b"t", b""),
    ]
    assert {(r["server_name"], r["port"], r["version"]) for r in got} == {(b"local", 0, 1)}
    assert [r["id"] for r in got] == [int(r["name"].rsplit(b",", 1)[1]) for r in got]
    remote.close()
    embedded.close()


def test_standalone_regions_name_host_and_port_everywhere(standalone: StandaloneServer) -> None:
    url = url_of(standalone)
    host, port = standalone.rpc_address[0], standalone.rpc_address[1]
    conn = hedgerow.connect(url)
    conn.create_table("t", {"cf": {}}, split_keys=[b"g", b"p"])
    b = conn.backend
    assert isinstance(b, RpcBackend)
    assert [r.server for r in b.call(Ops.regions, "t")] == [f"{host}:{port}"] * 3
    got = conn.table("t").regions()
    # the same dicts as the server's own (embedded) view of its engine
    assert standalone.engine is not None
    assert got == hedgerow.Connection(standalone.engine).table("t").regions()
    assert got == _regions_aio(url)
    assert {(r["server_name"], r["port"]) for r in got} == {(host.encode(), port)}
    assert sorted({r["id"] for r in got}) == [r["id"] for r in got]  # numbers, key order

    conn.disable_table("t")  # closed regions have no server until enabled again
    assert {(r["server_name"], r["port"]) for r in conn.table("t").regions()} == {(b"", 0)}
    conn.enable_table("t")
    assert conn.table("t").regions() == got
    conn.close()


def test_asyncio_regions_refresh_the_location_cache(standalone: StandaloneServer) -> None:
    url = url_of(standalone)
    conn = hedgerow.connect(url)
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    conn.close()

    async def main() -> None:
        aconn = hedgerow.aio.connect(url)
        b = aconn.backend
        assert isinstance(b, AsyncRpcBackend)
        regions = await aconn.table("t").regions()
        loc = b.locator.cached("t")
        assert loc is not None and [int(n) for n in loc.names] == [r["id"] for r in regions]
        assert loc.servers == [f"127.0.0.1:{standalone.rpc_address[1]}"] * 2
        await aconn.close()

    asyncio.run(main())


def test_a_version_one_regions_answer_has_no_server() -> None:
    old = m.RegionsResponse.from_wire([["t", "0000000001", b"", b""]])
    ((info, server),) = [(r, r.server or "") for r in old.regions]
    assert info.server is None and server == ""
    (d,) = region_dicts("t", [(info, server)])
    assert (d["server_name"], d["port"], d["id"]) == (b"", 0, 1)
