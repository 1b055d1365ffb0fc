"""Graceful operations on a cluster of real processes while 4 client processes write and
read for the whole run (issue 14, acceptance 2 and 3).

ZooKeeper (``LocalZooKeeper``), 2 ``hedgerow master`` and 3 ``hedgerow regionserver``
processes; 4 client processes (tests/cluster/_load_client.py) put known rows with plain
puts and read earlier ones back through ``hedgerow+zk://``, recording every failed call
and the slowest one. Meanwhile, in order:

(a) a 4th region server joins and the balancer gives it regions;
(b) one region server is decommissioned: its regions move off; then recommissioned;
(c) a region is moved by ``move``;
(d) rolling restart: each region server in turn gets SIGTERM (it drains: the master
    moves its regions away while it serves) and is started again on its own port;
(e) the active master gets SIGTERM: the test's own connections (blocking and asyncio),
    opened before, follow the backup for their next admin call.

Then: zero failed calls in every client, every acknowledged row readable with its value;
the longest stall each client saw is printed. Every process is stopped at the end
(SIGTERM, then SIGKILL), whatever happened.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.server.local_cluster import LocalCluster, Proc

from ._wait import wait_until as _wait_until

#: these conditions make RPC calls: poll each 100 ms, not 10
wait_until = functools.partial(_wait_until, interval_s=0.1)

SESSION_S = 2.0
SPLITS = [b"%d" % i for i in range(1, 9)]  # 9 regions
CLIENTS = 4
LOAD = os.path.join(os.path.dirname(__file__), "_load_client.py")

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(local_cluster: LocalCluster) -> LocalCluster:
    return local_cluster


def _layout(conn: hedgerow.Connection) -> dict[str, str]:
    """region name -> its server's address, from meta."""
    return {
        r["name"].decode().rsplit(",", 1)[1]: f"{r['server_name'].decode()}:{r['port']}"
        for r in conn.table("t").regions()
    }


def _per_server(conn: hedgerow.Connection) -> collections.Counter[str]:
    return collections.Counter(_layout(conn).values())


def _master_of(conn: hedgerow.Connection) -> str:
    """The master a hedgerow+zk:// connection sends its admin calls to now."""
    address: str = conn.backend.transport.address
    return address


class Clients:
    """The 4 load processes: started, checked for progress, stopped, reported."""

    def __init__(self, url: str, where: str) -> None:
        self.dir = where
        os.makedirs(where, exist_ok=True)
        self.stop_file = os.path.join(where, "STOP")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.reports = [os.path.join(where, f"client{i}.json") for i in range(CLIENTS)]
        for i in range(CLIENTS):
            with open(os.path.join(where, f"client{i}.log"), "wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, LOAD, url, str(i), self.stop_file, self.reports[i]],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )

    def acked(self) -> list[int]:
        out = []
        for r in self.reports:
            try:
                with open(r + ".progress") as f:
                    out.append(int(f.read() or 0))
            except (FileNotFoundError, ValueError):
                out.append(0)
        return out

    def wait_progress(self, more: int = 20, timeout_s: float = 30) -> None:
        """Until every client has acknowledged ``more`` writes beyond now."""
        base = self.acked()
        wait_until(
            lambda: all(a >= b + more for a, b in zip(self.acked(), base, strict=True)),
            timeout_s,
            f"every client acknowledged {more} more writes",
        )

    def stop(self) -> list[dict[str, Any]]:
        with open(self.stop_file, "w"):
            pass
        out = []
        for p, r in zip(self.procs, self.reports, strict=True):
            p.wait(timeout=60)
            with open(r) as f:
                out.append(json.load(f))
        return out

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _sigterm_and_wait(p: Proc, timeout_s: float = 60) -> float:
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGTERM)
    assert p.popen is not None
    p.popen.wait(timeout=timeout_s)
    return time.monotonic() - t0


