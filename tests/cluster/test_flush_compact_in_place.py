"""Flush and major compaction of a table whose regions live on ``hedgerow regionserver``
processes run on those servers while the regions keep serving (FLUSH_REGION,
COMPACT_REGION; docs/formats/rpc.md#master-to-region-server).

Before, the master closed each region, compacted its files itself and reopened it: a
client writing and reading meanwhile was answered NOT_SERVING_REGION and retried. Here a
client thread writes and reads through ``hedgerow+zk://`` the whole time; the test counts
its failed calls and the NOT_SERVING_REGION answers every region server gave (its
``not_serving_answers`` status counter), and reads the region servers' logs for any
region closed or opened: all must stay at zero. After the major compaction each region
has one store file, and every row reads back.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

import hedgerow
from hedgerow.errors import InvalidArgument
from hedgerow.rpc import messages as m
from hedgerow.rpc.codes import ProtocolError
from hedgerow.server.local_cluster import LocalCluster

SPLITS = [b"3", b"6"]  # 3 regions
ROWS = [b"%d-%03d" % (i, j) for i in range(10) for j in range(20)]


@pytest.fixture
def cluster(local_cluster: LocalCluster) -> LocalCluster:
    return local_cluster


def _wait(cond: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting until {what}")


def _locations(conn: hedgerow.Connection) -> dict[bytes, str]:
    return {
        r["name"]: f"{r['server_name'].decode()}:{r['port']}" for r in conn.table("t").regions()
    }


class _Load:
    """A client thread: put a new row, read back an earlier acknowledged one, repeat."""

    def __init__(self, url: str) -> None:
        self.conn = hedgerow.connect(url, timeout_s=30.0)
        self.acked: list[bytes] = []
        self.failures: list[str] = []
        self.ops = 0
        self.stall_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)

    def start(self) -> _Load:
        self._thread.start()
        return self

    def _timed(self, what: str, fn: Any) -> Any:
        t0 = time.monotonic()
        try:
            return fn()
        except Exception as e:
            self.failures.append(f"{what}: {e!r}")
            return None
        finally:
            self.ops += 1
            self.stall_s = max(self.stall_s, time.monotonic() - t0)

    def _run(self) -> None:
        t = self.conn.table("t")
        rng = random.Random(7)
        i = 0
        while not self._stop.is_set():
            key = b"%d-w%06d" % (i % 10, i)
            i += 1
            if self._timed(f"put {key!r}", lambda k=key: t.put(k, {b"cf:v": k}) or True):
                self.acked.append(key)
            old = rng.choice(self.acked) if self.acked else ROWS[i % len(ROWS)]
            got = self._timed(f"get {old!r}", lambda o=old: t.row(o, columns=[b"cf:v"]))
            if got is not None and got.get(b"cf:v") != old:
                self.failures.append(f"get {old!r}: read {got!r}")
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.conn.close()


def _store_files(direct: dict[str, hedgerow.Connection]) -> dict[str, int]:
    """Store files per region of "t", from each region server's own status."""
    out: dict[str, int] = {}
    for dc in direct.values():
        for r in dc.admin().status()["region_metrics"]:
            if r["table"] == "t":
                out[r["name"]] = r["store_files"]
    return out


def _not_serving(direct: dict[str, hedgerow.Connection]) -> int:
    return sum(int(dc.admin().status()["not_serving_answers"]) for dc in direct.values())


def _log_lines(c: LocalCluster, marker: str) -> int:
    n = 0
    for p in c.procs:
        if p.role == "regionserver":
            with open(p.log, encoding="utf-8", errors="replace") as f:
                n += sum(marker in line for line in f)
    return n


