"""The client talks to many region servers (issue 14, "Client"; RFC 0001).

Three ``RpcServer``s on loopback each host a subset of table "t"'s regions (a
``RegionServerHandler`` refuses the others with NOT_SERVING_REGION, as a real region
server does); a fourth, the bootstrap, hosts none and answers the table's locations.
The regions' data lives in one ``FakeCluster`` (the shared filesystem), so a region
moved or re-homed keeps its rows.  Blocking and asyncio clients must send every call
to the server hosting its region (counted per server), follow a moved region, reach a
dead server's regions once they are re-homed, and raise WriteOutcomeUnknown for a
write whose connection broke after it was sent.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import NotServingRegion, WriteOutcomeUnknown
from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import RpcServer
from hedgerow.rpc import messages as m
from hedgerow.rpc.codes import ServerUnreachable

SPLITS = [b"d", b"h", b"m", b"r", b"w"]  # six regions
ROWS = [b"a1", b"b2", b"e1", b"g2", b"i1", b"l2", b"n1", b"q2", b"s1", b"v2", b"x1", b"z2"]


@dataclass
class FakeCluster:
    """What the master and the shared filesystem know: regions, who hosts each, the rows."""

    starts: list[bytes] = field(default_factory=lambda: [b"", *SPLITS])
    host: dict[str, int] = field(default_factory=dict)  # region name -> server index
    addresses: list[str] = field(default_factory=list)
    rows: dict[bytes, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def names(self) -> list[str]:
        return [f"t,{s.decode() or '-'}" for s in self.starts]

    def region_of(self, row: bytes) -> str:
        return self.names()[bisect.bisect_right(self.starts, row) - 1]

    def infos(self) -> list[tuple[m.RegionInfo, str]]:
        ends = [*self.starts[1:], b""]
        return [
            (m.RegionInfo("t", n, s, e), self.addresses[self.host[n]])
            for n, s, e in zip(self.names(), self.starts, ends, strict=True)
        ]

    def move(self, region: str, to: int) -> None:
        with self.lock:
            self.host[region] = to


def cell(row: bytes, value: bytes) -> Cell:
    return Cell(row, b"cf", b"q", 1000, KeyType.PUT, value, 1)


class RegionServerHandler:
    """A region server of ``FakeCluster`` (index ``me``; None: the bootstrap, hosting
    nothing). Counts the calls it serves and refuses by message name."""

    def __init__(self, cluster: FakeCluster, me: int | None) -> None:
        self.c = cluster
        self.me = me
        self.served: collections.Counter[str] = collections.Counter()
        self.refused: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self.delay_s = 0.0  # each multi-get part waits this long (fan-out test)
        self.break_on: bytes | None = None  # a write of this row drops the connection
        self.server: RpcServer | None = None

    def _count(self, what: str) -> None:
        with self.lock:
            self.served[what] += 1

    def _hosts(self, region: str) -> bool:
        return self.me is not None and self.c.host.get(region) == self.me

    def _check_rows(self, what: str, rows: Sequence[bytes]) -> None:
        for row in rows:
            if not self._hosts(self.c.region_of(row)):
                with self.lock:
                    self.refused[what] += 1
                raise NotServingRegion(f"row {row!r} is not served by server {self.me}")

    def _maybe_break(self, rows: Sequence[bytes]) -> None:
        """The write arrived; drop every connection before answering (once)."""
        if self.break_on is not None and self.break_on in rows:
            self.break_on = None
            srv = self.server
            assert srv is not None and srv._loop is not None
            done = threading.Event()

            def abort() -> None:
                for conn in list(srv._connections.values()):
                    if conn.transport is not None:
                        conn.transport.abort()
                done.set()

            srv._loop.call_soon_threadsafe(abort)
            done.wait(5)

    # ---- master side: every server answers locations (the bootstrap is asked) ---------
    def table_names(self) -> list[str]:
        return ["t"]

    def regions(self, table: str) -> list[m.RegionInfo]:
        return [r for r, _ in self.region_locations(table)]

    def region_locations(self, table: str) -> list[tuple[m.RegionInfo, str]]:
        self._count("regions")
        return self.c.infos()

    # ---- region server side -------------------------------------------------------------
    def check_region(self, table: str, region: str, rows: Any) -> None:
        if not self._hosts(region) or any(self.c.region_of(r) != region for r in rows):
            with self.lock:
                self.refused["region"] += 1
            raise NotServingRegion(f"region {region} is not served by server {self.me}")

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        self._check_rows("get", [row])
        self._count("get")
        v = self.c.rows.get(row)
        return [] if v is None else [cell(row, v)]

    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        self._check_rows("get_many", rows)
        self._count("get_many")
        time.sleep(self.delay_s)
        return [self.get_unchecked(r) for r in rows]

    def get_unchecked(self, row: bytes) -> list[Cell]:
        v = self.c.rows.get(row)
        return [] if v is None else [cell(row, v)]

    def mutate(
        self, table: str, mutations: Sequence[RowMutation], durability: Durability | None = None
    ) -> None:
        rows = [mu.row for mu in mutations]
        self._check_rows("mutate", rows)
        self._count("mutate")
        with self.c.lock:
            for mu in mutations:
                for op in mu.ops:
                    if isinstance(op, Put):
                        self.c.rows[mu.row] = op.value
        self._maybe_break(rows)

    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Durability | None = None,
    ) -> dict[tuple[bytes, bytes], int]:
        self._check_rows("increment", [row])
        self._count("increment")
        with self.c.lock:
            v = int(self.c.rows.get(row, b"0")) + sum(amounts.values())
            self.c.rows[row] = b"%d" % v
        self._maybe_break([row])
        return dict.fromkeys(amounts, v)

    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows of ``rng`` - every one of which must be in a region hosted here (a region
        server scans only its own regions; the client cuts the range at the server's
        last region and continues on the next server)."""
        lo, hi = (rng.stop, rng.start) if rng.reverse else (rng.start, rng.stop)
        lo_inc, hi_inc = (
            (rng.stop_inclusive, rng.start_inclusive)
            if rng.reverse
            else (rng.start_inclusive, rng.stop_inclusive)
        )

        def inside(r: bytes) -> bool:
            if lo and (r < lo or (r == lo and not lo_inc)):
                return False
            return not (hi and (r > hi or (r == hi and not hi_inc)))

        # every region overlapping the range must be ours
        names, starts = self.c.names(), self.c.starts
        ends = [*starts[1:], b""]
        for n, s, e in zip(names, starts, ends, strict=True):
            below = bool(lo) and bool(e) and (e < lo or (e == lo))  # type: ignore[operator]
            above = bool(hi) and (s > hi or (s == hi and not hi_inc))  # type: ignore[operator]
            if not below and not above and not self._hosts(n):
                with self.lock:
                    self.refused["scan"] += 1
                raise NotServingRegion(f"scan {rng} reaches region {n}, not on server {self.me}")
        self._count("scan")
        with self.c.lock:
            rows = sorted(r for r in self.c.rows if inside(r))
        if rng.reverse:
            rows.reverse()
        return iter([(r, [cell(r, self.c.rows[r])]) for r in rows])


