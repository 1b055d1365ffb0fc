"""Server-side request execution: decode a body, call the handler, encode the answer.

Role: shared by ``RpcServer`` (which runs ``Dispatcher.handle`` in its thread
pool) and ``InMemoryTransport`` (which runs it inline), so both serve exactly
the same protocol.  Owns the server-side scanners and their leases.
Format: bodies per docs/formats/rpc.md#bodies (``rpc.messages``).
Invariants: a scanner belongs to the connection that opened it; it is closed
(its iterator's ``close()`` called) when exhausted, closed by the client, when
its connection goes, or when unused for ``lease_s`` (``reap``).  ``handle``
raises HedgerowError subclasses for failed requests; any other exception is a
handler bug and is reported as INTERNAL by the caller.  A request run with a
deadline (``handle(..., deadline_s=)``) is stopped at the first row it reaches past
it (DEADLINE_EXCEEDED; a scanner stopped so is closed).  A scanner batch holds at
most ``max_batch_bytes`` (when set) plus one row, whatever the client asked.
Concurrency: thread-safe.  The scanner table is guarded by ``self._lock``; one
scanner is advanced by one thread at a time (``_Scanner.lock``).
Hot path: ``handle`` for GET/MUTATE; see bench/bench_rpc.py.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hedgerow._internal import deadline as request_deadline
from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ScanRange
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.codes import DeadlineExceeded, ScannerExpired, UnknownMessageType
from hedgerow.rpc.operations import BY_TYPE, MESSAGES, Handler, MessageType, Operation

__all__ = ["DEFAULT_LEASE_S", "Dispatcher", "answer_bytes"]

#: Seconds a scanner may sit unused before the server closes it (HBase: 60 s).
DEFAULT_LEASE_S = 60.0

_NIL = packb(None)


def _check_region(handler: Handler, table: str, region: str | None, rows: Sequence[bytes]) -> None:
    """A region-addressed request (RFC 0001) is served only by that region."""
    if region is not None:
        handler.check_region(table, region, rows)


def _scan_first_rows(rng: ScanRange) -> list[bytes]:
    """The rows a scanner's region must hold: its start row; for a forward scan from the
    table's start the empty key (only the table's first region holds it); none for a
    reverse scan from the table's end, whose region need only be open (a region's range
    never changes while it is open, so the last region, if open, is still the last), nor
    for a reverse scan starting just below an excluded row: its first rows lie in the
    region ending at that row, which does not hold the row itself (a client continuing a
    reverse scan on the next server names that region, RFC 0001)."""
    if rng.start and (rng.start_inclusive or not rng.reverse):
        return [rng.start]
    if rng.start:
        return []
    return [] if rng.reverse else [b""]


def _server(handler: Handler, op: Operation) -> Callable[[Any], Any]:
    """How this server runs ``op``'s requests: its declared ``serve``, after the region
    check for a region-addressed kind."""
    serve, checks = op.serve, op.checks
    if checks is None:
        return lambda r: serve(handler, r)

    def checked(r: Any) -> Any:
        if r.region is not None:
            handler.check_region(r.table, r.region, checks(r))
        return serve(handler, r)

    return checked


class _Scanner:
    __slots__ = ("conn_id", "expires_s", "it", "lock", "table")

    def __init__(self, it: Iterator[tuple[bytes, list[Cell]]], conn_id: int, table: str) -> None:
        self.it = it
        self.conn_id = conn_id
        self.table = table
        self.expires_s = 0.0  # guarded by Dispatcher._lock
        self.lock = threading.Lock()  # held while advancing or closing the iterator


def _cells_bytes(cells: list[Cell]) -> int:
    return sum(len(c[0]) + len(c[1]) + len(c[2]) + len(c[5]) + 16 for c in cells)


def answer_bytes(resp: Any) -> int:
    """About how many bytes the encoded ``resp`` (a ``Dispatcher.run`` result) takes, from
    its cells' sizes, before encoding it: what the server reserves for it.

    >>> answer_bytes(m.CellsResponse([Cell(b"r", b"f", b"q", 1, 4, b"x" * 100, 0)]))
    120
    """
    if isinstance(resp, m.CellsResponse):
        return _cells_bytes(resp.cells) + 1
    if isinstance(resp, m.MultiCellsResponse):
        return sum(_cells_bytes(c) + 1 for c in resp.rows) + 1
    if isinstance(resp, m.ScanBatchResponse):
        return sum(_cells_bytes(c) + len(r) + 2 for r, c in resp.rows) + 16
    return 64  # small fixed-size answers (nil, bools, names, counters)


def _type_name(t: int) -> str:
    try:
        return MessageType(t).name
    except ValueError:
        return str(t)


def _close_iterator(it: Any) -> None:
    close = getattr(it, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            pass  # closing a broken scanner must not fail the caller


class Dispatcher:
    """``handle(type, body, conn_id) -> response body``; raises on failure.

    >>> class H:
    ...     def table_names(self): return ["t"]
    >>> unpackb(Dispatcher(H()).handle(MessageType.TABLE_NAMES, packb(None), 0))
    ['t']
    """

    def __init__(
        self,
        handler: Handler,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Clock | None = None,
        max_batch_bytes: int | None = None,
    ) -> None:
        # constant after __init__
        self.handler = handler
        self.lease_s = lease_s
        #: server-side cap on a scanner batch's bytes (a batch still holds >= 1 row)
        self.max_batch_bytes = max_batch_bytes
        self.clock: Clock = clock or SystemClock()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._scanners: dict[int, _Scanner] = {}  # guarded by self._lock
        self._table: dict[int, Callable[[Any], Any]] = {
            MessageType.PING: lambda r: r,
            **{t: _server(handler, op) for t, op in BY_TYPE.items()},
        }

    # ---- requests ---------------------------------------------------------------------

    def handle(
        self, msg_type: int, body: bytes, conn_id: int = 0, deadline_s: float = 0.0
    ) -> bytes:
        """Run one request; return the msgpack response body.

        ``deadline_s`` (``clock.monotonic_s()`` scale; 0 = none) stops the request's
        work once passed: scans and gets check it once per row and the request
        fails with DEADLINE_EXCEEDED (an interrupted scanner is closed).
        """
        return self.encode(self.run(msg_type, body, conn_id, deadline_s))

    def run(self, msg_type: int, body: bytes, conn_id: int = 0, deadline_s: float = 0.0) -> Any:
        """``handle`` without the encoding: the response message (None for ``nil``), so
        the server can weigh it (``answer_bytes``) before building the frame."""
        if not deadline_s:
            return self._run(msg_type, body, conn_id)

        def expired() -> Exception:
            return DeadlineExceeded(
                f"{_type_name(msg_type)} request ran past its deadline; the server stopped it"
            )

        with request_deadline.scope(deadline_s, self.clock, expired):
            return self._run(msg_type, body, conn_id)

    @staticmethod
    def encode(resp: Any) -> bytes:
        """The msgpack body of a response message from ``run``."""
        return _NIL if resp is None else packb(resp.to_wire())

    def _run(self, msg_type: int, body: bytes, conn_id: int) -> Any:
        calls = MESSAGES.get(msg_type)
        if calls is None:
            raise UnknownMessageType(f"unknown message type {msg_type}")
        req = calls[0].from_wire(unpackb(body))
        if msg_type == MessageType.OPEN_SCANNER:
            resp: Any = self._open_scanner(req, conn_id)
        elif msg_type == MessageType.SCANNER_NEXT:
            resp = self._scanner_next(req.scanner_id, req.batch_rows, req.batch_bytes, conn_id)
        elif msg_type == MessageType.CLOSE_SCANNER:
            self.close_scanner(req.scanner_id, conn_id)
            return None
        else:
            fn = self._table.get(msg_type)
            if fn is None:
                raise UnknownMessageType(f"message type {msg_type} is not served here")
            resp = fn(req)
        return resp

    # ---- scanners ---------------------------------------------------------------------

    @property
    def open_scanners(self) -> int:
        with self._lock:
            return len(self._scanners)

    def _open_scanner(self, req: m.OpenScannerRequest, conn_id: int) -> m.ScanBatchResponse:
        # a region-addressed open (RFC 0001): the named region must hold the first row;
        # the scan then runs over every following region this server hosts (all of
        # them in hedgerow standalone), surviving splits on the server side
        _check_region(self.handler, req.table, req.region, _scan_first_rows(req.rng))
        it = iter(self.handler.scan(req.table, req.rng, req.spec))
        sc = _Scanner(it, conn_id, req.table)
        sid = next(self._ids)
        with self._lock:
            sc.expires_s = self.clock.monotonic_s() + self.lease_s
            self._scanners[sid] = sc
        return self._scanner_next(sid, req.batch_rows, req.batch_bytes, conn_id)

    def _scanner_next(
        self, sid: int, batch_rows: int, batch_bytes: int, conn_id: int
    ) -> m.ScanBatchResponse:
        if self.max_batch_bytes is not None:
            batch_bytes = min(batch_bytes, self.max_batch_bytes)
        with self._lock:
            sc = self._scanners.get(sid)
            if sc is None or sc.conn_id != conn_id:
                raise ScannerExpired(
                    f"scanner {sid} is unknown: its lease ({self.lease_s:g} s) expired, "
                    "it was closed, or it belongs to another connection"
                )
            sc.expires_s = float("inf")  # in use: never reaped mid-batch
        rows: list[tuple[bytes, list[Cell]]] = []
        more = True
        with sc.lock:
            try:
                size = 0
                nxt = sc.it.__next__  # hoisted: called once per row
                check_deadline = request_deadline.check
                while len(rows) < batch_rows and size < batch_bytes:
                    check_deadline()
                    try:
                        row, cells = nxt()
                    except StopIteration:
                        more = False
                        break
                    rows.append((row, cells))
                    for c in cells:
                        size += len(c[1]) + len(c[2]) + len(c[5]) + 16
            except BaseException:
                more = False
                raise
            finally:
                with self._lock:
                    if more:
                        sc.expires_s = self.clock.monotonic_s() + self.lease_s
                    else:
                        self._scanners.pop(sid, None)
                if not more:
                    _close_iterator(sc.it)
        return m.ScanBatchResponse(sid, rows, more)

    def close_scanner(self, sid: int, conn_id: int = 0) -> None:
        """Close one scanner (unknown ids are ignored: close is idempotent)."""
        with self._lock:
            sc = self._scanners.get(sid)
            if sc is None or sc.conn_id != conn_id:
                return
            del self._scanners[sid]
        with sc.lock:
            _close_iterator(sc.it)

    def close_connection(self, conn_id: int) -> int:
        """Close every scanner of a connection that went away; returns how many."""
        with self._lock:
            mine = [(sid, sc) for sid, sc in self._scanners.items() if sc.conn_id == conn_id]
            for sid, _ in mine:
                del self._scanners[sid]
        for _, sc in mine:
            with sc.lock:
                _close_iterator(sc.it)
        return len(mine)

    def reap(self) -> int:
        """Close scanners whose lease expired; returns how many (called periodically)."""
        now = self.clock.monotonic_s()
        with self._lock:
            dead = [(sid, sc) for sid, sc in self._scanners.items() if sc.expires_s <= now]
            for sid, _ in dead:
                del self._scanners[sid]
        for _, sc in dead:
            with sc.lock:
                _close_iterator(sc.it)
        return len(dead)

    def close_all(self) -> None:
        """Close every scanner (server shutdown)."""
        with self._lock:
            alls = list(self._scanners.values())
            self._scanners.clear()
        for sc in alls:
            with sc.lock:
                _close_iterator(sc.it)
