"""Issue 11, finding 6: one regex filter stalled the whole server and outlived its deadline.

``ValueFilter(=, 'regexstring:(a+)+$')`` over 28 'a's and a 'b' backtracked 2^28 times
in Python's ``re``, inside C with the GIL held: every other client (PING included)
froze for about 35 s, and the scan went on after its caller's 3 s deadline. Now the
regex engine is RE2 (linear time) and the request's deadline stops running work.

Checked on the old code (commit b7305ac): ``test_catastrophic_regex_...`` fails (the
scan gets no answer within its 3 s: the backtracking held the GIL for about 35 s), and
``test_a_scan_past_its_deadline_frees_...`` fails (the single worker stayed busy with
the abandoned scan: the next GET took 1.9 s); the dispatcher test fails because nothing
checked a deadline while a scan ran (``handle`` took no deadline).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedgerow._internal.clock import ManualClock
from hedgerow.engine import Engine, EngineConfig
from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.filters.parser import parse_filter
from hedgerow.model.mutation import Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
from hedgerow.rpc import DeadlineExceeded, RpcBackend, RpcServer, SocketTransport
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb
from hedgerow.rpc.dispatch import Dispatcher
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.operations import Operations as Ops


def _engine(path: Path, rows: int, value: bytes) -> Engine:
    engine = Engine(str(path), EngineConfig.from_options({"background": False}))
    engine.create_table(TableDescriptor("t", {b"cf": ColumnFamilyDescriptor(b"cf")}))
    batch = [RowMutation(b"r%06d" % i, (Put(b"cf", b"v", value),)) for i in range(rows)]
    for i in range(0, rows, 2000):
        engine.mutate("t", batch[i : i + 2000])
    return engine


def _ping_ms(t: SocketTransport) -> float:
    started = time.perf_counter()
    t.call(int(MessageType.PING), packb(b"x"), timeout_s=2.0)
    return (time.perf_counter() - started) * 1000


def test_catastrophic_regex_answers_at_once_and_stalls_nobody(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "db", 1, b"a" * 28 + b"b")
    server = RpcServer(engine)
    host, port = server.start_in_thread()
    scanner = RpcBackend(SocketTransport(host, port, timeout_s=3.0))
    pinger = SocketTransport(host, port)
    try:
        result: dict[str, object] = {}

        def scan() -> None:
            spec = ReadSpec(filter=parse_filter("ValueFilter(=, 'regexstring:(a+)+$')"))
            try:
                result["rows"] = list(scanner.call(Ops.scan, "t", ScanRange(), spec))
            except Exception as exc:
                result["error"] = exc

        th = threading.Thread(target=scan)
        started = time.perf_counter()
        th.start()
        pings = [_ping_ms(pinger) for _ in range(20)]  # while the scan runs
        th.join(5.0)
        elapsed = time.perf_counter() - started
        assert not th.is_alive()
        assert result == {"rows": []}, result  # no match: '$' needs the end after 'a's
        assert max(pings) < 500 and elapsed < 2.0, (pings, elapsed)
    finally:
        pinger.close()
        scanner.close()
        server.stop()
        engine.close()


def test_a_scan_past_its_deadline_frees_its_worker(tmp_path: Path) -> None:
    """One worker thread: if the abandoned scan kept it, the next GET would wait for it."""
    # 40 regex filters per row: seconds of filter work (values of 'x's, so that Python's
    # re in the old code is merely slow, not catastrophic, and the test ends there too)
    engine = _engine(tmp_path / "db", 20_000, b"x" * 29)
    heavy = " OR ".join(f"ValueFilter(=, 'regexstring:(a+)+{k}$')" for k in range(40))
    server = RpcServer(engine, workers=1)
    host, port = server.start_in_thread()
    client = RpcBackend(SocketTransport(host, port, timeout_s=0.5))
    other = RpcBackend(SocketTransport(host, port, timeout_s=2.0))
    try:
        started = time.perf_counter()
        with pytest.raises(DeadlineExceeded):
            list(
                client.call(Ops.scan, "t", ScanRange(), ReadSpec(filter=parse_filter(heavy)))
            )  # ~2-4 s of work
        assert time.perf_counter() - started < 1.5
        got = time.perf_counter()
        assert other.call(Ops.get, "t", b"r000001", ReadSpec())[0].value == b"x" * 29
        assert time.perf_counter() - got < 1.0
        assert server.dispatcher.open_scanners == 0  # the stopped scanner was closed
    finally:
        client.close()
        other.close()
        server.stop()
        engine.close()


class _Rows:
    """A handler whose scan advances a manual clock 10 ms per row, for ever."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.rows = 0

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> Iterator[tuple[bytes, list]]:
        while True:
            self.clock.advance_ms(10)
            self.rows += 1
            row = b"r%d" % self.rows
            yield row, [Cell(row, b"cf", b"q", 1, KeyType.PUT, b"", 1)]


def test_dispatcher_stops_a_running_scan_at_its_deadline() -> None:
    clock = ManualClock(0)
    handler = _Rows(clock)
    d = Dispatcher(handler, clock=clock)
    body = packb(m.OpenScannerRequest("t", ScanRange(), ReadSpec(), 10**9, 10**12).to_wire())
    with pytest.raises(DeadlineExceeded, match="OPEN_SCANNER request ran past its deadline"):
        d.handle(MessageType.OPEN_SCANNER, body, 1, deadline_s=clock.monotonic_s() + 1.0)
    assert 100 <= handler.rows <= 102  # stopped at the first row past 1 s
    assert d.open_scanners == 0
    # without a deadline the same scan is bounded only by its batch
    body = packb(m.OpenScannerRequest("t", ScanRange(), ReadSpec(), 500, 10**12).to_wire())
    d.handle(MessageType.OPEN_SCANNER, body, 1)
    assert handler.rows >= 600