@dataclass
class Cluster:
    c: FakeCluster
    servers: list[RpcServer]
    handlers: list[RegionServerHandler]
    boot: RpcServer
    boot_handler: RegionServerHandler

    @property
    def url(self) -> str:
        return f"hedgerow://127.0.0.1:{self.boot.port}"

    def served(self, what: str) -> list[int]:
        return [h.served[what] for h in self.handlers]

    def refusals(self) -> int:
        return sum(sum(h.refused.values()) for h in self.handlers)

    def reset(self) -> None:
        for h in [*self.handlers, self.boot_handler]:
            h.served.clear()
            h.refused.clear()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = FakeCluster()
    handlers = [RegionServerHandler(c, i) for i in range(3)]
    servers = [RpcServer(h) for h in handlers]
    for s, h in zip(servers, handlers, strict=True):
        s.start_in_thread()
        h.server = s
        c.addresses.append(f"127.0.0.1:{s.port}")
    for i, n in enumerate(c.names()):
        c.host[n] = i % 3  # regions 0,3 on server 0; 1,4 on 1; 2,5 on 2
    bh = RegionServerHandler(c, None)
    boot = RpcServer(bh)
    boot.start_in_thread()
    bh.server = boot
    cl = Cluster(c, servers, handlers, boot, bh)
    try:
        yield cl
    finally:
        for s in [*servers, boot]:
            s.stop()