def test_flush_and_major_compact_keep_the_regions_serving(cluster: LocalCluster) -> None:
    c = cluster
    c.spawn("master")
    for _ in range(2):
        c.spawn("regionserver")
    c.write_state()
    rs = {p.address for p in c.procs if p.role == "regionserver"}
    conn = hedgerow.connect(c.url)
    conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
    _wait(lambda: set(_locations(conn).values()) <= rs, 20, "the regions on the servers")
    with conn.table("t").batch() as b:
        for k in ROWS:
            b.put(k, {b"cf:v": k})
    where = _locations(conn)
    assert len(where) == 3
    direct = {a: hedgerow.connect(f"hedgerow://{a}") for a in rs}
    load: _Load | None = None
    try:
        closes = _log_lines(c, "closed region")
        opens = _log_lines(c, "opened region")
        not_serving = _not_serving(direct)
        load = _Load(c.url).start()
        _wait(lambda: len(load.acked) >= 50, 30, "the client wrote 50 rows")

        t0 = time.monotonic()
        conn.admin().flush("t")
        flush_s = time.monotonic() - t0
        n = len(load.acked)
        _wait(lambda: len(load.acked) >= n + 60, 30, "60 more rows written")
        conn.admin().flush("t")
        before = _store_files(direct)
        assert set(before) == {name.decode().rsplit(",", 1)[-1] for name in where}, before
        assert min(before.values()) >= 2, before  # one file per flush

        n = len(load.acked)
        _wait(lambda: len(load.acked) >= n + 60, 30, "60 more rows written")
        t0 = time.monotonic()
        conn.admin().major_compact("t")
        compact_s = time.monotonic() - t0
        after = _store_files(direct)
        n = len(load.acked)
        _wait(lambda: len(load.acked) >= n + 60, 30, "60 more rows written after")
        load.stop()

        print(
            f"\nflush {flush_s:.3f} s, major compact {compact_s:.3f} s; client: "
            f"{load.ops} calls, {len(load.failures)} failed, longest {load.stall_s:.3f} s; "
            f"store files per region {sorted(before.values())} -> {sorted(after.values())}"
        )
        assert load.failures == [], load.failures[:5]
        assert _not_serving(direct) - not_serving == 0  # no client was sent elsewhere
        assert _log_lines(c, "closed region") == closes  # no region closed...
        assert _log_lines(c, "opened region") == opens  # ...or reopened
        assert _log_lines(c, "in place") >= 2 * 3 + 3  # 2 flushes, 1 compaction, 3 regions
        assert set(after.values()) == {1}, after
        assert _locations(conn) == where  # every region where it was

        t = conn.table("t")
        want = sorted([*ROWS, *load.acked])
        assert [k for k, v in t.scan(columns=[b"cf:v"]) if v.get(b"cf:v") == k] == want
        assert t.row(load.acked[-1]) == {b"cf:v": load.acked[-1]}
    finally:
        if load is not None:
            load.stop()
        for dc in direct.values():
            dc.close()
        conn.close()


def test_flush_and_compact_region_messages_round_trip_and_check_their_fields() -> None:
    f = m.FlushRegionRequest(7, "t", "r1")
    assert m.FlushRegionRequest.from_wire(f.to_wire()) == f
    cr = m.CompactRegionRequest(7, "t", "r1", True)
    assert m.CompactRegionRequest.from_wire(cr.to_wire()) == cr
    with pytest.raises(ProtocolError, match="compact region"):
        m.CompactRegionRequest.from_wire([7, "t", "r1"])
    with pytest.raises(ProtocolError, match="major"):
        m.CompactRegionRequest.from_wire([7, "t", "r1", 1])
    with pytest.raises(ProtocolError, match="flush region"):
        m.FlushRegionRequest.from_wire([7, "t"])


def test_an_engine_refuses_flush_and_compact_region(tmp_path: Any) -> None:
    from hedgerow.engine import Engine

    engine = Engine(str(tmp_path / "db"))
    try:
        with pytest.raises(InvalidArgument, match="hedgerow regionserver"):
            engine.flush_region(1, "t", "r")
        with pytest.raises(InvalidArgument, match="hedgerow regionserver"):
            engine.compact_region(1, "t", "r", True)
    finally:
        engine.close()
