"""A cluster of real processes: 2 ``hedgerow master`` and 3 (then 4) ``hedgerow
regionserver`` on loopback, coordinated by a real ZooKeeper (``LocalZooKeeper``).

One pre-split table (9 regions) spreads over the region servers (none holds more than
ceil(9/3)+1); meta names one server per region and the servers' own reports agree (no
region open twice); rows written to each server read back; the active master is
SIGKILLed and the backup takes over within the session timeout plus a few seconds
(measured and printed) without reopening the regions the servers hold; a fourth region
server joins and the balancer gives it regions. Every process is stopped at the end
(SIGTERM, then SIGKILL), whatever happened.
"""

from __future__ import annotations

import collections
import functools
import math
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

import hedgerow
from hedgerow.server.local_cluster import LocalCluster

from ._wait import wait_until as _wait_until

#: these conditions make RPC calls: poll each 100 ms, not 10
wait_until = functools.partial(_wait_until, interval_s=0.1)

SESSION_S = 2.0
SPLITS = [b"%d" % i for i in range(1, 9)]  # 9 regions


@pytest.fixture
def cluster(local_cluster: LocalCluster) -> LocalCluster:
    return local_cluster


def _locations(conn: hedgerow.Connection) -> list[str]:
    return [f"{r['server_name'].decode()}:{r['port']}" for r in conn.table("t").regions()]


def _active_master(c: LocalCluster) -> str:
    from hedgerow.cluster.zookeeper import ZooKeeperCoordination

    coord = ZooKeeperCoordination(c.zk)
    coord.connect()
    try:
        rec = coord.active_master()
    finally:
        coord.close()
    assert rec is not None
    return rec.server.address


ROWS = [b"%d-%03d" % (i, j) for i in range(10) for j in range(20)]


def _read_all(conn: hedgerow.Connection) -> list[bytes]:
    """Every row of "t" that has its own value, by a scan (across servers) and by gets."""
    t = conn.table("t")
    scanned = [k for k, v in t.scan(columns=[b"cf:v"]) if v.get(b"cf:v") == k]
    got = [k for k in ROWS if t.row(k, columns=[b"cf:v"]).get(b"cf:v") == k]
    assert scanned == got, (len(scanned), len(got))
    return got


def _row_in(region: dict[str, Any]) -> bytes:
    start: bytes = region["start_key"]
    return (start or b"0") + b"-row"