def _fill(cl: Cluster) -> None:
    cl.c.rows.update({r: b"v-" + r for r in ROWS})


# ---- blocking client ---------------------------------------------------------------------


def test_each_call_goes_to_the_server_hosting_its_region(cluster: Cluster) -> None:
    conn = hedgerow.connect(cluster.url, timeout_s=5.0)
    try:
        t = conn.table("t")
        for r in ROWS:
            t.put(r, {b"cf:q": b"v-" + r})
        assert cluster.served("mutate") == [4, 4, 4]  # two rows per region
        assert [t.row(r)[b"cf:q"] for r in ROWS] == [b"v-" + r for r in ROWS]
        assert cluster.served("get") == [4, 4, 4]
        got = dict(t.rows(ROWS))
        assert got == {r: {b"cf:q": b"v-" + r} for r in ROWS}
        assert cluster.served("get_many") == [2, 2, 2]  # one part per region
        with t.batch() as b:
            for r in ROWS:
                b.put(r, {b"cf:q": b"w-" + r})
        assert cluster.served("mutate") == [6, 6, 6]
        # scans: forward and reverse over all six regions, and one inside a server's run
        assert [r for r, _ in t.scan()] == ROWS
        assert [r for r, _ in t.scan(reverse=True)] == ROWS[::-1]
        assert [r for r, _ in t.scan(row_start=b"f", row_stop=b"t")] == [
            b"g2",
            b"i1",
            b"l2",
            b"n1",
            b"q2",
            b"s1",
        ]
        assert [r for r, _ in t.scan(row_start=b"t", row_stop=b"e", reverse=True)] == [
            b"s1",
            b"q2",
            b"n1",
            b"l2",
            b"i1",
            b"g2",
            b"e1",
        ]
        assert sum(cluster.served("scan")) == 6 + 6 + 4 + 4  # one segment per region
        assert cluster.refusals() == 0
        # the bootstrap answered the one lookup and nothing else
        assert cluster.boot_handler.served == collections.Counter({"regions": 1})
        assert cluster.boot_handler.refused == collections.Counter()
    finally:
        conn.close()


def test_a_server_hosting_adjacent_regions_scans_them_in_one_segment(cluster: Cluster) -> None:
    _fill(cluster)
    for n in cluster.c.names()[:3]:
        cluster.c.move(n, 1)  # regions 0-2 on server 1, 3-5 spread
    conn = hedgerow.connect(cluster.url, timeout_s=5.0)
    try:
        assert [r for r, _ in conn.table("t").scan()] == ROWS
        assert cluster.served("scan") == [1, 2, 1]  # [0,1,2] on 1, then 3, 4, 5
        assert cluster.refusals() == 0
    finally:
        conn.close()


def test_multi_get_parts_go_to_all_servers_at_once(cluster: Cluster) -> None:
    _fill(cluster)
    for h in cluster.handlers:
        h.delay_s = 0.3
    conn = hedgerow.connect(cluster.url, timeout_s=5.0)
    try:
        t = conn.table("t")
        t.row(ROWS[0])  # look the table up first
        t0 = time.monotonic()
        assert len(t.rows(ROWS)) == len(ROWS)
        took = time.monotonic() - t0
        # 6 parts of 0.3 s on 3 servers: sent one after another it would take 1.8 s, per
        # server in turn 0.6 s (each server serves its two parts at once too)
        assert took < 0.55, took
    finally:
        conn.close()


