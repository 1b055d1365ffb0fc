"""The asyncio client (hedgerow.aio): what only asyncio has, over the network (an in-process
StandaloneServer) and over an embedded directory (worker threads).

The blocking API's behaviour, method by method, is checked for the asyncio client too by
tests/contract/ (kinds ``asyncio-embedded`` and ``asyncio-standalone``, through a small
blocking adapter); this file keeps concurrency on one connection, scanner lifetimes, a
closed connection, a server that goes away or never answers, and connect()'s arguments."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import ClosedError, HedgerowError, InvalidArgument
from hedgerow.rpc.codes import ConnectionLost, DeadlineExceeded
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

Body = Callable[[hedgerow.aio.AsyncConnection], Awaitable[None]]


class Where:
    """Where a test's store lives: a URL of a running server, or a directory."""

    def __init__(self, target: str, server: StandaloneServer | None) -> None:
        self.target = target
        self.server = server

    def run(self, body: Body, **options: Any) -> None:
        async def main() -> None:
            async with hedgerow.aio.connect(self.target, **options) as conn:
                await body(conn)

        asyncio.run(main())

    def open_scanners(self) -> int:
        assert self.server is not None
        return int(self.server._rpc.dispatcher.open_scanners)


@pytest.fixture(params=["remote", "embedded"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Where]:
    if request.param == "embedded":
        yield Where(str(tmp_path / "data"), None)
        return
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "srv"), port=0, thrift_port=None))
    srv.start()
    try:
        yield Where(f"hedgerow://127.0.0.1:{srv.rpc_address[1]}", srv)
    finally:
        srv.stop()


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Where]:
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "srv"), port=0, thrift_port=None))
    srv.start()
    try:
        yield Where(f"hedgerow://127.0.0.1:{srv.rpc_address[1]}", srv)
    finally:
        srv.stop()


# ---- lifecycle --------------------------------------------------------------------------------


def test_closed_connection() -> None:
    async def main(tmp: str) -> None:
        conn = hedgerow.aio.connect(tmp)
        await conn.close()
        await conn.close()  # idempotent
        with pytest.raises(ClosedError):
            await conn.tables()
        with pytest.raises(ClosedError):
            conn.table("t")

    import tempfile

    with tempfile.TemporaryDirectory() as d:
        asyncio.run(main(d))


# ---- concurrency and scanners ------------------------------------------------------------


def test_many_concurrent_coroutines_on_one_connection(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        await asyncio.gather(*(t.put(f"r{i:03d}", {b"cf:v": str(i).encode()}) for i in range(200)))
        got = await asyncio.gather(*(t.row(f"r{i:03d}") for i in range(200)))
        assert got == [{b"cf:v": str(i).encode()} for i in range(200)]
        incs = await asyncio.gather(*(t.counter_inc(b"n", b"cf:c") for _ in range(50)))
        assert sorted(incs) == list(range(1, 51))
        keys = [f"r{i:03d}".encode() for i in range(200)]
        assert [k for k, _ in await t.rows(keys)] == keys
        assert len([k async for k, _ in t.scan()]) == 201

    where.run(body)


def test_scanner_closed_when_exhausted_closed_or_abandoned(remote: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        await asyncio.gather(*(t.put(f"r{i:03d}", {b"cf:v": b"x"}) for i in range(350)))
        assert len([k async for k, _ in t.scan()]) == 350  # several batches
        assert remote.open_scanners() == 0

        s = t.scan()
        assert (await s.__anext__())[0] == b"r000"
        assert remote.open_scanners() == 1
        await s.aclose()
        assert remote.open_scanners() == 0
        with pytest.raises(StopAsyncIteration):
            await s.__anext__()

        async with t.scan(row_start=b"r100") as s2:
            async for k, _ in s2:
                assert k == b"r100"
                break
        assert remote.open_scanners() == 0

        assert len([k async for k, _ in t.scan(limit=150)]) == 150  # limit closes it
        assert remote.open_scanners() == 0

        s3 = t.scan()
        await s3.__anext__()
        assert remote.open_scanners() == 1
        del s3
        gc.collect()
        for _ in range(100):  # the notice goes out on the loop; the server drops it
            await asyncio.sleep(0.01)
            if remote.open_scanners() == 0:
                break
        assert remote.open_scanners() == 0

    remote.run(body)


def test_embedded_scan_closed_early(tmp_path: Path) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        async with t.batch() as b:
            for i in range(250):
                await b.put(f"r{i:03d}", {b"cf:v": b"x"})
        s = t.scan()
        assert (await s.__anext__())[0] == b"r000"
        await s.aclose()
        assert [k async for k, _ in t.scan(row_start=b"r248")] == [b"r248", b"r249"]

    Where(str(tmp_path / "d"), None).run(body)


# ---- a server that goes away -------------------------------------------------------------


def test_server_gone_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "srv"), port=0, thrift_port=None))
    srv.start()
    url = f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"

    async def main() -> None:
        conn = hedgerow.aio.connect(url, timeout_s=1.0, connect_timeout_s=0.5)
        await conn.create_table("t", {"cf": {}})
        await conn.table("t").put(b"r", {b"cf:a": b"1"})
        srv.stop()
        t0 = time.monotonic()
        with pytest.raises((ConnectionLost, DeadlineExceeded)) as info:
            await conn.table("t").row(b"r")
        assert time.monotonic() - t0 < 3.0
        assert isinstance(info.value, HedgerowError)
        with pytest.raises((ConnectionLost, DeadlineExceeded)):
            await conn.table("t").row(b"r")  # reconnecting fails as clearly
        await conn.close()

    try:
        asyncio.run(main())
    finally:
        srv.stop()


def test_server_that_never_answers_hits_the_deadline() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    async def main() -> None:
        conn = hedgerow.aio.connect(f"hedgerow://127.0.0.1:{port}", timeout_s=0.5)
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await conn.tables()
        assert time.monotonic() - t0 < 2.5
        await conn.close()

    try:
        asyncio.run(main())
    finally:
        listener.close()


def test_connect_arguments() -> None:
    with pytest.raises(InvalidArgument, match="unknown option"):
        hedgerow.aio.connect("hedgerow://127.0.0.1:1", bogus=1)
    with pytest.raises(InvalidArgument, match="HOST:PORT"):
        hedgerow.aio.connect("hedgerow://")