def _shell_and_thrift_take_the_cluster_url(url: str) -> None:
    """`hedgerow shell` and the Thrift gateway (`hedgerow thrift --connect`) accept the
    same hedgerow+zk:// address as hedgerow.connect."""
    cli = [sys.executable, "-m", "hedgerow.cli.main"]
    out = subprocess.run(
        [*cli, "shell", url, "-e", "list", "-e", "count 't'"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "t\n" in out.stdout and f"{len(ROWS)} row(s)" in out.stdout, out.stdout
    port = _free_port()
    gateway = subprocess.Popen(
        [*cli, "thrift", "--connect", url, "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        import happybase

        deadline = time.monotonic() + 30
        while True:
            try:
                hb = happybase.Connection("127.0.0.1", port, timeout=5000)
                break
            except Exception:
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise
                time.sleep(0.2)
        try:
            assert dict(hb.table("t").row(ROWS[0])) == {b"cf:v": ROWS[0]}
        finally:
            hb.close()
    finally:
        gateway.terminate()
        gateway.communicate(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cluster_of_processes(cluster: LocalCluster) -> None:
    c = cluster
    t0 = time.monotonic()
    c.up(servers=3, masters=2)
    print(f"\n2 masters + 3 region servers up in {time.monotonic() - t0:.2f} s")
    rs_addresses = {p.address for p in c.procs if p.role == "regionserver"}

    conn = hedgerow.connect(c.url)
    conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
    t1 = time.monotonic()
    wait_until(
        lambda: set(_locations(conn)) == rs_addresses,
        timeout_s=20,
        what="every region moved off the master onto the 3 region servers",
    )
    print(f"9 regions spread over the region servers {time.monotonic() - t1:.2f} s after create")
    counts = collections.Counter(_locations(conn))
    assert max(counts.values()) <= math.ceil(9 / 3) + 1, counts

    # each server hosts exactly the regions meta names it for: none twice, none missing
    meta = dict(zip([r["name"] for r in conn.table("t").regions()], _locations(conn), strict=True))
    hosted: dict[bytes, str] = {}
    direct = {a: hedgerow.connect(f"hedgerow://{a}") for a in rs_addresses}
    try:
        for a, dc in direct.items():
            for r in dc.table("t").regions():
                assert r["name"] not in hosted, f"{r['name']!r} open on two servers"
                hosted[r["name"]] = a
        assert hosted == meta

        # through the cluster client: each row goes to its region's server
        t = conn.table("t")
        with t.batch() as b:
            for k in ROWS:
                b.put(k, {b"cf:v": k})
        assert _read_all(conn) == ROWS
        _shell_and_thrift_take_the_cluster_url(c.url)
        # and straight to the server holding the region
        for dc in direct.values():
            t = dc.table("t")
            for r in t.regions():
                t.put(_row_in(r), {b"cf:q": r["name"]})
            for r in t.regions():
                assert t.row(_row_in(r)) == {b"cf:q": r["name"]}

        # SIGKILL the active master: the backup takes over after the session timeout
        active = _active_master(c)
        elected = hedgerow.connect(c.url)  # resolves the active master now
        assert elected.table("t").regions()
        victim = next(p for p in c.procs if p.address == active)
        killed = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        new_conn: list[hedgerow.Connection] = []

        def new_master_answers() -> bool:
            try:
                nc = hedgerow.connect(c.url)
            except Exception:
                return False
            try:
                if set(_locations(nc)) == rs_addresses:
                    new_conn.append(nc)
                    return True
            except Exception:
                pass
            nc.close()
            return False

        wait_until(
            new_master_answers,
            timeout_s=SESSION_S + 15,
            interval_s=0.05,
            what="the backup master answers",
        )
        took = time.monotonic() - killed
        assert _active_master(c) != active
        print(
            f"backup master took over and answered {took:.2f} s after SIGKILL "
            f"(session timeout {SESSION_S} s)"
        )
        assert took < SESSION_S + 5
        conn.close()
        conn = new_conn[0]
        # the regions stayed where they were: the data is still served by the same servers
        assert (
            dict(zip([r["name"] for r in conn.table("t").regions()], _locations(conn), strict=True))
            == meta
        )
        for dc in direct.values():
            t = dc.table("t")
            for r in t.regions():
                assert t.row(_row_in(r)) == {b"cf:q": r["name"]}

        assert _read_all(conn) == ROWS
        # a fourth region server joins: the balancer gives it regions
        t2 = time.monotonic()
        fourth = c.spawn("regionserver").address
        c.write_state()
        wait_until(
            lambda: collections.Counter(_locations(conn))[fourth] >= 2,
            timeout_s=20,
            what="the new region server received regions",
        )
        counts = collections.Counter(_locations(conn))
        print(
            f"4th region server got {counts[fourth]} regions {time.monotonic() - t2:.2f} s "
            f"after it started: {sorted(counts.values())}"
        )
        assert max(counts.values()) - min(counts.values()) <= 1
        assert _read_all(conn) == ROWS  # regions moved: the client follows them
        with hedgerow.connect(f"hedgerow://{fourth}") as dc4:
            t = dc4.table("t")
            for r in t.regions():
                assert t.row(_row_in(r)) == {b"cf:q": r["name"]}

        # table procedures on regions open in region servers: split, disable/enable,
        # delete, driven on the region servers themselves (engine/remote_procedures.py)
        all_rs = rs_addresses | {fourth}
        t3 = time.monotonic()
        conn.admin().split("t", b"4-010")
        conn.disable_table("t")
        conn.enable_table("t")
        wait_until(
            lambda: set(_locations(conn)) <= all_rs and len(_locations(conn)) == 10,
            timeout_s=20,
            what="10 regions back on the region servers",
        )
        print(f"split + disable + enable, regions spread again: {time.monotonic() - t3:.2f} s")
        assert _read_all(conn) == ROWS
        conn.delete_table("t", disable=True)
        assert "t" not in [n.decode() if isinstance(n, bytes) else n for n in conn.tables()]
    finally:
        for dc in direct.values():
            dc.close()
        conn.close()


def test_region_server_refuses_a_deposed_masters_epoch() -> None:
    from hedgerow.errors import NotLeader
    from hedgerow.server.cluster_regionserver import RegionServerProcess

    p = RegionServerProcess("127.0.0.1:1/x", "/nonexistent")  # nothing is started
    p.check_epoch(5)
    p.check_epoch(5)
    p.check_epoch(9)
    with pytest.raises(NotLeader, match="epoch 5 is older than 9"):
        p.check_epoch(5)


def test_an_engine_is_not_driven_by_a_remote_master(tmp_path: Any) -> None:
    from hedgerow.engine import Engine
    from hedgerow.errors import InvalidArgument

    engine = Engine(str(tmp_path / "db"))
    try:
        with pytest.raises(InvalidArgument, match="hedgerow regionserver"):
            engine.region_server_report(1)
    finally:
        engine.close()


def test_cluster_down_without_a_cluster_names_the_problem(tmp_path: Any) -> None:
    from hedgerow.cli.main import main

    assert main(["cluster", "down", "--dir", str(tmp_path)]) == 1


def test_a_region_server_asks_the_master_to_split_a_region_that_outgrew_its_size(
    cluster: LocalCluster,
) -> None:
    """A region past ``region_split_bytes`` on a region-server process is split by the
    active master on the server's request (before, the request was refused: regions of a
    cluster never split by themselves)."""
    c = cluster
    c.spawn("master")
    small = ["--set", "flush_size_bytes=65536", "--set", "region_split_bytes=262144"]
    for _ in range(2):
        c.spawn("regionserver", args=small)
    c.write_state()
    conn = hedgerow.connect(c.url)
    conn.create_table("grow", {"cf": {}})
    t = conn.table("grow")
    rows = [b"row%06d" % i for i in range(2000)]
    with t.batch(batch_size=200) as b:
        for k in rows:
            b.put(k, {b"cf:v": k * 40})  # about 1 MiB in all
    t0 = time.monotonic()
    wait_until(lambda: len(t.regions()) > 1, 60, "the region was split on its server's request")
    print(f"\nsplit {time.monotonic() - t0:.2f} s after the writes: {len(t.regions())} regions")
    got = [k for k, _ in t.scan()]
    assert got == rows
    assert t.row(rows[1234]) == {b"cf:v": rows[1234] * 40}

    # status lists the region-server processes, from their reports
    st = conn.admin().status()
    rs = {p.address for p in c.procs if p.role == "regionserver"}
    listed = {s["name"]: s for s in st["servers"]}
    assert rs <= set(listed), listed
    grow = [r for r in st["regions"] if r["table"] == "grow"]
    names = sorted(r["name"].decode().rsplit(",", 1)[-1] for r in t.regions())
    assert sorted(r["name"] for r in grow) == names
    assert sum(listed[a]["regions"] for a in rs) == len(names)
    assert sum(listed[a]["read_requests"] for a in rs) >= 1  # the scan and get above
    assert {r["server"] for r in grow} <= rs


def test_a_decommission_survives_a_master_failover(cluster: LocalCluster) -> None:
    """The decommissioned servers are kept in ZooKeeper (master-state/decommissioned, as
    HBase's draining znodes): the next master keeps the server empty; recommissioning
    lets it take regions again."""
    c = cluster
    c.up(servers=2, masters=2)
    conn = hedgerow.connect(c.url)
    conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
    rs = sorted(p.address for p in c.procs if p.role == "regionserver")
    wait_until(lambda: set(_locations(conn)) == set(rs), 20, "regions on both servers")
    conn.admin().decommission_region_servers([rs[0]])
    assert rs[0] not in _locations(conn)

    active = _active_master(c)
    victim = next(p for p in c.procs if p.address == active)
    os.kill(victim.pid, signal.SIGTERM)
    wait_until(lambda: _active_master(c) != active, 20, "the backup master took over")
    after = hedgerow.connect(c.url)

    def flagged() -> bool:
        servers = {s["name"]: s for s in after.admin().status()["servers"]}
        return bool(servers.get(rs[0], {}).get("decommissioned"))

    wait_until(flagged, 20, "the new master knows the server is decommissioned")
    after.admin().balance()
    assert rs[0] not in _locations(after)
    after.admin().recommission_region_server(rs[0])
    after.admin().balance()
    wait_until(lambda: rs[0] in _locations(after), 20, "the recommissioned server has regions")