def test_a_moved_region_is_found_again_without_error(cluster: Cluster) -> None:
    _fill(cluster)
    conn = hedgerow.connect(cluster.url, timeout_s=5.0)
    try:
        t = conn.table("t")
        assert [t.row(r)[b"cf:q"] for r in ROWS] == [b"v-" + r for r in ROWS]
        region = cluster.c.region_of(b"e1")  # on server 1
        cluster.c.move(region, 2)
        cluster.reset()
        t.put(b"e1", {b"cf:q": b"moved"})
        assert t.row(b"e1") == {b"cf:q": b"moved"}
        assert cluster.served("mutate") == [0, 0, 1] and cluster.served("get") == [0, 0, 1]
        assert cluster.handlers[1].refused["region"] == 1  # the one stale attempt
        assert cluster.boot_handler.served["regions"] == 1  # one fresh lookup
        cluster.c.move(region, 0)  # and back, under a multi-get and a scan
        assert len(t.rows(ROWS)) == len(ROWS)
        assert [r for r, _ in t.scan()] == ROWS
    finally:
        conn.close()


def test_a_dead_servers_regions_are_reached_after_rehoming(cluster: Cluster) -> None:
    _fill(cluster)
    conn = hedgerow.connect(cluster.url, timeout_s=10.0)
    try:
        t = conn.table("t")
        assert len(t.rows(ROWS)) == len(ROWS)  # a connection to every server
        backend: Any = conn._backend  # type: ignore[attr-defined]
        assert len(backend.pool.addresses()) == 3
        cluster.servers[2].stop()
        dead = cluster.c.addresses[2]

        def rehome() -> None:  # the master notices after a while
            time.sleep(0.2)
            for n, i in list(cluster.c.host.items()):
                if i == 2:
                    cluster.c.move(n, 0)

        th = threading.Thread(target=rehome)
        th.start()
        cluster.reset()
        assert t.row(b"i1") == {b"cf:q": b"v-i1"}  # region 2: refused while dead, then 0
        th.join()
        assert len(t.rows(ROWS)) == len(ROWS)
        t.put(b"x1", {b"cf:q": b"after"})
        assert [r for r, _ in t.scan()] == ROWS
        assert cluster.served("get")[2] == 0 and cluster.served("get")[0] == 1
        assert dead not in backend.pool.addresses()
    finally:
        conn.close()


def test_a_write_whose_connection_broke_after_sending_is_not_retried(cluster: Cluster) -> None:
    conn = hedgerow.connect(cluster.url, timeout_s=5.0)
    try:
        t = conn.table("t")
        t.put(b"a1", {b"cf:q": b"1"})
        h0 = cluster.handlers[0]
        h0.break_on = b"a1"
        with pytest.raises(WriteOutcomeUnknown, match="may or may not"):
            t.counter_inc(b"a1", b"cf:q")
        assert cluster.c.rows[b"a1"] == b"2"  # it was applied: the client cannot know
        assert h0.served["increment"] == 1  # and not sent twice
        h0.break_on = b"a1"
        with pytest.raises(WriteOutcomeUnknown):  # a put at "now" is not repeated either
            t.put(b"a1", {b"cf:q": b"x"})
        assert h0.served["mutate"] == 2
        h0.break_on = b"a1"
        t.put(b"a1", {b"cf:q": b"y"}, timestamp=5)  # an explicit timestamp: sent again
        assert h0.served["mutate"] == 4 and cluster.c.rows[b"a1"] == b"y"
        h0.break_on = b"a1"
        with t.batch(timestamp=6) as b:  # timestamped puts, one part broken: resent
            for r in ROWS:
                b.put(r, {b"cf:q": b"z"})
        assert all(cluster.c.rows[r] == b"z" for r in ROWS)
    finally:
        conn.close()


