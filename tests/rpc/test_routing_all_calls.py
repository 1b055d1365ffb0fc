"""RFC 0001, second part: every data call is region-addressed, fanned-out parts travel at
once, the asyncio client routes the same way, REGIONS names servers, and a version-1
peer is still served."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import NotServingRegion
from hedgerow.model.compare import value_comparison
from hedgerow.model.mutation import Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
from hedgerow.rpc import messages as m
from hedgerow.rpc.aio_client import AsyncRpcBackend
from hedgerow.rpc.client import Call, RpcBackend, _bool, _bytes, _ints, _scan_batch
from hedgerow.rpc.transport import InMemoryTransport
from hedgerow.rpc.wire_format import MessageType as T
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[StandaloneServer]:
    s = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def _url(srv: StandaloneServer) -> str:
    return f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"


def _backend(conn: hedgerow.Connection) -> RpcBackend:
    b = conn.backend
    assert isinstance(b, RpcBackend)
    return b


def _split(srv: StandaloneServer, row: bytes) -> None:
    other = hedgerow.connect(_url(srv))  # behind the first client's back
    try:
        other.admin().split("t", row)
    finally:
        other.close()


def _record_checks(srv: StandaloneServer) -> list[tuple[str, tuple[bytes, ...]]]:
    """Every region check the server makes: (region, rows)."""
    engine = srv.engine
    assert engine is not None
    seen: list[tuple[str, tuple[bytes, ...]]] = []
    check = engine.check_region

    def recording(table: str, region: str, rows: Any) -> None:
        seen.append((region, tuple(rows)))
        check(table, region, rows)

    engine.check_region = recording  # type: ignore[method-assign]
    return seen


def test_one_row_writes_and_scanner_opens_are_refused_for_a_wrong_region(
    srv: StandaloneServer,
) -> None:
    conn = hedgerow.connect(_url(srv))
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    b = _backend(conn)
    left, right = [r.name for r in b.regions("t")]
    mut = RowMutation(b"a", (Put(b"cf", b"q", b"1"),))
    calls: dict[str, Callable[[str], Call[Any]]] = {
        "increment": lambda r: Call(
            T.INCREMENT, m.IncrementRequest("t", b"a", {(b"cf", b"n"): 1}, None, r), _ints
        ),
        "append": lambda r: Call(
            T.APPEND, m.AppendRequest("t", b"a", {(b"cf", b"s"): b"x"}, None, r), _bytes
        ),
        "check_and_mutate": lambda r: Call(
            T.CHECK_AND_MUTATE,
            m.CheckAndMutateRequest("t", b"a", b"cf", b"q", "=", None, mut, None, r),
            _bool,
        ),
        "open_scanner": lambda r: Call(
            T.OPEN_SCANNER,
            m.OpenScannerRequest("t", ScanRange(b"a"), ReadSpec(), 10, 1 << 20, r),
            _scan_batch,
        ),
    }
    for what, make in calls.items():
        with pytest.raises(NotServingRegion, match=right):
            b._run(make(right))
        b._run(make(left))  # the right region serves it
        assert what
    conn.close()


def test_each_call_retries_once_after_a_split_it_did_not_see(srv: StandaloneServer) -> None:
    conn = hedgerow.connect(_url(srv))
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    with t.batch() as batch:
        for i in range(100):
            batch.put(b"r%03d" % i, {b"cf:q": b"v"})
    loc = _backend(conn).locator
    assert t.row(b"r000") == {b"cf:q": b"v"}
    assert loc.refreshes == 1
    ops: list[tuple[bytes, Callable[[], object]]] = [
        (b"r050", lambda: t.increment(b"r010", {b"cf:n": 5})),
        (b"r025", lambda: t.append(b"r010", {b"cf:s": b"x"})),
        (b"r012", lambda: t.check_and_mutate(b"r010", b"cf:q", b"v", put={b"cf:q": b"w"})),
        (b"r006", lambda: [k for k, _ in t.scan(row_start=b"r003")]),
    ]
    results = []
    for n, (split_row, op) in enumerate(ops, start=2):
        _split(srv, split_row)  # the cached region holding r010 (or r003) is gone
        results.append(op())
        assert loc.refreshes == n, "expected exactly one fresh lookup per split"
    assert results[0] == {b"cf:n": 5}
    assert results[1] == {b"cf:s": b"x"}
    assert results[2] is True
    assert results[3] == [b"r%03d" % i for i in range(3, 100)]
    assert len(conn.admin().list_regions("t")) == 5
    conn.close()


def test_parts_of_a_multi_row_call_are_in_flight_together(srv: StandaloneServer) -> None:
    conn = hedgerow.connect(_url(srv))
    conn.create_table("t", {"cf": {}}, split_keys=[b"h", b"p"])
    t = conn.table("t")
    rows = [b"a", b"i", b"q"]  # one per region
    for r in rows:
        t.put(r, {b"cf:q": r})
    engine = srv.engine
    assert engine is not None
    # each region's part waits until all three are being served at once: parts sent one
    # after another would break the barrier (timeout) and fail the call
    barrier = threading.Barrier(3, timeout=5)
    get_many = engine.get_many

    def together(table: str, part: Any, spec: ReadSpec) -> Any:
        barrier.wait()
        return get_many(table, part, spec)

    engine.get_many = together  # type: ignore[method-assign]
    assert t.rows([b"q", b"a", b"i"]) == [
        (b"q", {b"cf:q": b"q"}),
        (b"a", {b"cf:q": b"a"}),
        (b"i", {b"cf:q": b"i"}),
    ]
    engine.get_many = get_many  # type: ignore[method-assign]
    conn.close()


def test_only_the_refused_part_of_a_batch_is_resent(srv: StandaloneServer) -> None:
    conn = hedgerow.connect(_url(srv))
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    t = conn.table("t")
    t.put(b"a", {b"cf:q": b"0"})  # caches the two-region layout
    left, right = [r.name for r in _backend(conn).regions("t")]
    _split(srv, b"t")  # the right region becomes [m, t) and [t, )
    seen = _record_checks(srv)
    with t.batch() as batch:
        for k in (b"a", b"n", b"z"):
            batch.put(k, {b"cf:q": k})
    by_region: dict[str, list[tuple[bytes, ...]]] = {}
    for region, rows in seen:
        by_region.setdefault(region, []).append(rows)
    assert by_region[left] == [(b"a",)]  # sent once, never again
    assert by_region[right] == [(b"n", b"z")]  # refused: its region split
    daughters = [r for r in by_region if r not in (left, right)]
    assert sorted(by_region[d][0] for d in daughters) == [(b"n",), (b"z",)]
    assert [k for k, _ in t.scan()] == [b"a", b"n", b"z"]
    conn.close()


def test_the_asyncio_client_routes_and_retries_the_same_way(srv: StandaloneServer) -> None:
    async def main() -> None:
        conn = hedgerow.aio.connect(_url(srv))
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        await t.put(b"a", {b"cf:q": b"1"})
        b = conn.backend
        assert isinstance(b, AsyncRpcBackend)
        assert b.locator.refreshes == 1
        await asyncio.to_thread(_split, srv, b"m")
        assert await t.row(b"a") == {b"cf:q": b"1"}
        assert b.locator.refreshes == 2
        await asyncio.to_thread(_split, srv, b"f")
        assert await t.increment(b"a", {b"cf:n": 2}) == {b"cf:n": 2}
        assert b.locator.refreshes == 3
        await t.put(b"g", {b"cf:q": b"2"})
        await asyncio.to_thread(_split, srv, b"c")  # the region the scan starts in
        got = [k async for k, _ in t.scan()]
        assert got == [b"a", b"g"]
        assert b.locator.refreshes == 4
        rows = await t.rows([b"g", b"a"])  # two regions, gathered
        assert [k for k, _ in rows] == [b"g", b"a"]
        regions = await t.regions()
        port = srv.rpc_address[1]
        assert {(r["server_name"], r["port"]) for r in regions} == {(b"127.0.0.1", port)}
        await conn.close()

    asyncio.run(main())


def test_regions_name_the_hosting_server(srv: StandaloneServer) -> None:
    conn = hedgerow.connect(_url(srv))
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    port = srv.rpc_address[1]
    assert {r.server for r in _backend(conn).regions("t")} == {f"127.0.0.1:{port}"}
    regions = conn.table("t").regions()
    assert [(r["server_name"], r["port"]) for r in regions] == [(b"127.0.0.1", port)] * 2
    assert [r["id"] for r in regions] == [int(r["name"][-10:]) for r in regions]
    conn.close()


class _VersionOne(InMemoryTransport):
    """A transport whose server answered the handshake with protocol version 1."""

    def __init__(self, handler: Any) -> None:
        super().__init__(handler)
        self.protocol_version = 1


def test_a_version_one_server_gets_no_region_fields(tmp_path: Path) -> None:
    engine = hedgerow.connect(str(tmp_path / "db")).backend
    engine.create_table(  # type: ignore[attr-defined]
        TableDescriptor("t", {b"cf": ColumnFamilyDescriptor(b"cf")}), [b"m"]
    )
    checked: list[str] = []
    check = engine.check_region  # type: ignore[attr-defined]

    def recording(table: str, region: str, rows: Any) -> None:
        checked.append(region)
        check(table, region, rows)

    engine.check_region = recording  # type: ignore[attr-defined]
    transports = ((_VersionOne(engine), False), (InMemoryTransport(engine), True))
    for n, (transport, addressed) in enumerate(transports, start=1):
        checked.clear()
        b = RpcBackend(transport)
        b.mutate("t", [RowMutation(k, (Put(b"cf", b"q", k),)) for k in (b"a", b"z")])
        assert [c.value for c in b.get("t", b"z", ReadSpec())] == [b"z"]
        assert b.increment("t", b"a", {(b"cf", b"n"): 1}) == {(b"cf", b"n"): n}
        ok = b.check_and_mutate(
            "t", b"a", b"cf", b"q", value_comparison(b"a", "="), RowMutation(b"a", ())
        )
        assert ok
        assert [r for r, _ in b.scan("t", ScanRange(), ReadSpec())] == [b"a", b"z"]
        assert bool(checked) is addressed
    engine.close()  # type: ignore[attr-defined]
