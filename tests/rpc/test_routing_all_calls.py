"""RFC 0001, second part: one-row writes and scanner opens name their region and are
refused by any other, the asyncio client routes across successive splits, and a
version-1 peer is still served. (Per-call retries: test_routing_retries.py; fan-out:
test_routing_fanout.py; REGIONS' servers: test_region_locations.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
from hedgerow.rpc.client import RpcBackend
from hedgerow.rpc.operations import OPERATIONS
from hedgerow.rpc.operations import MessageType as T
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.rpc.routing import Call, one
from hedgerow.rpc.transport import InMemoryTransport
from hedgerow.server.standalone import StandaloneServer

from ._routing import split_behind, url_of

_cells = OPERATIONS["get"].answer
_bool = OPERATIONS["check_and_mutate"].answer
_bytes = OPERATIONS["append"].answer
_ints = OPERATIONS["increment"].answer
_scan_batch = OPERATIONS["scan"].answer


_MUT = RowMutation(b"a", (Put(b"cf", b"q", b"1"),))


def _open(rng: ScanRange) -> Callable[[str], Call[Any]]:
    return lambda r: Call(
        T.OPEN_SCANNER, m.OpenScannerRequest("t", rng, ReadSpec(), 10, 1 << 20, r), _scan_batch
    )


#: each call for row b"a" (scans: starting in the left region), by the region it names
CALLS: dict[str, Callable[[str], Call[Any]]] = {
    "increment": lambda r: Call(
        T.INCREMENT, m.IncrementRequest("t", b"a", {(b"cf", b"n"): 1}, None, r), _ints
    ),
    "append": lambda r: Call(
        T.APPEND, m.AppendRequest("t", b"a", {(b"cf", b"s"): b"x"}, None, r), _bytes
    ),
    "check_and_mutate": lambda r: Call(
        T.CHECK_AND_MUTATE,
        m.CheckAndMutateRequest("t", b"a", b"cf", b"q", "=", None, _MUT, None, r),
        _bool,
    ),
    "open_scanner": _open(ScanRange(b"a")),
    "open_scanner_from_the_start": _open(ScanRange()),  # the table's first region
    "open_reverse_scanner_from_a": _open(ScanRange(b"a", reverse=True)),
}


def _backend(conn: hedgerow.Connection) -> RpcBackend:
    b = conn.backend
    assert isinstance(b, RpcBackend)
    return b


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_call_naming_another_region_is_refused(standalone: StandaloneServer, name: str) -> None:
    conn = hedgerow.connect(url_of(standalone))
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    b = _backend(conn)
    left, right = [r.name for r in b.call(Ops.regions, "t")]
    make = CALLS[name]
    with pytest.raises(NotServingRegion, match=right):
        b.drive(one(make(right)))
    with pytest.raises(NotServingRegion, match="0000009999"):
        b.drive(one(make("0000009999")))  # no such region
    b.drive(one(make(left)))  # the region holding the row serves it
    conn.close()


def test_a_reverse_scan_from_the_end_is_refused_by_a_closed_region(
    standalone: StandaloneServer,
) -> None:
    """A reverse scan from the table's end names the last region, which must be open
    (while it is, it is still the last one)."""
    conn = hedgerow.connect(url_of(standalone))
    conn.create_table("t", {"cf": {}})
    b = _backend(conn)
    (only,) = [r.name for r in b.call(Ops.regions, "t")]
    rev = _open(ScanRange(reverse=True))
    b.drive(one(rev(only)))
    split_behind(standalone, b"m")
    with pytest.raises(NotServingRegion, match=only):
        b.drive(one(rev(only)))
    last = b.call(Ops.regions, "t")[-1].name
    b.drive(one(rev(last)))
    conn.close()


def test_the_asyncio_client_routes_and_retries_the_same_way(standalone: StandaloneServer) -> None:
    async def main() -> None:
        conn = hedgerow.aio.connect(url_of(standalone))
        await conn.create_table("t", {"cf": {}})
        t = conn.table("t")
        await t.put(b"a", {b"cf:q": b"1"})
        b = conn.backend
        assert isinstance(b, AsyncRpcBackend)
        assert b.locator.refreshes == 1
        await asyncio.to_thread(split_behind, standalone, b"m")
        assert await t.row(b"a") == {b"cf:q": b"1"}
        assert b.locator.refreshes == 2
        await asyncio.to_thread(split_behind, standalone, b"f")
        assert await t.increment(b"a", {b"cf:n": 2}) == {b"cf:n": 2}
        assert b.locator.refreshes == 3
        await t.put(b"g", {b"cf:q": b"2"})
        await asyncio.to_thread(split_behind, standalone, b"c")  # the region the scan starts in
        got = [k async for k, _ in t.scan()]
        assert got == [b"a", b"g"]
        assert b.locator.refreshes == 4
        rows = await t.rows([b"g", b"a"])  # two regions, gathered
        assert [k for k, _ in rows] == [b"g", b"a"]
        regions = await t.regions()
        port = standalone.rpc_address[1]
        assert {(r["server_name"], r["port"]) for r in regions} == {(b"127.0.0.1", port)}
        await conn.close()

    asyncio.run(main())


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
        b.call(Ops.mutate, "t", [RowMutation(k, (Put(b"cf", b"q", k),)) for k in (b"a", b"z")])
        assert [c.value for c in b.call(Ops.get, "t", b"z", ReadSpec())] == [b"z"]
        assert b.call(Ops.increment, "t", b"a", {(b"cf", b"n"): 1}) == {(b"cf", b"n"): n}
        ok = b.call(
            Ops.check_and_mutate,
            "t",
            b"a",
            b"cf",
            b"q",
            value_comparison(b"a", "="),
            RowMutation(b"a", ()),
        )
        assert ok
        assert [r for r, _ in b.call(Ops.scan, "t", ScanRange(), ReadSpec())] == [b"a", b"z"]
        assert bool(checked) is addressed
    engine.close()  # type: ignore[attr-defined]