def test_an_unreachable_server_is_retried_until_the_deadline(cluster: Cluster) -> None:
    _fill(cluster)
    conn = hedgerow.connect(cluster.url, timeout_s=0.5)
    try:
        t = conn.table("t")
        cluster.servers[1].stop()
        t0 = time.monotonic()
        with pytest.raises(ServerUnreachable):
            t.row(b"e1")  # never re-homed
        assert 0.2 < time.monotonic() - t0 < 2.0  # backoff stops before the deadline
        assert t.row(b"a1") == {b"cf:q": b"v-a1"}  # other servers unaffected
    finally:
        conn.close()


# ---- asyncio client ----------------------------------------------------------------------


def test_asyncio_client_routes_moves_and_rehomes(cluster: Cluster) -> None:
    async def main() -> None:
        conn = hedgerow.aio.connect(cluster.url, timeout_s=10.0)
        try:
            t = conn.table("t")
            for r in ROWS:
                await t.put(r, {b"cf:q": b"v-" + r})
            assert cluster.served("mutate") == [4, 4, 4]
            assert [(await t.row(r))[b"cf:q"] for r in ROWS] == [b"v-" + r for r in ROWS]
            assert cluster.served("get") == [4, 4, 4]
            assert len(await t.rows(ROWS)) == len(ROWS)
            assert cluster.served("get_many") == [2, 2, 2]
            assert [r async for r, _ in t.scan()] == ROWS
            assert [r async for r, _ in t.scan(reverse=True)] == ROWS[::-1]
            assert cluster.refusals() == 0
            # a moved region
            cluster.c.move(cluster.c.region_of(b"n1"), 0)
            cluster.reset()
            await t.put(b"n1", {b"cf:q": b"moved"})
            assert cluster.served("mutate") == [1, 0, 0]
            # a dead server, re-homed
            cluster.servers[1].stop()
            for n, i in list(cluster.c.host.items()):
                if i == 1:
                    cluster.c.move(n, 2)
            assert len(await t.rows(ROWS)) == len(ROWS)
            assert [r async for r, _ in t.scan()] == ROWS
            # a write whose connection broke after it was sent
            await t.put(b"a1", {b"cf:q": b"1"})
            cluster.handlers[0].break_on = b"a1"
            with pytest.raises(WriteOutcomeUnknown):
                await t.counter_inc(b"a1", b"cf:q")
            assert cluster.handlers[0].served["increment"] == 1
        finally:
            await conn.close()

    asyncio.run(main())


def test_asyncio_fan_out_is_concurrent_across_servers(cluster: Cluster) -> None:
    _fill(cluster)
    for h in cluster.handlers:
        h.delay_s = 0.3

    async def main() -> float:
        conn = hedgerow.aio.connect(cluster.url, timeout_s=5.0)
        try:
            t = conn.table("t")
            await t.row(ROWS[0])
            t0 = time.monotonic()
            assert len(await t.rows(ROWS)) == len(ROWS)
            return time.monotonic() - t0
        finally:
            await conn.close()

    took = asyncio.run(main())
    assert took < 0.55, took


def test_locations_name_the_rpc_address_of_a_standalone_server(standalone: Any) -> None:
    """``region_locations`` answers "host:port" clients can reach: the standalone server's
    own RPC address (Engine.set_server_name at start)."""
    h, p = standalone.rpc_address
    conn = hedgerow.connect(f"hedgerow://127.0.0.1:{p}")
    try:
        conn.create_table("t", {"cf": {}}, split_keys=[b"m"])  # type: ignore[call-arg]
        backend: Any = conn._backend  # type: ignore[attr-defined]
        from hedgerow.rpc.operations import Operations

        locs = backend.call(Operations.region_locations, "t")
        assert [s for _, s in locs] == [f"{h}:{p}", f"{h}:{p}"]
        conn.table("t").put(b"a", {b"cf:q": b"1"})
        assert backend.pool.addresses() == []  # the bootstrap serves it: no second connection
    finally:
        conn.close()


