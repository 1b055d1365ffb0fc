"""The blocking socket transport: many threads share one connection to a server.

Role: ``SocketTransport`` is the ``Transport`` of ``rpc.client.RpcBackend`` in a
real deployment (re-exported by ``rpc.transport``): it sends request frames and
hands each answer to the thread that waits for it.
Format: docs/formats/rpc.md (preamble, frames, error bodies).
Invariants: ``call`` returns the response body or raises a HedgerowError: the
server's error mapped back to its class, ``DeadlineExceeded`` once the deadline
passes, ``ServerUnreachable`` when no connection
can be made (nothing was sent), ``ConnectionLost`` when it closes while the
call waits, ``AnswerTooLarge`` when an answer in pieces passes
``max_answer_bytes`` (pieces are joined per request id; those of a call nobody
waits for are dropped as they come). A call never waits past its deadline.
After a connection is lost, the next call opens a new one.
Concurrency: thread-safe: each request has an id, one reader thread per
connection hands each answer to its caller (``_Waiter``); sends are serialised
by the transport's lock.
Hot path: ``SocketTransport.call``; bench/bench_rpc.py prints p50/p99.
"""

from __future__ import annotations

import collections
import itertools
import socket
import threading
from collections.abc import Sequence

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import ClosedError, HedgerowError
from hedgerow.rpc.codec import decode_error, unpackb
from hedgerow.rpc.codes import ConnectionLost, DeadlineExceeded, ProtocolError, ServerUnreachable
from hedgerow.rpc.framing import (
    AnswerAssembler,
    Frame,
    FrameDecoder,
    encode_frame,
    encode_preamble,
)
from hedgerow.rpc.transport_common import DEFAULT_TIMEOUT_S, answer_body, frame_timeout_ms
from hedgerow.rpc.wire_format import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_FRAME_BYTES,
    MAX_REQUEST_ID,
    FrameFlag,
)

__all__ = ["SocketTransport"]

_ERROR = int(FrameFlag.ERROR)
_MORE = int(FrameFlag.MORE)


