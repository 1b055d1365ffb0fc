"""RpcBackend end to end against the embedded engine, in memory and over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.errors import (
    ClosedError,
    FamilyNotFound,
    FilterSyntaxError,
    InvalidArgument,
    NotACounter,
    TableDisabled,
    TableExists,
    TableNotFound,
)
from hedgerow.model import filters as F
from hedgerow.model.compare import value_comparison
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import DeleteColumn, DeleteRow, Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
from hedgerow.rpc import InMemoryTransport, RpcBackend, RpcServer, SocketTransport
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.operations import Operations as Ops

DESC = TableDescriptor(
    "t", {b"cf": ColumnFamilyDescriptor(b"cf", max_versions=3), b"g": ColumnFamilyDescriptor(b"g")}
)


@pytest.fixture(params=["memory", "socket"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[RpcBackend, object]]:
    conn = hedgerow.connect(str(tmp_path / "data"))
    engine = conn.backend
    if request.param == "memory":
        b = RpcBackend(InMemoryTransport(engine), scan_batch_rows=7)
        yield b, engine
        b.close()
    else:
        srv = RpcServer(engine)
        srv.start_in_thread()
        b = RpcBackend(SocketTransport(srv.host, srv.port, timeout_s=10), scan_batch_rows=7)
        yield b, engine
        b.close()
        srv.stop()
    conn.close()


def test_tables_ddl(pair: tuple[RpcBackend, object]) -> None:
    b, engine = pair
    b.call(Ops.create_table, DESC, [b"m"])
    assert b.call(Ops.table_names) == ["t"]
    assert b.call(Ops.descriptor, "t") == DESC
    regions = b.call(Ops.regions, "t")
    assert [(r.start_key, r.end_key) for r in regions] == [(b"", b"m"), (b"m", b"")]
    assert regions[0].table == "t" and regions[0].name
    with pytest.raises(TableExists):
        b.call(Ops.create_table, DESC)
    with pytest.raises(TableNotFound):
        b.call(Ops.descriptor, "nope")
    assert b.call(Ops.is_table_enabled, "t")
    b.call(Ops.disable_table, "t")
    assert not b.call(Ops.is_table_enabled, "t")
    with pytest.raises(TableDisabled):
        b.call(Ops.get, "t", b"r", ReadSpec())
    b.call(Ops.enable_table, "t")
    new = TableDescriptor("t", {**DESC.families, b"h": ColumnFamilyDescriptor(b"h")})
    b.call(Ops.disable_table, "t")
    b.call(Ops.modify_table, new)
    b.call(Ops.enable_table, "t")
    assert set(b.call(Ops.descriptor, "t").families) == {b"cf", b"g", b"h"}
    b.call(Ops.mutate, "t", [RowMutation(b"a", (Put(b"cf", b"q", b"1"),))])
    b.call(Ops.flush_table, "t")
    b.call(Ops.compact_table, "t", major=True)
    assert b.call(Ops.get, "t", b"a", ReadSpec())[0].value == b"1"
    b.call(Ops.disable_table, "t")
    b.call(Ops.truncate_table, "t", preserve_splits=True)
    b.call(Ops.enable_table, "t") if not b.call(Ops.is_table_enabled, "t") else None
    assert b.call(Ops.get, "t", b"a", ReadSpec()) == []
    b.call(Ops.disable_table, "t") if b.call(Ops.is_table_enabled, "t") else None
    b.call(Ops.delete_table, "t")
    assert b.call(Ops.table_names) == []


def test_writes_and_reads_match_engine(pair: tuple[RpcBackend, object]) -> None:
    b, engine = pair
    b.call(Ops.create_table, DESC)
    muts = [
        RowMutation(b"r%03d" % i, (Put(b"cf", b"q", b"v%d" % i), Put(b"g", b"x", b"y", 5)))
        for i in range(40)
    ]
    b.call(Ops.mutate, "t", muts, Durability.SYNC_WAL)
    b.call(Ops.mutate, "t", [RowMutation(b"r001", (DeleteColumn(b"g", b"x"),))])
    b.call(Ops.mutate, "t", [RowMutation(b"r002", (DeleteRow(),))], Durability.SKIP_WAL)
    spec = ReadSpec(columns={b"cf": None}, max_versions=2)
    for row in (b"r000", b"r001", b"r002", b"zzz"):
        assert b.call(Ops.get, "t", row, spec) == engine.get("t", row, spec)  # type: ignore[attr-defined]
    assert b.call(Ops.increment, "t", b"c", {(b"cf", b"n"): 5}) == {(b"cf", b"n"): 5}
    assert b.call(Ops.increment, "t", b"c", {(b"cf", b"n"): -2}, Durability.FSYNC_WAL) == {
        (b"cf", b"n"): 3
    }
    with pytest.raises(NotACounter):
        b.call(Ops.increment, "t", b"r000", {(b"cf", b"q"): 1})
    assert b.call(Ops.append, "t", b"a", {(b"cf", b"s"): b"ab"}) == {(b"cf", b"s"): b"ab"}
    assert b.call(Ops.append, "t", b"a", {(b"cf", b"s"): b"cd"}) == {(b"cf", b"s"): b"abcd"}
    with pytest.raises(FamilyNotFound):
        b.call(Ops.mutate, "t", [RowMutation(b"r", (Put(b"nope", b"q", b"v"),))])


def test_check_and_mutate(pair: tuple[RpcBackend, object]) -> None:
    b, _ = pair
    b.call(Ops.create_table, DESC)
    put = RowMutation(b"r", (Put(b"cf", b"q", b"b"),))
    assert b.call(Ops.check_and_mutate, "t", b"r", b"cf", b"q", value_comparison(None, "="), put)
    assert not b.call(
        Ops.check_and_mutate, "t", b"r", b"cf", b"q", value_comparison(None, "="), put
    )
    put2 = RowMutation(b"r", (Put(b"cf", b"q", b"c"),))
    assert b.call(Ops.check_and_mutate, "t", b"r", b"cf", b"q", value_comparison(b"a", "<"), put2)
    assert b.call(Ops.get, "t", b"r", ReadSpec())[0].value == b"c"
    assert not b.call(
        Ops.check_and_mutate, "t", b"r", b"cf", b"q", value_comparison(b"c", "!="), put
    )
    with pytest.raises(InvalidArgument, match="ValueComparison"):
        b.call(Ops.check_and_mutate, "t", b"r", b"cf", b"q", lambda v: True, put)


def test_scan_matches_engine_with_filters(pair: tuple[RpcBackend, object]) -> None:
    b, engine = pair
    b.call(Ops.create_table, DESC, [b"r020"])
    b.call(
        Ops.mutate,
        "t",
        [RowMutation(b"r%03d" % i, (Put(b"cf", b"q", b"%d" % (i % 3)),)) for i in range(45)],
    )
    cases = [
        (ScanRange(), ReadSpec()),
        (ScanRange(b"r010", True, b"r030", True), ReadSpec()),
        (ScanRange(reverse=True), ReadSpec()),
        (
            ScanRange(),
            ReadSpec(filter=F.ValueFilter(F.CompareOperator.EQUAL, F.BinaryComparator(b"1"))),
        ),
        (ScanRange(), ReadSpec(filter="PrefixFilter('r01') AND KeyOnlyFilter()")),
    ]
    for rng, spec in cases:
        remote = list(b.call(Ops.scan, "t", rng, spec))
        local_spec = spec
        if isinstance(spec.filter, str):
            local_spec = ReadSpec(filter=F.parse_filter(spec.filter))
        elif spec.filter is not None:
            local_spec = ReadSpec(filter=spec.filter.clone())
        assert remote == list(engine.scan("t", rng, local_spec))  # type: ignore[attr-defined]
        assert remote
    with pytest.raises(FilterSyntaxError):
        list(b.call(Ops.scan, "t", ScanRange(), ReadSpec(filter="PrefixFilter(")))
    with pytest.raises(TableNotFound):
        next(iter(b.call(Ops.scan, "nope", ScanRange(), ReadSpec())))


def test_in_memory_transport_scanner_lease_and_close(tmp_path: Path) -> None:
    from hedgerow._internal.clock import ManualClock

    clock = ManualClock()
    conn = hedgerow.connect(str(tmp_path / "d"))
    t = InMemoryTransport(conn.backend, lease_s=10, clock=clock)
    b = RpcBackend(t, scan_batch_rows=2)
    b.call(Ops.create_table, DESC)
    b.call(Ops.mutate, "t", [RowMutation(b"r%d" % i, (Put(b"cf", b"q", b"v"),)) for i in range(6)])
    it = b.call(Ops.scan, "t", ScanRange(), ReadSpec())
    next(it)
    assert t.dispatcher.open_scanners == 1
    clock.advance_ms(5_000)
    assert t.dispatcher.reap() == 0
    clock.advance_ms(6_000)
    assert t.dispatcher.reap() == 1
    next(it)
    from hedgerow.rpc import ScannerExpired

    with pytest.raises(ScannerExpired):
        next(it)
    assert t.call(MessageType.PING, b"\xc4\x01x") == b"\xc4\x01x"
    b.close()
    with pytest.raises(ClosedError):
        b.call(Ops.table_names)
    conn.close()
