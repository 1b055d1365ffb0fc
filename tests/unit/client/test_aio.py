"""The asyncio client (hedgerow.aio): the blocking API's methods as coroutines, over the
network (an in-process StandaloneServer) and over an embedded directory (worker threads)."""

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
from hedgerow.errors import (
    ClosedError,
    FamilyNotFound,
    FilterSyntaxError,
    HedgerowError,
    InvalidArgument,
    NotACounter,
    TableEnabled,
    TableExists,
    TableNotFound,
)
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


# ---- reading and writing -------------------------------------------------------------------


def test_put_row_rows_cells(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {"max_versions": 3}, "g": {}})
        t = conn.table("t")
        await t.put(b"r1", {b"cf:a": b"1", b"g:x": b"x"}, timestamp=10)
        await t.put("r1", {"cf:a": "2"}, timestamp=20)
        await t.put(b"r2", {b"cf:b": b"b"})
        assert await t.row(b"r1") == {b"cf:a": b"2", b"g:x": b"x"}
        assert await t.row(b"r1", columns=[b"g"]) == {b"g:x": b"x"}
        assert await t.row(b"r1", timestamp=15) == {b"cf:a": b"1", b"g:x": b"x"}
        assert await t.row(b"r1", columns=[b"cf:a"], include_timestamp=True) == {
            b"cf:a": (b"2", 20)
        }
        assert await t.row(b"nope") == {}
        assert await t.rows([b"r2", b"nope", b"r1"], columns=[b"cf"]) == [
            (b"r2", {b"cf:b": b"b"}),
            (b"r1", {b"cf:a": b"2"}),
        ]
        assert await t.cells(b"r1", b"cf:a") == [b"2", b"1"]
        assert await t.cells(b"r1", b"cf:a", versions=1, include_timestamp=True) == [(b"2", 20)]
        assert await t.row(b"r1", filter="ValueFilter(=, 'binary:x')") == {b"g:x": b"x"}
        fams = await t.families()
        assert sorted(fams) == [b"cf", b"g"] and fams[b"cf"]["max_versions"] == 3
        assert [r["start_key"] for r in await t.regions()] == [b""]

    where.run(body)


def test_scan_shapes(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {"max_versions": 3}}, split_keys=[b"k05"])
        t = conn.table("t")
        for i in range(10):
            await t.put(f"k{i:02d}", {b"cf:a": str(i).encode(), b"cf:b": b"b"})
        keys = [k async for k, _ in t.scan()]
        assert keys == [f"k{i:02d}".encode() for i in range(10)]
        assert [k async for k, _ in t.scan(row_start=b"k03", row_stop=b"k06")] == [
            b"k03",
            b"k04",
            b"k05",
        ]
        assert [k async for k, _ in t.scan(reverse=True, limit=3)] == [b"k09", b"k08", b"k07"]
        assert [k async for k, _ in t.scan(row_prefix=b"k0", reverse=True, limit=2)] == [
            b"k09",
            b"k08",
        ]
        got = [(k, d) async for k, d in t.scan(filter="ValueFilter(=, 'binary:7')")]
        assert got == [(b"k07", {b"cf:a": b"7"})]
        chunks = [d async for _, d in t.scan(row_start=b"k01", limit=2, scan_batching=1)]
        assert chunks == [{b"cf:a": b"1"}, {b"cf:b": b"b"}, {b"cf:a": b"2"}, {b"cf:b": b"b"}]
        cells = [d async for _, d in t.scan(row_prefix=b"k09", max_versions=2)]
        assert [[c.qualifier for c in cs] for cs in cells] == [[b"a", b"b"]]  # type: ignore[union-attr]
        assert [d async for _, d in t.scan(row_prefix=b"k02", include_timestamp=True)][0][b"cf:a"][
            0
        ] == b"2"

    where.run(body)


def test_batch_delete_and_mutations(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {"max_versions": 3}})
        t = conn.table("t")
        async with t.batch() as b:
            for i in range(5):
                await b.put(f"r{i}", {b"cf:a": b"v"})
            await b.delete(b"r4")
        assert [k async for k, _ in t.scan()] == [b"r0", b"r1", b"r2", b"r3"]
        b2 = t.batch(batch_size=2)
        await b2.put(b"s1", {b"cf:a": b"1"})
        await b2.put(b"s2", {b"cf:a": b"2"})  # sent: batch_size reached
        assert await t.row(b"s2") == {b"cf:a": b"2"}
        with pytest.raises(RuntimeError):
            async with t.batch(transaction=True) as b3:
                await b3.put(b"gone", {b"cf:a": b"1"})
                raise RuntimeError("abort")
        assert await t.row(b"gone") == {}
        with pytest.raises(InvalidArgument):
            t.batch(batch_size=2, transaction=True)

        await t.delete(b"r0")
        await t.delete(b"r1", columns=[b"cf:a"])
        assert await t.rows([b"r0", b"r1", b"r2"]) == [(b"r2", {b"cf:a": b"v"})]
        await t.put(b"v", {b"cf:a": b"1"}, timestamp=1)
        await t.put(b"v", {b"cf:a": b"2"}, timestamp=2)
        await t.delete_cell(b"v", b"cf:a")
        assert await t.cells(b"v", b"cf:a") == [b"1"]
        await t.mutate_row(b"v", put={b"cf:b": b"b"}, delete=[b"cf:a"], timestamp=5)
        assert await t.row(b"v") == {b"cf:b": b"b"}
        await t.delete_family_version(b"v", b"cf", 5)
        assert await t.row(b"v") == {}

    where.run(body)