class _Waiter:
    """One outstanding call: the reader fills it and releases ``lock``."""

    __slots__ = ("body", "error", "flags", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.flags = 0
        self.body = b""
        self.error: HedgerowError | None = None


class _SocketConn:
    """One TCP connection with its reader thread."""

    def __init__(
        self, sock: socket.socket, decoder: FrameDecoder, where: str, max_answer_bytes: int
    ) -> None:
        self.sock = sock
        self.decoder = decoder
        self.assembler = AnswerAssembler(max_answer_bytes)  # owned by the reader thread
        self.where = where
        self.pending: dict[int, _Waiter | None] = {}
        self.broken: HedgerowError | None = None
        self.send_lock = threading.Lock()
        self.reader = threading.Thread(
            target=self._read_loop, name=f"hedgerow-rpc-reader {where}", daemon=True
        )

    def fail(self, exc: HedgerowError) -> None:
        if self.broken is None:
            self.broken = exc
        for rid in list(self.pending):
            w = self.pending.pop(rid, None)
            if w is not None:
                w.error = self.broken
                w.lock.release()
        try:
            self.sock.close()
        except OSError:
            pass

    def deliver(self, frames: list[Frame]) -> bool:
        pending = self.pending
        for f in frames:
            rid = f.request_id
            if rid == 0:  # connection-level error from the server
                err: HedgerowError = ConnectionLost(f"server {self.where} closed the connection")
                if f.flags & _ERROR:
                    try:
                        err = decode_error(unpackb(f.body))
                    except HedgerowError as exc:
                        err = exc
                self.fail(err)
                return False
            if f.flags & _MORE or self.assembler.pending:
                if rid not in pending:
                    self.assembler.drop(rid)  # nobody waits (deadline passed): drop it
                    continue
                whole = self.assembler.add(f)
                if whole is None:
                    continue  # a piece: more follow
                if isinstance(whole, HedgerowError):
                    w = pending.pop(rid, None)
                    if w is not None:
                        w.error = whole
                        w.lock.release()
                    continue
                f = whole
            w = pending.pop(rid, None)
            if w is not None:
                w.flags = f.flags
                w.body = f.body
                w.lock.release()
        return True

    def _read_loop(self) -> None:
        recv = self.sock.recv
        feed = self.decoder.feed
        while True:
            try:
                data = recv(262144)
            except TimeoutError:
                if self.broken is not None:
                    return
                continue
            except OSError as exc:
                self.fail(ConnectionLost(f"connection to {self.where} failed: {exc}"))
                return
            if not data:
                self.fail(ConnectionLost(f"server {self.where} closed the connection"))
                return
            try:
                frames = feed(data)
            except ProtocolError as exc:
                self.fail(exc)
                return
            if frames and not self.deliver(frames):
                return


class SocketTransport:
    """Blocking transport over one TCP connection shared by all threads.

    Requests are multiplexed by request id; a reader thread matches answers to
    callers.  ``timeout_s`` is the default deadline of a call (also sent to the
    server, which stops the call's work when it passes); ``connect_timeout_s``
    bounds connection set-up (and never exceeds the call's deadline).
    ``max_frame_bytes`` bounds one received frame; ``max_answer_bytes`` one answer
    received in pieces (protocol version 3): a longer one fails its call with
    AnswerTooLarge and the connection goes on.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        connect_timeout_s: float = 5.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        clock: Clock | None = None,
    ) -> None:
        # constant after __init__
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self.max_answer_bytes = max_answer_bytes
        self.clock: Clock = clock or SystemClock()
        self._where = f"{host}:{port}"
        self._lock = threading.Lock()  # guards connect/close
        self._conn: _SocketConn | None = None  # guarded by self._lock (read without)
        self._ids = itertools.count(1)
        self._oneway: collections.deque[tuple[int, bytes]] = collections.deque()
        self._closed = False

    # -- connection ---------------------------------------------------------------------

    def _connect(self, deadline: float) -> _SocketConn:
        with self._lock:
            if self._closed:
                raise ClosedError(f"transport to {self._where} is closed")
            conn = self._conn
            if conn is not None and conn.broken is None:
                return conn
            remaining = deadline - self.clock.monotonic_s()
            if remaining <= 0:
                raise DeadlineExceeded(f"deadline passed before connecting to {self._where}")
            t = min(remaining, self.connect_timeout_s)
            try:
                sock = socket.create_connection((self.host, self.port), timeout=t)
            except TimeoutError:
                raise DeadlineExceeded(
                    f"could not connect to {self._where} within {t:.3g} s"
                ) from None
            except OSError as exc:
                raise ServerUnreachable(f"cannot connect to {self._where}: {exc}") from None
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                decoder = FrameDecoder(self.max_frame_bytes, expect_preamble=True)
                sock.sendall(encode_preamble())
                frames: list[Frame] = []
                while decoder.preamble is None:
                    data = sock.recv(65536)
                    if not data:
                        raise ServerUnreachable(
                            f"server {self._where} closed the connection during the handshake"
                        )
                    frames = decoder.feed(data)
            except TimeoutError:
                sock.close()
                raise DeadlineExceeded(
                    f"no handshake answer from {self._where} within {t:.3g} s"
                ) from None
            except HedgerowError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                raise ServerUnreachable(f"handshake with {self._where} failed: {exc}") from None
            # A socket timeout bounds sendall; the reader treats recv timeouts as "keep waiting".
            sock.settimeout(max(self.timeout_s, 1.0))
            conn = _SocketConn(sock, decoder, self._where, self.max_answer_bytes)
            if frames and not conn.deliver(frames):
                assert conn.broken is not None
                raise conn.broken
            conn.reader.start()
            self._conn = conn
            return conn

    @property
    def protocol_version(self) -> int | None:
        """The protocol version agreed with the server (the server's preamble), or None
        before the first connection."""
        conn = self._conn
        if conn is None or conn.decoder.preamble is None:
            return None
        return conn.decoder.preamble.version

    def _next_id(self) -> int:
        rid = next(self._ids) & MAX_REQUEST_ID
        if rid == 0:
            rid = next(self._ids) & MAX_REQUEST_ID
        return rid

    def _send(self, conn: _SocketConn, data: bytes) -> None:
        try:
            with conn.send_lock:
                conn.sock.sendall(data)
        except TimeoutError:
            exc: HedgerowError = DeadlineExceeded(f"sending to {self._where} timed out")
            conn.fail(ConnectionLost(f"connection to {self._where} stalled while sending"))
            raise exc from None
        except OSError as e:
            conn.fail(ConnectionLost(f"connection to {self._where} failed: {e}"))
            raise ConnectionLost(f"connection to {self._where} failed: {e}") from None

    # -- calls --------------------------------------------------------------------------

    def _begin(self, timeout_s: float | None) -> tuple[_SocketConn, float, float]:
        """The connection for a call (connecting if needed, queued notices sent first),
        the call's start and its deadline."""
        now = self.clock.monotonic_s()
        deadline = now + (self.timeout_s if timeout_s is None else timeout_s)
        conn = self._conn
        if conn is None or conn.broken is not None:
            conn = self._connect(deadline)
        if self._oneway:
            self._flush_oneway(conn)
        return conn, now, deadline

    def _register(self, conn: _SocketConn, n: int) -> list[tuple[int, _Waiter]]:
        """``n`` new request ids with their waiters (none left behind if the connection
        broke meanwhile: its error is raised)."""
        waiting = []
        for _ in range(n):
            rid = self._next_id()
            w = _Waiter()
            conn.pending[rid] = w
            waiting.append((rid, w))
        if conn.broken is not None:
            for rid, _w in waiting:
                conn.pending.pop(rid, None)
            if isinstance(conn.broken, ConnectionLost):  # nothing was sent on it
                raise ServerUnreachable(str(conn.broken)) from conn.broken
            raise conn.broken
        return waiting

    def _await(
        self, conn: _SocketConn, rid: int, w: _Waiter, msg_type: int, now: float, deadline: float
    ) -> bytes:
        """The answer body of request ``rid``, or its error raised (DeadlineExceeded once
        ``deadline`` passes)."""
        if not w.lock.acquire(timeout=max(0.0, deadline - self.clock.monotonic_s())):
            if conn.pending.pop(rid, None) is not None:
                raise DeadlineExceeded(
                    f"no answer from {self._where} to request {rid} (type {msg_type}) "
                    f"within {deadline - now:.3g} s"
                )
            w.lock.acquire()  # answered in the same instant: take it
        if w.error is not None:
            raise w.error
        return answer_body(w.flags, w.body)

    def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        conn, now, deadline = self._begin(timeout_s)
        ((rid, w),) = self._register(conn, 1)
        self._send(conn, encode_frame(msg_type, 0, rid, frame_timeout_ms(deadline - now), body))
        return self._await(conn, rid, w, msg_type, now, deadline)

    def call_many(
        self, calls: Sequence[tuple[int, bytes]], timeout_s: float | None = None
    ) -> list[bytes | HedgerowError]:
        """Send every request in one write, then wait for all answers (they may come
        back in any order); each answer's body or its error, in request order. One
        deadline covers them all."""
        conn, now, deadline = self._begin(timeout_s)
        waiting = self._register(conn, len(calls))
        timeout_ms = frame_timeout_ms(deadline - now)
        self._send(
            conn,
            b"".join(
                encode_frame(msg_type, 0, rid, timeout_ms, body)
                for (msg_type, body), (rid, _w) in zip(calls, waiting, strict=True)
            ),
        )
        out: list[bytes | HedgerowError] = []
        for (msg_type, _body), (rid, w) in zip(calls, waiting, strict=True):
            try:
                out.append(self._await(conn, rid, w, msg_type, now, deadline))
            except HedgerowError as exc:
                out.append(exc)
        return out

    def _flush_oneway(self, conn: _SocketConn) -> None:
        while self._oneway:
            try:
                msg_type, body = self._oneway.popleft()
            except IndexError:
                return
            rid = self._next_id()
            conn.pending[rid] = None  # answer dropped by the reader
            try:
                self._send(conn, encode_frame(msg_type, 0, rid, 0, body))
            except HedgerowError:
                return

    def notify(self, msg_type: int, body: bytes) -> None:
        """Queue a request sent before the next call; its answer is dropped."""
        if not self._closed:
            self._oneway.append((msg_type, body))

    def close(self) -> None:
        """Close the connection; waiting calls fail with ClosedError."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.fail(ClosedError(f"transport to {self._where} was closed"))

    def __enter__(self) -> SocketTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
