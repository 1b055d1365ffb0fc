"""Three in-process region servers under one master (engine/assignment.py).

The balancer spreads regions; a move changes the host and keeps the data; a master that
restarts in the middle of a move (a crash injected between two persisted steps) finishes
or rolls back the same procedure; decommission drains a server; and no region is ever
open on two servers. Also: the data directory's layout version (WALs/<server-id>/) and
its upgrade, and the admin/shell surface.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow._internal import failpoints
from hedgerow.engine.assignment import AssignmentManager
from hedgerow.engine.config import EngineConfig
from hedgerow.engine.engine import Engine
from hedgerow.engine.meta import OPEN
from hedgerow.errors import FormatVersionError, InvalidArgument
from hedgerow.model.mutation import Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor

K = 3
SPLITS = [b"b", b"c", b"d", b"e", b"f"]  # six regions
ROWS = [bytes([c]) + b"-row" for c in b"abcdefg"]
DESC = TableDescriptor("t", {b"f": ColumnFamilyDescriptor(b"f")})


def _open(path: str, k: int = K) -> Engine:
    return Engine(path, EngineConfig(region_servers=k, balancer_period_s=0, background=False))


def _write(e: Engine, tag: bytes) -> None:
    e.mutate("t", [RowMutation(r, (Put(b"f", b"q", tag + r),)) for r in ROWS])


def _read(e: Engine) -> dict[bytes, bytes]:
    return {row: cells[0].value for row, cells in e.scan("t", ScanRange(), ReadSpec())}


def _check_one_host(e: Engine) -> dict[str, str]:
    """Every region of t is open on exactly one server, and meta records that server."""
    hosted = Counter(r.info.name for s in e.master.region_servers for r in s.hosted())
    assert all(n == 1 for n in hosted.values()), f"a region is open twice: {hosted}"
    hosts = e.master._hosts()
    rows = e.meta.load()[0]["t"]
    assert {r.name for r in rows} == set(hosted)
    for row in rows:
        assert (row.state, row.server, row.target, row.proc) == (OPEN, hosts[row.name], "", None)
    return {r.name: hosts[r.name] for r in rows}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = _open(str(tmp_path / "db"))
    e.create_table(DESC, SPLITS)
    _write(e, b"v1:")
    yield e
    failpoints.disarm_all()
    e.close()


def test_balance_spreads_regions(engine: Engine) -> None:
    assert set(_check_one_host(engine).values()) == {"local"}
    assert engine.balance()
    hosts = _check_one_host(engine)
    assert sorted(Counter(hosts.values()).values()) == [2, 2, 2]
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}
    _write(engine, b"v2:")  # writes reach the moved regions
    assert engine.balance()  # already balanced: runs, moves nothing
    assert _check_one_host(engine) == hosts
    assert _read(engine) == {r: b"v2:" + r for r in ROWS}


def test_move_and_reopen(engine: Engine, tmp_path: Path) -> None:
    region = engine.regions("t")[2].name
    assert engine.move_region(region, "local/rs1") == "local/rs1"
    assert _check_one_host(engine)[region] == "local/rs1"
    _write(engine, b"v2:")
    # the moved region's edits go to its new server's WAL directory
    assert (tmp_path / "db" / "WALs" / "rs1").is_dir()
    with pytest.raises(InvalidArgument, match="unknown region server 'nope'"):
        engine.move_region(region, "nope")
    engine.close()
    e = _open(str(tmp_path / "db"))
    try:
        assert _check_one_host(e)[region] == "local/rs1"  # the assignment survives
        assert _read(e) == {r: b"v2:" + r for r in ROWS}
    finally:
        e.close()


# failpoint -> where the region ends up after a restart: the source (rolled back) or the
# destination (rolled forward)
STEPS = [
    ("engine.assignment.after_closing", "local"),
    ("engine.assignment.after_close", "local/rs2"),
    ("engine.assignment.after_opening", "local/rs2"),
    ("engine.assignment.after_open", "local/rs2"),
]


@pytest.mark.parametrize(("point", "ends_on"), STEPS)
def test_master_restart_mid_move(engine: Engine, point: str, ends_on: str) -> None:
    """The master dies between two persisted steps; a new master over the same live
    region servers reads the step from meta and finishes (or rolls back) the move."""
    region = engine.regions("t")[1].name
    failpoints.arm(point)
    with pytest.raises(failpoints.FailpointError):
        engine.move_region(region, "local/rs2")
    failpoints.disarm_all()
    assert engine.master.assignment.in_transition()  # meta holds the procedure
    master = engine.master
    fresh = AssignmentManager(
        lambda: master.meta, master.server_manager, master.catalog_entry, master._ddl_lock
    )
    assert fresh.balance() is None  # not while a region is in transition
    assert fresh.resume() == [region]
    assert _check_one_host(engine)[region] == ends_on
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}
    _write(engine, b"v2:")
    assert _read(engine) == {r: b"v2:" + r for r in ROWS}


_CHILD = textwrap.dedent(
    """
    import sys
    from hedgerow._internal import failpoints
    from hedgerow.engine.config import EngineConfig
    from hedgerow.engine.engine import Engine
    from hedgerow.model.mutation import Put, RowMutation
    from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
    e = Engine(sys.argv[1], EngineConfig(region_servers=3, balancer_period_s=0))
    e.create_table(TableDescriptor("t", {b"f": ColumnFamilyDescriptor(b"f")}), [b"m"])
    e.mutate("t", [RowMutation(r, (Put(b"f", b"q", r),)) for r in (b"a", b"z")])
    failpoints.arm(sys.argv[2], "exit")
    e.move_region(e.regions("t")[1].name, "local/rs1")
    """
)


@pytest.mark.parametrize(("point", "ends_on"), [STEPS[0], (STEPS[2][0], "local/rs1")])
def test_process_crash_mid_move(tmp_path: Path, point: str, ends_on: str) -> None:
    """The whole process dies (SIGKILL-like ``os._exit``) mid-move; the next open
    finishes the procedure from meta and loses no acknowledged write."""
    path = str(tmp_path / "db")
    rc = subprocess.run([sys.executable, "-c", _CHILD, path, point], timeout=60).returncode
    assert rc == 137
    e = _open(path)
    try:
        assert not e.master.assignment.in_transition()
        hosts = _check_one_host(e)
        moved = e.regions("t")[1].name
        # after_closing: nothing was open anywhere after the crash, so the move rolls
        # forward to its target too (the source no longer reports the region open)
        assert hosts[moved] == "local/rs1", (ends_on, hosts)
        rows = {row: c[0].value for row, c in e.scan("t", ScanRange(), ReadSpec())}
        assert rows == {b"a": b"a", b"z": b"z"}
    finally:
        e.close()


def test_decommission_drains_and_recommission(engine: Engine) -> None:
    assert engine.balance()
    engine.decommission_server(["local/rs1"])
    hosts = _check_one_host(engine)
    assert "local/rs1" not in hosts.values()
    assert engine.decommissioned_servers() == ["local/rs1"]
    assert engine.balance()
    assert "local/rs1" not in _check_one_host(engine).values()  # gets nothing new
    with pytest.raises(InvalidArgument, match="decommissioned"):
        engine.move_region(engine.regions("t")[0].name, "local/rs1")
    with pytest.raises(InvalidArgument, match="every live region server"):
        engine.decommission_server(["local", "local/rs2"])
    assert engine.decommissioned_servers() == ["local/rs1"]  # refused: nothing changed
    engine.recommission_server("local/rs1")
    assert engine.balance()
    assert sorted(Counter(_check_one_host(engine).values()).values()) == [2, 2, 2]
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}


def test_stray_open_is_closed_before_open(engine: Engine) -> None:
    """A region found open on a second server is closed there before the procedure
    opens it on its target: never two servers."""
    region = engine.regions("t")[0]
    failpoints.arm("engine.assignment.after_close")
    with pytest.raises(failpoints.FailpointError):
        engine.move_region(region.name, "local/rs1")
    failpoints.disarm_all()
    stray = engine.master.server_manager.get("local/rs2")
    entry = engine.catalog.tables["t"].regions[0]
    stray.open_region(DESC, entry)  # a zombie open on a third server
    engine.master.assignment.resume()
    assert _check_one_host(engine)[region.name] == "local/rs1"


def test_split_and_ddl_keep_hosts(engine: Engine) -> None:
    assert engine.balance()
    engine.split_region("t", engine.regions("t")[5].name, b"g")
    _check_one_host(engine)
    engine.modify_table(
        TableDescriptor(
            "t", {b"f": ColumnFamilyDescriptor(b"f"), b"g": ColumnFamilyDescriptor(b"g")}
        )
    )
    _check_one_host(engine)
    engine.disable_table("t")
    engine.enable_table("t")
    hosts = _check_one_host(engine)
    assert len(set(hosts.values())) == K  # enable spreads the regions
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}


def test_fewer_servers_replay_the_dead_wal_dirs(engine: Engine, tmp_path: Path) -> None:
    assert engine.balance()
    _write(engine, b"v2:")
    engine.close()
    path = tmp_path / "db"
    e = _open(str(path), k=1)
    try:
        assert set(_check_one_host(e).values()) == {"local"}
        assert _read(e) == {r: b"v2:" + r for r in ROWS}
        assert sorted(os.listdir(path / "WALs")) == ["rs0"]
    finally:
        e.close()


# ---- layout version ---------------------------------------------------------------------
def test_layout_v1_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "db"
    e = _open(str(path), k=1)
    e.create_table(DESC)
    e.mutate("t", [RowMutation(b"r", (Put(b"f", b"q", b"v"),))])
    # a version-1 directory: the log in wal/, no LAYOUT file (unflushed edits in it)
    e.wal.close()
    os.rename(path / "WALs" / "rs0", path / "wal")
    os.rmdir(path / "WALs")
    os.remove(path / "LAYOUT")
    e.region_server._closed = True  # as if the process died: nothing flushed
    e._release_lock()
    e2 = _open(str(path))
    try:
        assert (path / "LAYOUT").read_bytes() == b"hedgerow-layout 2\n"
        assert not (path / "wal").exists()
        assert [c[0].value for _, c in e2.scan("t", ScanRange(), ReadSpec())] == [b"v"]
    finally:
        e2.close()


def test_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    _open(str(path), k=1).close()
    (path / "LAYOUT").write_bytes(b"hedgerow-layout 3\n")
    before = sorted(os.listdir(path))
    with pytest.raises(FormatVersionError, match="layout version 3 is not supported"):
        _open(str(path))
    assert sorted(os.listdir(path)) == before


# ---- the admin API and the shell ----------------------------------------------------------
def test_admin_and_shell(tmp_path: Path) -> None:
    from hedgerow.shell.session import Shell

    conn = hedgerow.connect(str(tmp_path / "db"), region_servers=3, balancer_period_s=0)
    try:
        conn.create_table("t", {"f": {}}, split_keys=[b"m"])
        admin = conn.admin()
        assert admin.balance() is True
        names = [r["name"] for r in admin.list_regions("t")]
        assert admin.move(names[0], "local/rs2") == "local/rs2"
        servers = {r["name"]: r["server"] for r in admin.list_regions("t")}
        assert servers[names[0]] == "local/rs2"
        admin.decommission_region_servers(["local/rs2"])
        assert "local/rs2" not in {r["server"] for r in admin.list_regions("t")}
        with pytest.raises(InvalidArgument):
            admin.decommission_region_servers("local/rs2")  # type: ignore[arg-type]
        admin.recommission_region_server("local/rs2")
        out = io.StringIO()
        sh = Shell(conn, out)
        assert sh.execute(f"move '{names[1]}', 'local/rs2'"), out.getvalue()
        assert {r["name"]: r["server"] for r in admin.list_regions("t")}[names[1]] == "local/rs2"
        assert sh.execute("balancer"), out.getvalue()
        assert "true" in out.getvalue().splitlines()
        assert sh.execute("decommission_regionservers ['local/rs1'], false"), out.getvalue()
        assert [s["decommissioned"] for s in admin.status()["servers"]] == [False, True, False]
        assert sh.execute("recommission_regionserver 'local/rs1'"), out.getvalue()
        assert not sh.execute("move 'nope', 'local/rs1'")
        assert all(not s["decommissioned"] for s in admin.status()["servers"])
    finally:
        conn.close()


def test_over_rpc(tmp_path: Path) -> None:
    """The same operations through hedgerow standalone (hedgerow://, messages 50-53)."""
    from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

    server = StandaloneServer(
        StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None),
        {"region_servers": 3, "balancer_period_s": 0, "compaction_processes": 0},
    )
    server.start()
    try:
        conn = hedgerow.connect(f"hedgerow://127.0.0.1:{server.rpc_address[1]}")
        try:
            conn.create_table("t", {"f": {}}, split_keys=[b"g", b"m", b"t"])
            admin = conn.admin()
            primary = f"127.0.0.1:{server.rpc_address[1]}"
            assert {r["server"] for r in admin.list_regions("t")} == {primary}
            assert admin.balance() is True
            servers = Counter(r["server"] for r in admin.list_regions("t"))
            assert sorted(servers.values()) == [1, 1, 2] and len(servers) == 3
            name = admin.list_regions("t")[0]["name"]
            assert admin.move(name, f"{primary}/rs2") == f"{primary}/rs2"
            admin.decommission_region_servers([f"{primary}/rs2"])
            assert f"{primary}/rs2" not in {r["server"] for r in admin.list_regions("t")}
            admin.recommission_region_server(f"{primary}/rs2")
            table = conn.table("t")
            table.put(b"k", {b"f:q": b"v"})
            assert table.row(b"k") == {b"f:q": b"v"}
        finally:
            conn.close()
    finally:
        server.stop()


