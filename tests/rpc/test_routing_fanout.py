"""RFC 0001: a multi-get or a batch spanning several regions is sent as one request per
region, all in flight at once; after a split only the refused parts are regrouped and
sent again; answers keep the request order. Blocking and asyncio clients alike, plus
``SocketTransport.call_many``, the primitive the blocking client sends parts with.

"In flight at once" is shown without timing: the server's handler makes every part wait
on a barrier for all the others, so parts sent one after another would break the barrier
(its timeout) and fail the call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import CorruptionError
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import InMemoryTransport, RpcServer, SocketTransport
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.codes import DeadlineExceeded
from hedgerow.rpc.operations import MessageType as T
from hedgerow.server.standalone import StandaloneServer

from ._routing import Check, record_checks, split_behind, url_of
from .conftest import FakeHandler

CLIENTS = ["blocking", "asyncio"]
KEYS = [b"z", b"a", b"n"]  # out of key order: answers must still come back in this order


def _send_batch(t: Any) -> None:
    """A three-row batch, one row per region of a table split at h and p (blocking client)."""
    with t.batch() as b:
        for k in KEYS:
            b.put(k, {b"cf:q": b"new-" + k})


async def _asend_batch(t: Any) -> None:
    """``_send_batch`` through the asyncio client."""
    b = t.batch()
    for k in KEYS:
        await b.put(k, {b"cf:q": b"new-" + k})
    await b.send()


def _run(client: str, url: str, body: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``body(table)`` with a fresh connection of the ``client`` kind, after the
    connection cached the table's layout; ``body`` returns a value (blocking) or an
    awaitable (asyncio). Returns what it returned and the connection's backend."""
    if client == "blocking":
        conn = hedgerow.connect(url)
        try:
            t = conn.table("t")
            t.row(b"a")
            return body(t), conn.backend
        finally:
            conn.close()

    async def main() -> tuple[Any, Any]:
        aconn = hedgerow.aio.connect(url)
        try:
            t = aconn.table("t")
            await t.row(b"a")
            return await body(t), aconn.backend
        finally:
            await aconn.close()

    return asyncio.run(main())


def _create(srv: StandaloneServer, split_keys: list[bytes]) -> None:
    conn = hedgerow.connect(url_of(srv))
    conn.create_table("t", {"cf": {}}, split_keys=split_keys)
    with conn.table("t").batch() as batch:
        for k in KEYS:
            batch.put(k, {b"cf:q": k})
    conn.close()


def _rows_now(srv: StandaloneServer) -> list[tuple[bytes, dict[bytes, bytes]]]:
    conn = hedgerow.connect(url_of(srv))
    try:
        return conn.table("t").rows(KEYS)
    finally:
        conn.close()


def _barrier_on(srv: StandaloneServer, method: str, parties: int) -> Callable[[], None]:
    """Make the engine's ``method`` wait until ``parties`` calls of it run at once;
    returns the undo."""
    engine = srv.engine
    assert engine is not None
    barrier = threading.Barrier(parties, timeout=5)
    real = getattr(engine, method)

    def together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return real(*args, **kwargs)

    setattr(engine, method, together)
    return lambda: setattr(engine, method, real)


@pytest.mark.parametrize("client", CLIENTS)
def test_multi_get_parts_are_in_flight_together(standalone: StandaloneServer, client: str) -> None:
    _create(standalone, [b"h", b"p"])  # [,h) [h,p) [p,): one of KEYS in each
    undo = _barrier_on(standalone, "get_many", 3)
    try:
        got, _ = _run(client, url_of(standalone), lambda t: t.rows(KEYS))
    finally:
        undo()
    assert got == [(k, {b"cf:q": k}) for k in KEYS]


@pytest.mark.parametrize("client", CLIENTS)
def test_batch_parts_are_in_flight_together(standalone: StandaloneServer, client: str) -> None:
    _create(standalone, [b"h", b"p"])
    undo = _barrier_on(standalone, "mutate", 3)
    try:
        _run(client, url_of(standalone), _send_batch if client == "blocking" else _asend_batch)
    finally:
        undo()
    assert _rows_now(standalone) == [(k, {b"cf:q": b"new-" + k}) for k in KEYS]


