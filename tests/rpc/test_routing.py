"""Client-side routing (RFC 0001): region-addressed requests and the location cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.errors import NotServingRegion
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import messages as m
from hedgerow.rpc.client import RpcBackend
from hedgerow.rpc.operations import OPERATIONS
from hedgerow.rpc.operations import MessageType as T
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.rpc.routing import Call, one
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

_cells = OPERATIONS["get"].answer
_bool = OPERATIONS["check_and_mutate"].answer
_bytes = OPERATIONS["append"].answer
_ints = OPERATIONS["increment"].answer
_scan_batch = OPERATIONS["scan"].answer


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    srv.start()
    try:
        yield f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"
    finally:
        srv.stop()


def _backend(conn: hedgerow.Connection) -> RpcBackend:
    b = conn.backend
    assert isinstance(b, RpcBackend)
    return b


def test_a_request_for_the_wrong_region_is_refused(url: str) -> None:
    conn = hedgerow.connect(url)
    conn.create_table("t", {"cf": {}}, split_keys=[b"m"])
    conn.table("t").put(b"a", {b"cf:q": b"1"})
    b = _backend(conn)
    left, right = [r.name for r in b.call(Ops.regions, "t")]
    ok = b.drive(one(Call(T.GET, m.GetRequest("t", b"a", ReadSpec(), left), _cells)))
    assert [c.value for c in ok] == [b"1"]
    with pytest.raises(NotServingRegion, match=right):
        b.drive(one(Call(T.GET, m.GetRequest("t", b"a", ReadSpec(), right), _cells)))
    with pytest.raises(NotServingRegion):
        b.drive(one(Call(T.GET, m.GetRequest("t", b"a", ReadSpec(), "0000009999"), _cells)))
    conn.close()


def test_locations_are_cached_and_refreshed_after_a_split(url: str) -> None:
    writer = hedgerow.connect(url)
    writer.create_table("t", {"cf": {}})
    t = writer.table("t")
    rows = [b"r%03d" % i for i in range(200)]
    with t.batch() as batch:
        for r in rows:
            batch.put(r, {b"cf:q": r})
    loc = _backend(writer).locator
    for r in rows[:20]:
        assert t.row(r) == {b"cf:q": r}
    assert loc.refreshes == 1  # one REGIONS call served every lookup so far

    other = hedgerow.connect(url)  # splits behind the first client's back
    other.admin().split("t", b"r100")
    other.admin().split("t", b"r050")
    other.close()

    # the cached location is stale: the server refuses, the client looks again, retries
    assert t.row(b"r010") == {b"cf:q": b"r010"}
    assert loc.refreshes == 2
    got = t.rows(rows)  # one MULTI_GET per region, results in request order
    assert [k for k, _ in got] == rows
    assert loc.refreshes == 2

    # a batch spanning three regions is sent as three region-addressed MUTATEs
    with t.batch() as batch:
        for r in rows:
            batch.put(r, {b"cf:q": b"new-" + r})
    assert all(d == {b"cf:q": b"new-" + k} for k, d in t.scan())
    writer.close()


def test_a_batch_survives_a_split_between_lookup_and_send(url: str) -> None:
    conn = hedgerow.connect(url)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    t.put(b"a", {b"cf:q": b"0"})  # caches the one-region layout
    b = _backend(conn)
    other = hedgerow.connect(url)
    other.admin().split("t", b"m")
    other.close()
    b.locator.lookups = 0
    with t.batch() as batch:
        for k in (b"a", b"n", b"z"):
            batch.put(k, {b"cf:q": k})
    assert [k for k, _ in t.scan()] == [b"a", b"n", b"z"]
    assert b.locator.refreshes == 2
    conn.close()