def test_periodic_balancer(tmp_path: Path) -> None:
    e = Engine(
        str(tmp_path / "db"),
        EngineConfig(region_servers=K, balancer_period_s=0.05, background=False),
    )
    try:
        e.create_table(DESC, SPLITS)
        deadline = time.monotonic() + 10
        while len(set(e.master._hosts().values())) < K and time.monotonic() < deadline:
            time.sleep(0.05)
        with e.master._ddl_lock:  # not in the middle of a run
            assert sorted(Counter(_check_one_host(e).values()).values()) == [2, 2, 2]
    finally:
        e.close()


def test_dead_server_regions_are_reassigned(engine: Engine) -> None:
    assert engine.balance()
    dead = engine.peers[0]
    on_dead = [n for n, s in _check_one_host(engine).items() if s == dead.name]
    assert on_dead
    dead.close()  # the server stops (its regions flushed and closed)...
    engine.master.server_manager.expire(dead.name)  # ...and the master learns it
    hosts = _check_one_host(engine)
    assert dead.name not in hosts.values()
    assert engine.master.server_manager.live() == ["local", "local/rs2"]
    assert [s["name"] for s in engine.status()["servers"]] == ["local", "local/rs2"]
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}


@pytest.mark.parametrize(
    ("kind", "point"),
    [("split", "master.split.before_meta"), ("merge", "master.merge.before_meta")],
)
def test_split_merge_record_their_state(engine: Engine, kind: str, point: str) -> None:
    """SPLITTING/MERGING is in meta while the procedure runs; a failure before its commit
    records the old regions OPEN again."""
    seen: list[str] = []
    regions = engine.regions("t")
    names = {regions[0].name, regions[1].name}

    def spy() -> None:  # what meta says at the procedure's last step before its commit
        seen.extend(r.state for r in engine.meta.load()[0]["t"] if r.name in names)
        raise failpoints.FailpointError("injected")

    failpoints.arm(point, spy)
    with pytest.raises(failpoints.FailpointError):
        if kind == "split":
            engine.split_region("t", regions[0].name, b"a-row")
        else:
            engine.merge_regions("t", regions[0].name, regions[1].name)
    failpoints.disarm_all()
    want = ["SPLITTING", "OPEN"] if kind == "split" else ["MERGING", "MERGING"]
    assert seen == want
    _check_one_host(engine)  # all OPEN again, on one server each
    assert _read(engine) == {r: b"v1:" + r for r in ROWS}


def test_flush_and_compact_region_in_place_on_an_in_process_server(engine: Engine) -> None:
    """``RegionServerClient.flush_region``/``compact_region`` (what FLUSH_REGION and
    COMPACT_REGION do on a region-server process) act on the hosted region, which stays
    open; a region not hosted there is NOT_SERVING_REGION."""
    from hedgerow.errors import NotServingRegion

    hosts = _check_one_host(engine)
    name, host = next(iter(hosts.items()))
    server = engine.master.server_manager.get(host)
    region = next(
        r for s in engine.master.region_servers for r in s.hosted() if r.info.name == name
    )
    files = lambda: sum(s.file_count() for s in region.stores.values())  # noqa: E731
    server.flush_region("t", name)
    _write(engine, b"v2:")
    server.flush_region("t", name)
    assert files() >= 2
    server.compact_region("t", name, major=True)
    assert files() == 1 and not region.closed
    assert _check_one_host(engine) == hosts
    assert _read(engine) == {r: b"v2:" + r for r in ROWS}
    other = next(s.name for s in engine.master.region_servers if s.name != host)
    with pytest.raises(NotServingRegion):
        engine.master.server_manager.get(other).flush_region("t", name)
