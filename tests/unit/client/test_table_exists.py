"""``Admin.table_exists`` (TABLE_EXISTS): the operation added as the demonstration in
docs/design/adding-an-operation.md, on every path: embedded, in-memory RPC and a
standalone server, blocking and asyncio."""

from __future__ import annotations

import asyncio
from pathlib import Path

import hedgerow
import hedgerow.aio
from hedgerow.rpc import InMemoryTransport, RpcBackend
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer


def _check(admin: hedgerow.Admin, conn: hedgerow.Connection) -> None:
    assert not admin.table_exists("t")
    conn.create_table("t", {"cf": {}})
    assert admin.table_exists("t") and admin.table_exists(b"t")
    assert admin.table_exists("hbase:meta")
    conn.disable_table("t")
    assert admin.table_exists("t")  # disabled tables exist
    conn.delete_table("t")
    assert not admin.table_exists("t")


def test_embedded(tmp_path: Path) -> None:
    with hedgerow.connect(str(tmp_path / "db")) as conn:
        _check(conn.admin(), conn)


def test_in_memory_rpc(tmp_path: Path) -> None:
    with hedgerow.connect(str(tmp_path / "db")) as embedded:
        remote = hedgerow.Connection(RpcBackend(InMemoryTransport(embedded.backend)))
        _check(remote.admin(), remote)


def test_standalone_blocking_and_asyncio(tmp_path: Path) -> None:
    server = StandaloneServer(StandaloneConfig(data=str(tmp_path / "db"), port=0, thrift_port=None))
    server.start()
    try:
        url = f"hedgerow://127.0.0.1:{server.rpc_address[1]}"
        with hedgerow.connect(url) as conn:
            _check(conn.admin(), conn)

        async def main() -> tuple[bool, bool]:
            async with hedgerow.aio.connect(url) as aconn:
                await aconn.create_table("u", {"cf": {}})
                return await aconn.admin().table_exists("u"), await aconn.admin().table_exists("v")

        assert asyncio.run(main()) == (True, False)
    finally:
        server.stop()
