"""Issue 11, finding 3: any client could destroy the data directory through ``hbase:meta``.

Before the fix, ``create_table("hbase:meta", ...)`` was accepted on every interface
(embedded, hedgerow://, asyncio, Thrift/happybase, shell): the new table's regions went
into ``tables/hbase%3Ameta/``, the real meta region's directory, and disabling and
deleting it removed that directory, so the next open failed for ever ("table 'users'
has no regions in hbase:meta"). Now the master refuses every procedure on a table of
the reserved ``hbase`` namespace (any case) with ``ReservedName``, and the region server
every write to one; reads of hbase:meta, and flushing or compacting it, still work.

Each test fails on the old code: there the first ``create_table("hbase:meta", ...)``
succeeds, so its ``refused(...)`` check fails (and in the shell test no line says
"reserved"); ``test_the_old_attack_leaves_the_directory_usable`` fails at its create and,
were that skipped, at the reopen. All tests talk only to loopback and stop their servers.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import happybase
import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import ReservedName
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer
from hedgerow.shell import Shell

META = "hbase:meta"
#: names a client must never create: meta itself, another table of its namespace, and the
#: namespace in other cases (one directory on a case-insensitive file system)
NEW_NAMES = [META, "hbase:t", "HBase:meta", "HBASE:acl"]


def refused(fn: Callable[[], object], table: str) -> None:
    with pytest.raises(ReservedName) as ei:
        fn()
    msg = str(ei.value)
    assert repr(table) in msg and "reserved" in msg, msg


def seed(conn: hedgerow.Connection) -> None:
    conn.create_table("users", {"cf": {}}, split_keys=[b"m"])
    conn.table("users").put(b"alice", {b"cf:a": b"1"})
    conn.table("users").put(b"zed", {b"cf:a": b"2"})


def assert_intact(data: str) -> None:
    """The directory opens; the user table and the region map are as seeded."""
    conn = hedgerow.connect(data)
    try:
        assert conn.tables() == [b"users"]
        t = conn.table("users")
        assert dict(t.scan()) == {b"alice": {b"cf:a": b"1"}, b"zed": {b"cf:a": b"2"}}
        rows = [r for r, _ in conn.table(META).scan()]
        assert [r for r in rows if r.startswith(b"users,")] and not [
            r for r in rows if r.lower().startswith(b"hbase:")
        ]
    finally:
        conn.close()


def attack(conn: hedgerow.Connection) -> None:
    """Every DDL, region procedure and write a client could aim at hbase:meta is refused;
    reads, flush and compaction of it work."""
    for name in NEW_NAMES:
        refused(lambda name=name: conn.create_table(name, {"cf": {}}), name)
        refused(lambda name=name: conn.create_table(name, {"info": {}}, [b"k"]), name)
    refused(lambda: conn.disable_table(META), META)
    refused(lambda: conn.enable_table(META), META)
    refused(lambda: conn.delete_table(META), META)
    refused(lambda: conn.delete_table(META, disable=True), META)
    refused(lambda: conn.delete_table("hbase:t"), "hbase:t")
    refused(lambda: conn.alter_table(META, {"x": {}}), META)
    refused(lambda: conn.alter_table(META, {"y": {}}, delete=["info"]), META)
    refused(lambda: conn.truncate_table(META), META)
    refused(lambda: conn.truncate_table(META, preserve_splits=False), META)
    admin = conn.admin()
    refused(lambda: admin.split(META, b"users,m"), META)
    refused(lambda: admin.split(META), META)
    refused(lambda: admin.merge(META, "0000000000", "0000000001"), META)
    meta = conn.table(META)
    refused(lambda: meta.put(b"users,,0000000001", {b"info:state": b"CLOSED"}), META)
    refused(lambda: meta.delete(b"users,,0000000001"), META)
    refused(lambda: meta.counter_inc(b"x", b"info:n"), META)
    # read-only access stays
    assert conn.is_table_enabled(META)
    assert b"info" in meta.families()
    assert any(r.startswith(b"users,") for r, _ in meta.scan())
    assert [r["name"] for r in meta.regions()] == [b"hbase:meta,,0000000000"]
    conn.flush_table(META)
    conn.compact_table(META)
    conn.compact_table(META, major=True)
    assert conn.tables() == [b"users"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StandaloneServer]:
    """``hedgerow standalone`` with its Thrift gateway, both on free loopback ports."""
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "srv"), port=0, thrift_port=0))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def url(srv: StandaloneServer) -> str:
    return f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"


def test_embedded_api(tmp_path: Path) -> None:
    data = str(tmp_path / "db")
    conn = hedgerow.connect(data)
    try:
        seed(conn)
        attack(conn)
    finally:
        conn.close()
    assert_intact(data)


def test_rpc_client_through_the_server(server: StandaloneServer, tmp_path: Path) -> None:
    conn = hedgerow.connect(url(server))
    try:
        seed(conn)
        attack(conn)
    finally:
        conn.close()
    server.stop()
    assert_intact(str(tmp_path / "srv"))


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_asyncio_client(where: str, tmp_path: Path) -> None:
    srv = None
    data = str(tmp_path / "db")
    if where == "server":
        srv = StandaloneServer(StandaloneConfig(data, port=0, thrift_port=None))
        srv.start()

    async def refused_async(coro: Any, table: str) -> None:
        with pytest.raises(ReservedName) as ei:
            await coro
        assert repr(table) in str(ei.value) and "reserved" in str(ei.value)

    async def main() -> None:
        target = url(srv) if srv is not None else data
        async with hedgerow.aio.connect(target) as conn:
            await conn.create_table("users", {"cf": {}}, split_keys=[b"m"])
            await conn.table("users").put(b"alice", {b"cf:a": b"1"})
            await conn.table("users").put(b"zed", {b"cf:a": b"2"})
            for name in NEW_NAMES:
                await refused_async(conn.create_table(name, {"cf": {}}), name)
            await refused_async(conn.disable_table(META), META)
            await refused_async(conn.enable_table(META), META)
            await refused_async(conn.delete_table(META), META)
            await refused_async(conn.delete_table(META, disable=True), META)
            await refused_async(conn.alter_table(META, {"x": {}}), META)
            await refused_async(conn.truncate_table(META), META)
            await refused_async(conn.admin().split(META, b"users,m"), META)
            await refused_async(conn.table(META).put(b"r", {b"info:a": b"1"}), META)
            assert await conn.is_table_enabled(META)
            rows = [r async for r, _ in conn.table(META).scan()]
            assert any(r.startswith(b"users,") for r in rows)
            await conn.compact_table(META, major=True)

    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        if srv is not None:
            srv.stop()
    assert_intact(data)


def test_thrift_gateway_with_happybase(server: StandaloneServer, tmp_path: Path) -> None:
    """happybase sees IllegalArgument (createTable) or IOError naming ReservedName."""
    assert server.thrift_address is not None
    hb = happybase.Connection("127.0.0.1", server.thrift_address[1], timeout=30_000)

    def hb_refused(fn: Callable[[], object], table: str) -> None:
        with pytest.raises(Exception) as ei:  # happybase's IOError / IllegalArgument
            fn()
        msg = str(getattr(ei.value, "message", None) or ei.value)
        assert "ReservedName" in msg and repr(table) in msg, msg

    try:
        hb.create_table("users", {"cf": {}})
        hb.table("users").put(b"alice", {b"cf:a": b"1"})
        hb.table("users").put(b"zed", {b"cf:a": b"2"})
        for name in NEW_NAMES:
            hb_refused(lambda name=name: hb.create_table(name, {"cf": {}}), name)
        hb_refused(lambda: hb.disable_table(META), META)
        hb_refused(lambda: hb.enable_table(META), META)
        hb_refused(lambda: hb.delete_table(META), META)
        hb_refused(lambda: hb.delete_table(META, disable=True), META)
        hb_refused(lambda: hb.table(META).put(b"users,,x", {b"info:state": b"CLOSED"}), META)
        hb_refused(lambda: hb.table(META).delete(b"users,,x"), META)
        assert hb.is_table_enabled(META)
        assert any(r.startswith(b"users,") for r, _ in hb.table(META).scan())
        hb.compact_table(META, major=True)
        assert hb.tables() == [b"users"]
    finally:
        hb.close()
    server.stop()
    assert_intact(str(tmp_path / "srv"))


SHELL_ATTACK = [
    "create 'hbase:meta', 'info'",
    "create 'hbase:t', 'cf'",
    "create 'HBase:meta', 'cf'",
    "disable 'hbase:meta'",
    "enable 'hbase:meta'",
    "drop 'hbase:meta'",
    "split 'hbase:meta'",
    "split 'hbase:meta', 'users,m'",
    "alter 'hbase:meta', NAME => 'x'",
    "truncate 'hbase:meta'",
    "truncate_preserve 'hbase:meta'",
    "put 'hbase:meta', 'users,,x', 'info:state', 'CLOSED'",
    "deleteall 'hbase:meta', 'users,,x'",
    "incr 'hbase:meta', 'x', 'info:n'",
]


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_shell(where: str, tmp_path: Path) -> None:
    """Each refused command prints one ERROR line naming the table and the rule; reads
    of hbase:meta print rows, and it exists."""
    data = str(tmp_path / "db")
    srv = None
    if where == "server":
        srv = StandaloneServer(StandaloneConfig(data, port=0, thrift_port=None))
        srv.start()
    conn = hedgerow.connect(url(srv) if srv is not None else data)
    try:
        seed(conn)
        for line in SHELL_ATTACK:
            out, err = io.StringIO(), io.StringIO()
            assert Shell(conn, out, err).run_lines([line]) == 1, line
            assert "reserved" in err.getvalue(), (line, err.getvalue())
            assert "hbase:" in err.getvalue().lower(), (line, err.getvalue())
        out, err = io.StringIO(), io.StringIO()
        shell = Shell(conn, out, err)
        reads = ["scan 'hbase:meta'", "major_compact 'hbase:meta'", "exists 'hbase:meta'"]
        assert shell.run_lines(reads) == 0
        assert "users," in out.getvalue(), out.getvalue()
        assert "Table hbase:meta does exist" in out.getvalue(), out.getvalue()
        assert err.getvalue() == ""
    finally:
        conn.close()
        if srv is not None:
            srv.stop()
    assert_intact(data)


def test_the_old_attack_leaves_the_directory_usable(tmp_path: Path) -> None:
    """The issue's reproduction, step by step: every step is refused, and the directory
    reopens with its data (on the old code the reopen raised CorruptionError)."""
    data = str(tmp_path / "db")
    conn = hedgerow.connect(data)
    seed(conn)
    refused(lambda: conn.create_table(META, {"cf": {}}), META)
    refused(lambda: conn.disable_table(META), META)
    refused(lambda: conn.delete_table(META), META)
    conn.close()
    assert_intact(data)
    assert (tmp_path / "db" / "tables" / "hbase%3Ameta" / "0000000000").is_dir()


def test_a_directory_attacked_before_the_fix_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog that already lists a client's "hbase:meta" and "hbase:t" (created by the
    old code; made here by switching the check off) opens: reads of hbase:meta reach the
    real meta region, not the impostor, and neither table can be disabled or deleted."""
    import hedgerow.engine.master as master_mod

    data = str(tmp_path / "db")
    conn = hedgerow.connect(data)
    seed(conn)
    with monkeypatch.context() as m:
        m.setattr(master_mod, "refuse_reserved", lambda table, action: None)
        conn.create_table(META, {"cf": {}})
        conn.create_table("hbase:t", {"cf": {}})
    conn.close()
    conn = hedgerow.connect(data)
    try:
        assert sorted(conn.tables()) == [b"hbase:meta", b"hbase:t", b"users"]
        rows = [r for r, _ in conn.table(META).scan()]
        assert any(r.startswith(b"users,") for r in rows)
        refused(lambda: conn.disable_table(META), META)
        refused(lambda: conn.delete_table(META), META)
        refused(lambda: conn.delete_table("hbase:t", disable=True), "hbase:t")
        assert dict(conn.table("users").scan()) == {
            b"alice": {b"cf:a": b"1"},
            b"zed": {b"cf:a": b"2"},
        }
    finally:
        conn.close()
    hedgerow.connect(data).close()  # opens again
