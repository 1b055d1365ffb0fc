"""The asyncio RPC server: framing, handshake, concurrency, deadlines, scanner leases.

Role: a region server, the master or ``hedgerow standalone`` wraps its handler
(see ``rpc.operations.Handler``) in ``RpcServer`` to serve it on a TCP port.  The
event loop only frames bytes; every handler call (blocking engine code) runs in
a thread pool, so many requests of one connection run at once and their answers
go back in completion order, matched by request id.
Format: docs/formats/rpc.md (authoritative).
Invariants: a bad preamble, an oversized or malformed frame header closes that
connection after an error frame; a bad body or an unknown message type gets an
error reply and the connection goes on; nothing a client sends stops the server
or affects other connections.  A request whose deadline passed before a worker
picked it up is answered DEADLINE_EXCEEDED without running; one whose deadline
passes while it runs is stopped at its next row (``_internal.deadline``).  At
most ``max_in_flight`` requests per connection run at once, and a connection
holds at most about twice ``max_queued_response_bytes`` (or twice its largest
answer) of unsent answers: beyond either, it is not read and its requests wait
(``_Connection``; docs/design/server.md#limits-and-backpressure).  Answers
longer than ``piece_bytes`` go in pieces to version-3 clients.
Concurrency: connection state is touched only on the loop thread (but a
connection's ``reserved`` bytes, under its lock); workers hand answers back with
``call_soon_threadsafe``.  ``Dispatcher`` is thread-safe.
Hot path: ``_Connection.data_received`` and ``_work``; bench/bench_rpc.py.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import queue
import socket
import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import HedgerowError, is_core_panic
from hedgerow.rpc.codec import encode_error, packb
from hedgerow.rpc.codes import (
    DeadlineExceeded,
    ProtocolError,
    UnknownMessageType,
    UnsupportedVersion,
)
from hedgerow.rpc.dispatch import DEFAULT_LEASE_S, Dispatcher, answer_bytes
from hedgerow.rpc.framing import (
    Frame,
    FrameDecoder,
    encode_answer,
    encode_frame,
    encode_preamble,
)
from hedgerow.rpc.operations import MESSAGES, Handler, MessageType
from hedgerow.rpc.wire_format import (
    DEFAULT_MAX_FRAME_BYTES,
    HEADER_SIZE,
    PIECE_BYTES,
    PROTOCOL_VERSION,
    FrameFlag,
)

__all__ = ["DEFAULT_MAX_QUEUED_RESPONSE_BYTES", "RpcServer", "new_event_loop"]

#: Answer bytes one connection may hold unsent before the server stops reading it
#: and starting its requests (``RpcServer(max_queued_response_bytes=)``; issue 11,
#: finding 5).  8 MiB keeps a few hundred typical answers in flight, and bounds a
#: client that never reads to about 2 x max(8 MiB, its largest answer).
DEFAULT_MAX_QUEUED_RESPONSE_BYTES = 8 * 1024 * 1024

_RESPONSE = int(FrameFlag.RESPONSE)
_ERROR_RESPONSE = int(FrameFlag.RESPONSE | FrameFlag.ERROR)
_PING = int(MessageType.PING)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed, else the default asyncio loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _error_frame(msg_type: int, request_id: int, exc: BaseException) -> bytes:
    return encode_frame(msg_type, _ERROR_RESPONSE, request_id, 0, packb(encode_error(exc)))


#: How a request's answer is admitted to its connection's byte budget (``_Connection``):
#: reads whose answer may be large are weighed before their frame is built, and put
#: back to wait (they are re-run later: a read changes nothing) when the connection
#: already holds its budget; a scanner batch (capped at the budget) reserves it before
#: running, since advancing a scanner cannot be undone.  Everything else has a small
#: answer (or is a write, never run twice) and is answered as it comes.
_AFTER = 1
_BEFORE = 2
_FLOW = {
    int(MessageType.GET): _AFTER,
    int(MessageType.MULTI_GET): _AFTER,
    int(MessageType.OPEN_SCANNER): _BEFORE,
    int(MessageType.SCANNER_NEXT): _BEFORE,
}


class _Connection(asyncio.Protocol):
    """One client connection.

    Flow control (issue 11, finding 5; docs/design/server.md#limits-and-backpressure):
    the bytes of answers this connection holds are bounded by
    ``server.max_queued_response_bytes`` (B): the transport's write buffer pauses
    the connection past B (asyncio's high-water mark) and answers being built are
    reserved in ``reserved`` (at most B, or one answer when alone).  While paused,
    or with ``max_in_flight`` requests started, the connection stops reading and
    stops starting requests; decoded requests wait in ``backlog`` and reads put
    back for lack of budget in ``parked``.  So it holds at most about 2 x max(B,
    its largest answer) of answers, whatever the client sends.
    Concurrency: everything but ``reserved`` is touched only on the loop thread;
    ``reserved`` is guarded by ``self._lock`` (workers reserve, the loop releases).
    """

    def __init__(self, server: RpcServer, conn_id: int) -> None:
        self.server = server
        self.conn_id = conn_id
        self.decoder = FrameDecoder(server.max_frame_bytes, expect_preamble=True)
        self.transport: asyncio.Transport | None = None
        self.version = PROTOCOL_VERSION  # the connection's, once handshaken
        self.handshaken = False
        self.in_flight = 0
        self.backlog: collections.deque[tuple[Frame, float]] = collections.deque()
        self.parked: collections.deque[tuple[Frame, float, int]] = collections.deque()
        self.paused = False
        self.write_paused = False
        self.closed = False
        self._lock = threading.Lock()
        self.reserved = 0  # guarded by self._lock

    # -- asyncio callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        limit = self.server.max_queued_response_bytes
        self.transport.set_write_buffer_limits(high=limit, low=limit // 4)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.server._connections[self.conn_id] = self

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.backlog.clear()
        self.parked.clear()
        self.server._connections.pop(self.conn_id, None)
        self.server._on_connection_gone(self.conn_id)

    def pause_writing(self) -> None:
        self.write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._pump()

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except UnsupportedVersion as exc:
            self._fatal(exc, send_preamble=not self.handshaken)
            return
        except ProtocolError as exc:
            self._fatal(exc, send_preamble=not self.handshaken)
            return
        if not self.handshaken and self.decoder.preamble is not None:
            self.handshaken = True
            # answer with the version both ends speak: the lower of the two
            self.version = min(self.decoder.preamble.version, PROTOCOL_VERSION)
            self._write(encode_preamble(self.version))
        if not frames:
            return
        now = self.server.clock.monotonic_s()
        for f in frames:  # the deadline counts from arrival, as the client's does
            self.backlog.append((f, now + f.timeout_ms / 1000.0 if f.timeout_ms else 0.0))
        self._pump()

    # -- internals ----------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        t = self.transport
        if t is not None and not self.closed and not t.is_closing():
            t.write(data)

    def _fatal(self, exc: ProtocolError, *, send_preamble: bool) -> None:
        """Answer a stream-level error with an error frame and close the connection."""
        out = encode_preamble() if send_preamble else b""
        out += _error_frame(0, self.decoder.failed_request_id, exc)
        self._write(out)
        if self.transport is not None:
            self.transport.close()
        self.closed = True

    def _update_reading(self) -> None:
        t = self.transport
        if t is None or self.closed:
            return
        want_pause = (
            self.write_paused
            or self.in_flight >= self.server.max_in_flight
            or bool(self.backlog)
            or bool(self.parked)
        )
        if want_pause and not self.paused:
            self.paused = True
            t.pause_reading()
        elif not want_pause and self.paused:
            self.paused = False
            t.resume_reading()

    def _pump(self) -> None:
        """Start waiting requests while the connection has room; then read or not."""
        limit = self.server.max_in_flight
        while not self.closed and not self.write_paused and self.in_flight < limit:
            if self.parked:  # oldest first; nothing newer starts while they wait
                f, deadline, need = self.parked[0]
                if not self._try_reserve(need):
                    break
                self.parked.popleft()
                self._start(f, deadline, need)
            elif self.backlog:
                f, deadline = self.backlog.popleft()
                self._start(f, deadline, 0)
            else:
                break
        self._update_reading()

    def _try_reserve(self, n: int) -> bool:
        """Reserve ``n`` answer bytes unless the connection already holds its budget
        (one answer may always be built when none is)."""
        with self._lock:
            if self.write_paused or (
                self.reserved and self.reserved + n > self.server.max_queued_response_bytes
            ):
                return False
            self.reserved += n
            return True

    def _adjust(self, delta: int) -> None:
        with self._lock:
            self.reserved += delta

    def _start(self, f: Frame, deadline: float, held: int) -> None:
        if f.flags & _RESPONSE:
            self._write(
                _error_frame(f.type, f.request_id, ProtocolError("clients may not send responses"))
            )
            return
        if f.type == _PING:  # fast path: answered on the loop, no thread hop
            self._write(encode_frame(_PING, _RESPONSE, f.request_id, 0, f.body))
            return
        if f.type not in MESSAGES:
            self._write(
                _error_frame(
                    f.type, f.request_id, UnknownMessageType(f"unknown message type {f.type}")
                )
            )
            return
        server = self.server
        self.in_flight += 1
        server.requests_served += 1
        if f.type in server.inline_types:  # runs on the loop: no thread hop
            self._work(f, deadline, held, inline=True)
            return
        server._jobs.put((self._work, f, deadline, held))

    def _work(self, f: Frame, deadline: float, held: int, inline: bool = False) -> None:
        """Runs in a worker thread (on the loop thread when ``inline``).

        ``held``: answer bytes already reserved for this request (a parked one)."""
        server = self.server
        flow = _FLOW.get(f.type, 0)
        try:
            if deadline and server.clock.monotonic_s() > deadline:
                raise DeadlineExceeded(
                    f"request {f.request_id} ({_type_name(f.type)}) waited past its "
                    f"{f.timeout_ms} ms deadline before the server could run it"
                )
            if flow == _BEFORE and not held:
                need = server.max_queued_response_bytes  # a batch's cap
                if not self._try_reserve(need):
                    self._park(f, deadline, need, inline)
                    return
                held = need
            resp = server.dispatcher.run(f.type, f.body, self.conn_id, deadline)
            if flow == _AFTER and not held:
                need = answer_bytes(resp)
                if not self._try_reserve(need):
                    self._park(f, deadline, need, inline)  # the answer is dropped, not kept
                    return
                held = need
            out: list[bytes | memoryview] = encode_answer(
                f.type,
                f.request_id,
                server.dispatcher.encode(resp),
                version=self.version,
                max_frame_bytes=server.max_frame_bytes,
                piece_bytes=server.piece_bytes,
            )
        except BaseException as exc:
            if not isinstance(exc, Exception) and not is_core_panic(exc):
                raise
            if not isinstance(exc, HedgerowError):
                server.internal_errors += 1
            out = [_error_frame(f.type, f.request_id, exc)]
        size = sum(len(b) for b in out)
        self._adjust(size - held)  # what this answer holds until it is written
        if inline:
            self._done(out, size)
            return
        try:
            server._loop_call(self._done, out, size)
        except RuntimeError:
            pass  # loop closed: the server is gone, nobody to answer

    def _park(self, f: Frame, deadline: float, need: int, inline: bool) -> None:
        if inline:
            self._parked(f, deadline, need)
            return
        try:
            self.server._loop_call(self._parked, f, deadline, need)
        except RuntimeError:
            pass

    def _parked(self, f: Frame, deadline: float, need: int) -> None:
        self.in_flight -= 1
        self.server.requests_parked += 1
        if not self.closed:
            self.parked.append((f, deadline, need))
            self._pump()

    def _done(self, out: list[bytes | memoryview], size: int) -> None:
        self.in_flight -= 1
        t = self.transport
        if t is not None and not self.closed and not t.is_closing():
            t.writelines(out)
        self._adjust(-size)  # now in the transport's buffer (pause_writing past B)
        self._pump()


def _type_name(t: int) -> str:
    try:
        return MessageType(t).name
    except ValueError:
        return str(t)


class RpcServer:
    """Serves a ``Handler`` over TCP with the Hedgerow RPC protocol.

    ``inline_types``: message types whose handler calls are quick and never wait on
    other threads (e.g. GET served from memory) may run on the loop thread itself,
    saving the thread-pool hop; by default every call goes to the pool.
    Limits (docs/design/server.md#limits-and-backpressure): ``max_in_flight``:
    requests of one connection started at once (reading pauses beyond);
    ``max_queued_response_bytes``: answer bytes one connection may hold unsent
    (transport buffer plus answers being built; reading and starting requests pause
    beyond, so a client that does not read pins at most about twice this, or twice
    its largest answer); it also caps a scanner batch.  ``max_frame_bytes``: largest
    request frame read, and largest answer sent whole to a version-1/2 client;
    ``piece_bytes``: version-3 answers longer than this go in pieces.  A request's
    deadline (its frame's ``timeout_ms``) stops its work when passed: gets and scans
    check it once per row.  ``lease_s``: scanner lease; ``reap_interval_s``: reaper
    period.

    Lifecycle: ``await start()`` then ``await close()`` inside a running loop, or
    ``start_in_thread()`` / ``stop()`` from blocking code (own loop thread, uvloop
    when installed).  ``host``/``port`` give the bound address (port 0 picks one).

    >>> class H:
    ...     def table_names(self): return []
    >>> s = RpcServer(H()); host, port = s.start_in_thread(); s.stop()
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_in_flight: int = 128,
        max_queued_response_bytes: int = DEFAULT_MAX_QUEUED_RESPONSE_BYTES,
        piece_bytes: int = PIECE_BYTES,
        lease_s: float = DEFAULT_LEASE_S,
        reap_interval_s: float | None = None,
        workers: int = 16,
        inline_types: Collection[int] = (),
        clock: Clock | None = None,
    ) -> None:
        # constant after __init__
        self.handler = handler
        self.host = host
        self.port = port
        self.max_frame_bytes = max_frame_bytes
        self.max_in_flight = max(1, max_in_flight)
        self.max_queued_response_bytes = max(64 * 1024, max_queued_response_bytes)
        self.piece_bytes = max(1, min(piece_bytes, max_frame_bytes - HEADER_SIZE))
        self.lease_s = lease_s
        self.reap_interval_s = reap_interval_s or max(0.01, min(lease_s / 4, 5.0))
        self.clock: Clock = clock or SystemClock()
        self.dispatcher = Dispatcher(
            handler,
            lease_s=lease_s,
            clock=self.clock,
            max_batch_bytes=self.max_queued_response_bytes,
        )
        self._workers = workers
        self.inline_types = frozenset(int(t) for t in inline_types)
        # loop-thread state
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="hedgerow-rpc-admin")
        # request workers: plain threads on a SimpleQueue (cheaper than executor futures)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker_threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._connections: dict[int, _Connection] = {}
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        #: counters (loop thread / approximate)
        self.requests_served = 0
        self.internal_errors = 0
        #: reads put back to wait for their connection's answer budget
        self.requests_parked = 0

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def _loop_call(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("server not running")
        loop.call_soon_threadsafe(fn, *args)

    def _on_connection_gone(self, conn_id: int) -> None:
        # the client went away: its scanners go with it (iterator close may block)
        try:
            self._pool.submit(self.dispatcher.close_connection, conn_id)
        except RuntimeError:
            self.dispatcher.close_connection(conn_id)

    # ---- asyncio lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting; sets ``port`` when 0 was asked."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._server = await loop.create_server(
            lambda: _Connection(self, next(self._ids)), self.host, self.port
        )
        sock = self._server.sockets[0]
        self.host, self.port = sock.getsockname()[:2]
        self._reaper = loop.create_task(self._reap_loop())
        for i in range(self._workers):
            th = threading.Thread(target=self._worker, name=f"hedgerow-rpc-{i}", daemon=True)
            th.start()
            self._worker_threads.append(th)

    def _worker(self) -> None:
        get = self._jobs.get
        while True:
            job = get()
            if job is None:
                return
            fn, frame, deadline, held = job
            fn(frame, deadline, held)

    async def _reap_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.reap_interval_s)
            await loop.run_in_executor(self._pool, self.dispatcher.reap)

    async def close(self) -> None:
        """Stop accepting, close every connection (clients see ConnectionLost), close scanners."""
        if self._reaper is not None:
            self._reaper.cancel()
            try:
                await self._reaper
            except asyncio.CancelledError:
                pass
            self._reaper = None
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections.values()):
            if conn.transport is not None:
                conn.transport.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        await asyncio.sleep(0)  # let connection_lost callbacks run
        for _ in self._worker_threads:
            self._jobs.put(None)
        loop = asyncio.get_running_loop()
        for th in self._worker_threads:
            await loop.run_in_executor(self._pool, th.join, 10.0)
        self._worker_threads.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.dispatcher.close_all()

    # ---- blocking lifecycle -----------------------------------------------------------

    def start_in_thread(self) -> tuple[str, int]:
        """Run the server on its own event-loop thread; returns ``(host, port)``."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_until_complete(self._wait_stop())
                loop.run_until_complete(self.close())
            finally:
                loop.close()
                self._stopped.set()

        self._stop_requested = asyncio.Event()
        self._thread = threading.Thread(target=run, name="hedgerow-rpc-server", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self.host, self.port

    async def _wait_stop(self) -> None:
        await self._stop_requested.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop a server started with ``start_in_thread`` and wait for it."""
        loop = self._loop
        if self._thread is None or loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._stop_requested.set)
        except RuntimeError:
            pass  # loop already closed
        self._thread.join(timeout_s)
        self._thread = None