def test_increment_append_check_and_mutate_counters(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        assert await t.increment(b"c", {b"cf:n": 5, b"cf:m": 1}) == {b"cf:n": 5, b"cf:m": 1}
        assert await t.increment(b"c", {}) == {}
        assert await t.counter_inc(b"c", b"cf:n") == 6
        assert await t.counter_dec(b"c", b"cf:n", 10) == -4
        assert await t.counter_get(b"c", b"cf:n") == -4
        assert await t.counter_get(b"c", b"cf:absent") == 0
        await t.counter_set(b"c", b"cf:n", 42)
        assert await t.counter_get(b"c", b"cf:n") == 42
        await t.put(b"c", {b"cf:s": b"abc"})
        with pytest.raises(NotACounter):
            await t.counter_get(b"c", b"cf:s")
        assert await t.append(b"c", {b"cf:s": b"def"}) == {b"cf:s": b"abcdef"}
        assert not await t.check_and_mutate(b"c", b"cf:s", b"zzz", put={b"cf:x": b"1"})
        assert await t.check_and_mutate(b"c", b"cf:s", b"abcdef", put={b"cf:x": b"1"})
        assert await t.check_and_mutate(b"c", b"cf:none", None, delete=[b"cf:x"])
        assert (await t.row(b"c", columns=[b"cf:x"])) == {}
        with pytest.raises(InvalidArgument, match="compare operator"):
            await t.check_and_mutate(b"c", b"cf:s", b"a", op="~", put={b"cf:x": b"1"})
        with pytest.raises(InvalidArgument, match="needs put or delete"):
            await t.check_and_mutate(b"c", b"cf:s", b"a")

    where.run(body)


# ---- DDL and administration ---------------------------------------------------------------


def test_ddl_and_admin(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table(b"t", {"cf:": None}, split_keys=["m"])
        assert await conn.tables() == [b"t"]
        with pytest.raises(TableExists):
            await conn.create_table("t", {"cf": {}})
        await conn.alter_table("t", {"cf": {"max_versions": 5}, "cf2": {}})
        fams = await conn.table("t").families()
        assert sorted(fams) == [b"cf", b"cf2"] and fams[b"cf"]["max_versions"] == 5
        await conn.alter_table("t", delete=["cf2"])
        with pytest.raises(FamilyNotFound):
            await conn.alter_table("t", delete=["cf2"])
        t = conn.table("t")
        for k in (b"a", b"g", b"p", b"x"):
            await t.put(k, {b"cf:q": k})
        admin = conn.admin()
        regions = await admin.list_regions("t")
        assert [(r["start_key"], r["end_key"]) for r in regions] == [(b"", b"m"), (b"m", b"")]
        left, right = await admin.split("t", b"g")
        regions = await admin.list_regions("t")
        assert [r["start_key"] for r in regions] == [b"", b"g", b"m"]
        merged = await admin.merge("t", left, right)
        assert merged in [r["name"] for r in await admin.list_regions("t")]
        assert len(await admin.list_regions("t")) == 2
        assert (await admin.describe("t")).name == "t"
        assert "regions" in await admin.status()
        await admin.flush("t")
        await admin.compact("t")
        await admin.major_compact("t")
        await conn.flush_table("t")
        await conn.compact_table("t", major=True)
        assert [k async for k, _ in t.scan()] == [b"a", b"g", b"p", b"x"]
        await conn.truncate_table("t")
        assert [k async for k, _ in t.scan()] == []
        assert await conn.is_table_enabled("t")
        with pytest.raises(TableEnabled):
            await conn.delete_table("t")
        await conn.disable_table("t")
        assert not await conn.is_table_enabled("t")
        await conn.enable_table("t")
        await conn.delete_table("t", disable=True)
        assert await conn.tables() == []

    where.run(body)


def test_table_prefix(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        assert await conn.tables() == [b"t"]
        assert conn.table("t").name == "app_t"
        assert conn.table("app_x", use_prefix=False).name == "app_x"

    where.run(body, table_prefix="app")


def test_errors_map_to_the_same_classes(where: Where) -> None:
    async def body(conn: hedgerow.aio.AsyncConnection) -> None:
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        with pytest.raises(TableNotFound):
            await conn.table("missing").row(b"r")
        with pytest.raises(TableNotFound):
            [k async for k, _ in conn.table("missing").scan()]
        with pytest.raises(FamilyNotFound):
            await t.put(b"r", {b"nofam:q": b"v"})
        with pytest.raises(FilterSyntaxError):
            t.scan(filter="NoSuchFilter(")
        with pytest.raises(InvalidArgument, match="limit"):
            t.scan(limit=0)
        with pytest.raises(InvalidArgument, match="family:qualifier"):
            await t.put(b"r", {b"cf": b"v"})
        with pytest.raises(InvalidArgument, match="single key"):
            await t.rows(b"r")
        with pytest.raises(InvalidArgument):
            await conn.create_table("u", {})
        with pytest.raises(InvalidArgument):
            await t.row(b"")

    where.run(body)


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