# ---- the pool and the scan cut, without servers ---------------------------------------------


def test_pool_maps_addresses_to_transports() -> None:
    from hedgerow.rpc.pool import ServerPool, parse_address

    class T:
        def __init__(self, host: str, port: int, *, timeout_s: float = 1.0) -> None:
            self.host, self.port, self.timeout_s = host, port, timeout_s

    boot = T("10.0.0.1", 16000, timeout_s=3.0)
    pool: ServerPool[T] = ServerPool(boot)
    assert pool.transport_for(None) is boot
    assert pool.transport_for("") is boot and pool.transport_for("local:0") is boot
    assert pool.transport_for("10.0.0.1:16000") is boot
    assert pool.transport_for("0.0.0.0:16000") is boot  # a wildcard: the bootstrap's host
    a = pool.transport_for("10.0.0.2:16020")
    assert (a.host, a.port, a.timeout_s) == ("10.0.0.2", 16020, 3.0)  # the same settings
    assert pool.transport_for("10.0.0.2:16020") is a and pool.opened == 1
    pool.drop("10.0.0.2:16020", boot)  # not the one in the map: kept
    assert pool.transport_for("10.0.0.2:16020") is a
    pool.drop("10.0.0.2:16020", a)
    assert pool.transport_for("10.0.0.2:16020") is not a and pool.opened == 2
    assert len(pool.take_all()) == 2  # the live one and the dropped one, to close
    assert parse_address("h:99999") is None and parse_address("nocolon") is None


def test_reverse_open_below_an_excluded_row_checks_no_row() -> None:
    """A reverse continuation names the region ending at its (excluded) start row, which
    does not hold that row: the server's region check must not ask it to."""
    from hedgerow.rpc.dispatch import _scan_first_rows

    assert _scan_first_rows(ScanRange(b"r", False, reverse=True)) == []
    assert _scan_first_rows(ScanRange(b"r", True, reverse=True)) == [b"r"]
    assert _scan_first_rows(ScanRange(b"r", False)) == [b"r"]
    assert _scan_first_rows(ScanRange(None)) == [b""]


def test_scan_is_cut_at_the_end_of_a_servers_run_of_regions() -> None:
    from hedgerow.rpc.locator import TableLocations
    from hedgerow.rpc.routing import _clip

    @dataclass
    class R:
        name: str
        start_key: bytes
        end_key: bytes
        server: str

    loc = TableLocations(
        [
            R("a", b"", b"d", "s1"),
            R("b", b"d", b"h", "s1"),
            R("c", b"h", b"m", "s2"),
            R("d", b"m", b"", "s1"),
        ]
    )
    seg, cont = _clip(loc, 0, ScanRange(b"b", True, b"z"))
    assert (seg.start, seg.stop, seg.stop_inclusive) == (b"b", b"h", False)
    assert cont is not None and (cont.start, cont.start_inclusive, cont.stop) == (b"h", True, b"z")
    assert _clip(loc, 0, ScanRange(b"b", True, b"h")) == (ScanRange(b"b", True, b"h"), None)
    seg, cont = _clip(loc, 0, ScanRange(b"b", True, b"h", True))  # row h is on s2
    assert cont is not None and cont.start == b"h"
    assert _clip(loc, 3, ScanRange(b"n")) == (ScanRange(b"n"), None)  # the last region
    seg, cont = _clip(loc, 3, ScanRange(None, reverse=True))  # reverse from the end
    assert (seg.stop, seg.stop_inclusive) == (b"m", True)
    assert cont is not None and (cont.start, cont.start_inclusive) == (b"m", False)
    assert loc.index_below(b"m") == 2 and loc.index(b"m") == 3
    assert _clip(loc, 1, ScanRange(b"g", reverse=True)) == (ScanRange(b"g", reverse=True), None)