@pytest.mark.parametrize("call", ["multi_get", "batch"])
@pytest.mark.parametrize("client", CLIENTS)
def test_only_the_refused_part_is_regrouped_and_resent(
    standalone: StandaloneServer, client: str, call: str
) -> None:
    _create(standalone, [b"m"])  # left [,m) holds a; right [m,) holds z and n
    engine = standalone.engine
    assert engine is not None
    left, right = (r.name for r in engine.regions("t"))
    checks: list[Check] = []

    def blocking(t: Any) -> Any:
        # right becomes [m,t) and [t,) behind the back of the client, which cached right
        split_behind(standalone, b"t")
        seen = record_checks(standalone)
        out = t.rows(KEYS) if call == "multi_get" else _send_batch(t)
        checks[:] = seen
        return out

    async def awaiting(t: Any) -> Any:
        await asyncio.to_thread(split_behind, standalone, b"t")
        seen = record_checks(standalone)
        out = await t.rows(KEYS) if call == "multi_get" else await _asend_batch(t)
        checks[:] = seen
        return out

    got, backend = _run(client, url_of(standalone), blocking if client == "blocking" else awaiting)
    if call == "multi_get":
        assert got == [(k, {b"cf:q": k}) for k in KEYS]  # request order, not key order
    else:
        assert _rows_now(standalone) == [(k, {b"cf:q": b"new-" + k}) for k in KEYS]
    assert [c for c in checks if c.region == left] == [Check(left, (b"a",), True)]  # once
    assert [c for c in checks if c.region == right] == [Check(right, (b"z", b"n"), False)]
    resent = sorted(c.rows for c in checks if c.region not in (left, right))
    assert resent == [(b"n",), (b"z",)]  # regrouped: one part per daughter
    assert all(c.served for c in checks if c.region not in (left, right))
    assert backend.locator.refreshes == 2  # one lookup for the cache, one after the refusal


# ---- SocketTransport.call_many ----------------------------------------------------------


class _Gate(FakeHandler):
    """``get`` of b"wait:<n>" waits on a barrier of n; b"after" waits until b"first" has
    been answered; ``answered`` lists rows in the order their answers were made."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=5)
        self.first_done = threading.Event()
        self.answered: list[bytes] = []

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        if row.startswith(b"wait:"):
            self.barrier.wait()
        elif row == b"after":
            assert self.first_done.wait(5)
        cells = super().get(table, row, spec)
        with self.lock:
            self.answered.append(row)
        if row == b"first":
            self.first_done.set()
        return cells


@pytest.fixture
def gate() -> Iterator[tuple[_Gate, SocketTransport]]:
    handler = _Gate(3)
    srv = RpcServer(handler, workers=8)
    srv.start_in_thread()
    t = SocketTransport(srv.host, srv.port, timeout_s=5.0)
    yield handler, t
    t.close()
    srv.stop()


def _get(row: bytes) -> tuple[int, bytes]:
    return T.GET, packb(m.GetRequest("t", row, ReadSpec()).to_wire())


def _rows(answers: list[Any]) -> list[Any]:
    """Each GET answer's rows, or the error in its place."""
    return [a if isinstance(a, BaseException) else [c.row for c in _cells(a)] for a in answers]


def _cells(body: bytes) -> list[Cell]:
    return m.CellsResponse.from_wire(unpackb(body)).cells


def test_call_many_puts_every_request_in_flight_at_once(
    gate: tuple[_Gate, SocketTransport],
) -> None:
    _, t = gate
    answers = t.call_many([_get(b"wait:1"), _get(b"wait:2"), _get(b"wait:3")])
    assert _rows(answers) == [[b"wait:1"], [b"wait:2"], [b"wait:3"]]


def test_call_many_keeps_request_order_when_answers_come_back_reversed(
    gate: tuple[_Gate, SocketTransport],
) -> None:
    handler, t = gate
    answers = t.call_many([_get(b"after"), _get(b"first")])
    assert handler.answered == [b"first", b"after"]  # the server answered the second first
    assert _rows(answers) == [[b"after"], [b"first"]]


def test_call_many_returns_errors_in_place(gate: tuple[_Gate, SocketTransport]) -> None:
    _, t = gate
    answers = t.call_many([_get(b"a"), _get(b"err:corrupt"), _get(b"sleep:1"), _get(b"b")], 0.3)
    got = _rows(answers)
    assert got[0] == [b"a"] and got[3] == [b"b"]
    assert isinstance(got[1], CorruptionError)
    assert isinstance(got[2], DeadlineExceeded)  # one deadline covers every request
    assert t.call(*_get(b"c")) is not None  # the connection is still usable


def test_in_memory_call_many_answers_the_same(handler: FakeHandler) -> None:
    answers = InMemoryTransport(handler).call_many([_get(b"a"), _get(b"err:corrupt")])
    got = _rows(answers)
    assert got[0] == [b"a"] and isinstance(got[1], CorruptionError)