def test_graceful_operations_under_load(cluster: LocalCluster, tmp_path: Any) -> None:
    c = cluster
    c.up(servers=3, masters=2)
    conn = hedgerow.connect(c.url)
    conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
    rs = {p.address for p in c.procs if p.role == "regionserver"}
    wait_until(lambda: set(_per_server(conn)) == rs, 20, "9 regions on the region servers")
    clients = Clients(c.url, str(tmp_path / "clients"))
    timings: dict[str, float] = {}
    try:
        clients.wait_progress(timeout_s=60)

        # (a) a fourth region server joins and receives regions
        t0 = time.monotonic()
        fourth = c.spawn("regionserver")
        c.write_state()
        wait_until(lambda: _per_server(conn)[fourth.address] >= 2, 20, "the 4th server got regions")
        timings["(a) join until 2 regions"] = time.monotonic() - t0
        clients.wait_progress()

        # (b) decommission one region server: its regions move off; recommission it
        victim = next(p for p in c.procs if p.role == "regionserver")
        t0 = time.monotonic()
        conn.admin().decommission_region_servers([victim.address])
        assert _per_server(conn)[victim.address] == 0
        timings["(b) decommission (regions moved off)"] = time.monotonic() - t0
        clients.wait_progress()
        conn.admin().recommission_region_server(victim.address)
        conn.admin().balance()
        clients.wait_progress()

        # (c) move one region
        region, src = sorted(_layout(conn).items())[4]
        dest = next(a for a in sorted(_per_server(conn)) if a != src)
        t0 = time.monotonic()
        assert conn.admin().move(region, dest) == dest
        timings["(c) move"] = time.monotonic() - t0
        assert _layout(conn)[region] == dest
        clients.wait_progress()

        # (d) rolling restart: SIGTERM (drain) each region server, start a new one
        for old in [p for p in c.procs if p.role == "regionserver" and p.alive()]:
            t0 = time.monotonic()
            took = _sigterm_and_wait(old)
            timings[f"(d) SIGTERM {old.name} until exit"] = took
            assert old.popen is not None and old.popen.returncode == 0
            assert old.address not in _per_server(conn)
            # it comes back on its own port (a new start code: a new server to ZooKeeper)
            new = c.spawn("regionserver", port=int(old.address.rsplit(":", 1)[1]))
            assert new.address == old.address
            c.write_state()
            wait_until(
                lambda n=new: _per_server(conn)[n.address] >= 1, 20, "new server has regions"
            )
            timings[f"(d) {old.name} replaced by {new.name}"] = time.monotonic() - t0
            clients.wait_progress()

        # (e) the active master stops: opened connections follow the backup
        aconn = hedgerow.aio.connect(c.url)
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(aconn.tables())
            master = next(
                p
                for p in c.procs
                if p.role == "master" and p.alive() and p.address == _master_of(conn)
            )
            t0 = time.monotonic()
            _sigterm_and_wait(master, timeout_s=30)
            assert b"t" in [n if isinstance(n, bytes) else n.encode() for n in conn.tables()]
            timings["(e) master SIGTERM until an admin call answered"] = time.monotonic() - t0
            assert loop.run_until_complete(aconn.tables())
            assert _master_of(conn) != master.address
            clients.wait_progress()
        finally:
            loop.run_until_complete(aconn.close())
            loop.close()

        reports = clients.stop()
    finally:
        clients.kill()

    for name, s in timings.items():
        print(f"{name}: {s:.2f} s")
    for i, r in enumerate(reports):
        print(
            f"client {i}: {r['ops']} calls in {r['seconds']:.1f} s, {len(r['failures'])} failed, "
            f"longest stall {r['stall_s'] * 1000:.0f} ms at {r['stall_at_s']:.1f} s"
        )
    failures = [f for r in reports for f in r["failures"]]
    assert failures == [], failures[:20]
    # every acknowledged write is readable with its value
    t = conn.table("t")
    acked = sorted(k.encode() for r in reports for k in r["acked"])
    assert len(acked) >= CLIENTS * 100
    got = {k for k, v in t.scan(columns=[b"cf:v"]) if v.get(b"cf:v") == k}
    missing = [k for k in acked if k not in got]
    assert missing == [], (len(missing), missing[:10])
    conn.close()
