"""The Thrift1 gateway's network server: an event loop for sockets, a bounded pool for calls.

Role: ``ThriftServer(connection, ...)`` listens on a TCP port and serves HBase's
``Hbase`` service (``hbase.thrift``) through ``HbaseHandler``. One asyncio event
loop owns every client socket: it reads bytes, cuts them into whole request
messages (``splitter.RequestSplitter``, which also enforces the request limits),
and hands each whole request to a fixed pool of ``workers`` threads, which decode
it, call the handler and encode the answer; the loop writes the answer back.
Buffered or framed transport, binary or compact protocol, chosen at start like
HBase's ``-f``/``-c`` flags. Design, limits and defaults:
docs/design/thrift-gateway.md#connections-threads-and-limits.
Invariants:
- the gateway runs ``workers`` + 1 threads however many clients connect: a
  connection holds a thread only while one of its requests is being run, never
  while it is idle or still sending (issue 11, finding 9);
- at most ``max_connections`` client connections are open; one more is closed
  as soon as it is accepted, with a warning (rate-limited), and the others are
  served as before;
- a connection is closed (logged at INFO) when it sends no complete request
  within ``handshake_timeout_s`` of connecting, takes longer than
  ``request_timeout_s`` to send one request once its first byte arrived, leaves
  an answer untaken that long, or sits idle between requests for
  ``idle_timeout_s`` (None: never; the default keeps happybase's pooled
  connections, see docs/design/thrift-gateway.md#connections-threads-and-limits);
- a connection's requests run one at a time, in order; while one runs, or its
  answer cannot be written yet, the connection is not read (so it buffers at
  most one request and one answer);
- a request that fails never ends the server: a Hedgerow or handler error
  becomes an exception the method declares (``SafeProcessor``); a malformed or
  over-limit message closes only its connection (over a limit, after an
  application error naming the limit);
- scanners idle longer than ``scanner_lease_s`` are reclaimed (the loop
  schedules ``reap`` on a worker).
Concurrency: connection state lives on the loop thread only; workers take jobs
from a queue and hand answers back with ``call_soon_threadsafe``; the handler is
thread-safe.
Hot path: ``_Connection.data_received`` -> ``RequestSplitter.next_message`` ->
``ThriftServer._run`` (every call); see bench/bench_thrift.py.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any, cast

from hedgerow import Connection
from hedgerow.errors import HedgerowError, InvalidArgument
from hedgerow.gateways.thrift.convert import map_error
from hedgerow.gateways.thrift.handler import HbaseHandler
from hedgerow.gateways.thrift.idl import load_idl
from hedgerow.gateways.thrift.splitter import MessageError, Need, RequestSplitter

__all__ = ["DEFAULTS", "TUNABLES", "SafeProcessor", "ThriftServer"]

log = logging.getLogger("hedgerow.gateways.thrift")

#: Server settings and their defaults (``hedgerow thrift --help`` shows them;
#: ``hedgerow standalone --thrift-set NAME=VALUE`` sets them).
DEFAULTS: dict[str, Any] = {
    # HBase Thrift's default port (hbase.regionserver.thrift.port)
    "port": 9090,
    # loopback unless told otherwise
    "host": "127.0.0.1",
    # seconds an open scanner survives without a call (HBase: 60 s scanner lease)
    "scanner_lease_s": 60.0,
    # threads that run requests; the gateway has this many + 1 (its event loop)
    # (HBase: hbase.thrift.minWorkerThreads = 16)
    "workers": 16,
    # open client connections; each holds a file descriptor. One more is accepted
    # and closed at once (HBase bounds them by hbase.thrift.maxWorkerThreads = 1000)
    "max_connections": 512,
    # seconds a new connection has to deliver its first whole request; None: forever
    # (HBase: hbase.thrift.server.socket.read.timeout = 60 s for every read)
    "handshake_timeout_s": 60.0,
    # seconds a connection may stay idle between requests; None: forever.
    # Ten times HBase's 60 s: an idle connection costs a descriptor, not a thread
    "idle_timeout_s": 600.0,
    # seconds a client has to send the rest of a request once its first byte came,
    # and to take an answer the server could not write at once; None: forever
    "request_timeout_s": 60.0,
    # largest request message (framed: frame) in bytes (HBase framed: 2 MiB by
    # default, libthrift: 100 MB); a Hedgerow cell may be up to 10 MiB
    "max_message_bytes": 64 * 1024 * 1024,
    # most values (fields, list elements, map keys and values) in one request;
    # bounds the memory decoding one request takes (some 100 bytes a value)
    "max_message_values": 4_000_000,
    # listen backlog
    "backlog": 128,
}

#: Keys of DEFAULTS that tune the server (not where it listens or what it speaks).
TUNABLES = (
    "scanner_lease_s",
    "workers",
    "max_connections",
    "handshake_timeout_s",
    "idle_timeout_s",
    "request_timeout_s",
    "max_message_bytes",
    "max_message_values",
    "backlog",
)

#: Largest max_message_bytes: thriftpy2's C buffers and Thrift's lengths are i32.
_MAX_MESSAGE_BYTES_LIMIT = 2**31 - 1 - 4

#: Seconds between two warnings about refused connections (the ones in between
#: are counted and reported with the next warning).
REFUSAL_LOG_INTERVAL_S = 10.0


def _declared(service: Any) -> dict[str, frozenset[str]]:
    """Method name -> names of the exceptions its IDL ``throws`` clause declares."""
    out = {}
    for api in service.thrift_services:
        spec = getattr(service, api + "_result").thrift_spec
        out[api] = frozenset(v[2].__name__ for k, v in spec.items() if v[1] != "success")
    return out


def _make_processor_class() -> Any:
    from thriftpy2.thrift import TApplicationException, TMessageType, TProcessor

    class _SafeProcessor(TProcessor):
        """thriftpy2's processor, but every handler error becomes a declared exception.

        thriftpy2 re-raises an undeclared error, which drops the connection;
        here a Hedgerow error maps per ``convert.map_error`` and anything a
        method cannot declare becomes ``TApplicationException(INTERNAL_ERROR)``.
        """

        def __init__(self, service: Any, handler: Any, ttypes: Any) -> None:
            super().__init__(service, handler)
            self._ttypes = ttypes
            self._declared = _declared(service)
            self._idl_exc = (ttypes.IOError, ttypes.IllegalArgument, ttypes.AlreadyExists)

        def process(self, iprot: Any, oprot: Any) -> None:
            api, seqid, result, call = self.process_in(iprot)
            if isinstance(result, TApplicationException):
                self.send_exception(oprot, api, result, seqid)
                return
            assert call is not None
            try:
                result.success = call()
            except TApplicationException as e:
                self.send_exception(oprot, api, e, seqid)
                return
            except Exception as e:
                declared = self._declared.get(api, frozenset())
                if isinstance(e, self._idl_exc):
                    err = e
                    if type(e).__name__ not in declared:  # e.g. IllegalArgument -> IOError
                        err = self._ttypes.IOError(message=str(e.message), canRetry=False)
                else:
                    err = map_error(self._ttypes, e, declared)
                    if not isinstance(e, HedgerowError):
                        log.warning("%s failed: %r", api, e, exc_info=e)
                if not self.handle_exception(err, result):
                    self.send_exception(
                        oprot,
                        api,
                        TApplicationException(TApplicationException.INTERNAL_ERROR, f"{api}: {e}"),
                        seqid,
                    )
                    return
            if not result.oneway:
                oprot.write_message_begin(api, TMessageType.REPLY, seqid)
                result.write(oprot)
                oprot.write_message_end()
                oprot.trans.flush()

    return _SafeProcessor


_processor_cls: Any = None


def SafeProcessor(service: Any, handler: Any, ttypes: Any) -> Any:  # noqa: N802 - a factory
    """A thriftpy2 processor that never lets a handler error drop the connection."""
    global _processor_cls
    if _processor_cls is None:
        _processor_cls = _make_processor_class()
    return _processor_cls(service, handler, ttypes)


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed (as the RPC server uses), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _check_timeout(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise InvalidArgument(f"{name} must be positive or None, got {value!r}")


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a positive integer, got {value!r}")


class _Connection(asyncio.Protocol):
    """One client connection; every method runs on the loop thread.

    States: ``new`` (no whole request yet: handshake timer), ``reading`` (part of
    a request buffered: request timer), ``busy`` (a worker runs its request: no
    timer, not read), ``idle`` (between requests: idle timer). Independently,
    ``write_paused`` (the client is not taking its answer: write timer, not read).
    """

    def __init__(self, server: ThriftServer) -> None:
        # constant after __init__
        self.server = server
        self.splitter = RequestSplitter(
            framed=server.framed,
            compact=server.compact,
            max_message_bytes=server.max_message_bytes,
            max_message_values=server.max_message_values,
        )
        # loop-thread state
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None
        self.state = "new"
        self.write_paused = False
        self.read_paused = False
        self.eof = False
        self.closed = False
        self.turn_pending = False  # a call_soon(self._advance) is scheduled
        self.timer: asyncio.TimerHandle | None = None
        self.write_timer: asyncio.TimerHandle | None = None

    # ---- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.peer = transport.get_extra_info("peername")
        server = self.server
        if len(server._connections) >= server.max_connections:
            self.closed = True
            server._refused(self.peer)
            self.transport.abort()
            return
        server._connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._arm(server.handshake_timeout_s, "sent no whole request", "handshake_timeout_s")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timers()
        self.server._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.splitter.feed(data)
        if self.state == "idle":
            self.state = "reading"
            self._arm(self.server.request_timeout_s, "sent part of a request", "request_timeout_s")
        if self.state != "busy":
            self._advance()

    def eof_received(self) -> bool:
        self.eof = True
        if self.state != "busy":
            self._advance()
        return True  # half-open: an answer still in the works is sent before closing

    def pause_writing(self) -> None:
        self.write_paused = True
        t = self.server.request_timeout_s
        if t is not None and self.server._loop is not None:
            self.write_timer = self.server._loop.call_later(
                t, self._expire, "did not take its answer", "request_timeout_s", t
            )

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None
        if self.state != "busy":
            self._advance()

    # ---- internals ----------------------------------------------------------------------

    def _arm(self, timeout_s: float | None, what: str, knob: str) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        loop = self.server._loop
        if timeout_s is not None and loop is not None:
            self.timer = loop.call_later(timeout_s, self._expire, what, knob, timeout_s)

    def _cancel_timers(self) -> None:
        for t in (self.timer, self.write_timer):
            if t is not None:
                t.cancel()
        self.timer = self.write_timer = None

    def _expire(self, what: str, knob: str, timeout_s: float) -> None:
        if self.closed:
            return
        log.info("closing connection from %s: %s in %g s (%s)", self.peer, what, timeout_s, knob)
        self.server.timed_out += 1
        self._close(abort=True)

    def _close(self, *, abort: bool = False) -> None:
        self.closed = True
        self._cancel_timers()
        t = self.transport
        if t is not None:
            if abort:
                t.abort()
            else:
                t.close()

    def _set_reading(self, paused: bool) -> None:
        t = self.transport
        if t is None or self.closed or paused == self.read_paused:
            return
        self.read_paused = paused
        if paused:
            t.pause_reading()
        else:
            t.resume_reading()

    def _turn(self) -> None:
        self.turn_pending = False
        if not self.closed and self.state != "busy":
            self._advance()

    def _advance(self) -> None:
        """Start the next whole request, if one is buffered and nothing else runs."""
        if self.closed or self.write_paused:
            self._set_reading(True)
            return
        try:
            got = self.splitter.next_message()
        except MessageError as e:
            self._reject(e)
            return
        if got is Need.TURN:  # a long request: let other connections run, then go on
            if not self.turn_pending:
                self.turn_pending = True
                loop = self.server._loop
                assert loop is not None
                loop.call_soon(self._turn)
            return
        if got is Need.DATA:
            if self.eof:
                self._close()  # the client is done sending: nothing more will come
            else:
                self._set_reading(False)
            return
        assert isinstance(got, bytes)
        self.state = "busy"
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._set_reading(True)
        self.server._submit(self, got)

    def _done(self, answer: bytes | None) -> None:
        """A worker finished this connection's request (None: it could not be decoded)."""
        if self.closed:
            return
        self.server.requests_served += 1
        t = self.transport
        if answer is None or t is None:
            self._close()
            return
        if answer:
            t.write(answer)
        if self.splitter.buffered:
            self.state = "reading"
            self._arm(self.server.request_timeout_s, "sent part of a request", "request_timeout_s")
        else:
            self.state = "idle"
            self._arm(self.server.idle_timeout_s, "sent nothing", "idle_timeout_s")
        self._advance()

    def _reject(self, e: MessageError) -> None:
        """Close after a message the server will not read (answering if it can say why)."""
        server = self.server
        server.rejected += 1
        if e.limit is not None:
            log.warning("closing connection from %s: %s", self.peer, e)
            if e.method is not None and e.seqid is not None and self.transport is not None:
                self.transport.write(server._error_answer(e.method, e.seqid, str(e)))
        else:
            log.warning("closing connection from %s after a malformed request: %s", self.peer, e)
        self._close()


class ThriftServer:
    """Serve HBase's Thrift1 ``Hbase`` service for one ``hedgerow.Connection``.

    Limits (defaults in ``DEFAULTS``): ``workers``, ``max_connections``,
    ``handshake_timeout_s``, ``idle_timeout_s``, ``request_timeout_s``,
    ``max_message_bytes``, ``max_message_values``; see the module docstring.

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> srv = ThriftServer(conn, port=0, framed=True).start()
    >>> srv.describe().startswith("HBase Thrift1 gateway on 127.0.0.1:")
    True
    >>> srv.stop(); conn.close()
    """

    def __init__(
        self,
        connection: Connection,
        *,
        host: str = DEFAULTS["host"],
        port: int = DEFAULTS["port"],
        framed: bool = False,
        compact: bool = False,
        scanner_lease_s: float = DEFAULTS["scanner_lease_s"],
        workers: int = DEFAULTS["workers"],
        max_connections: int = DEFAULTS["max_connections"],
        handshake_timeout_s: float | None = DEFAULTS["handshake_timeout_s"],
        idle_timeout_s: float | None = DEFAULTS["idle_timeout_s"],
        request_timeout_s: float | None = DEFAULTS["request_timeout_s"],
        max_message_bytes: int = DEFAULTS["max_message_bytes"],
        max_message_values: int = DEFAULTS["max_message_values"],
        backlog: int = DEFAULTS["backlog"],
    ) -> None:
        _check_timeout("handshake_timeout_s", handshake_timeout_s)
        _check_timeout("idle_timeout_s", idle_timeout_s)
        _check_timeout("request_timeout_s", request_timeout_s)
        for name, value in (
            ("workers", workers),
            ("max_connections", max_connections),
            ("max_message_bytes", max_message_bytes),
            ("max_message_values", max_message_values),
            ("backlog", backlog),
        ):
            _check_count(name, value)
        if max_message_bytes > _MAX_MESSAGE_BYTES_LIMIT:  # thriftpy2's buffers count in i32
            raise InvalidArgument(
                f"max_message_bytes must be at most {_MAX_MESSAGE_BYTES_LIMIT}, "
                f"got {max_message_bytes}"
            )
        proto: Any = importlib.import_module("thriftpy2.protocol")
        memory: Any = importlib.import_module("thriftpy2.transport.memory")

        # constant after __init__
        self.ttypes = load_idl()
        self.handler = HbaseHandler(connection, self.ttypes, scanner_lease_s=scanner_lease_s)
        self.host, self.port = host, port
        self.framed, self.compact = framed, compact
        self.workers = workers
        self.max_connections = max_connections
        self.handshake_timeout_s = handshake_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.request_timeout_s = request_timeout_s
        self.max_message_bytes = max_message_bytes
        self.max_message_values = max_message_values
        self._backlog = backlog
        # binary: thriftpy2's C decoder over its C memory buffer; compact: pure Python
        self._proto_factory = (
            proto.TCompactProtocolFactory(decode_response=True)
            if compact
            else proto.TBinaryProtocolFactory(decode_response=True)
        )
        self._memory: Callable[..., Any] = (
            memory.TMemoryBuffer
            if compact or not hasattr(memory, "TCyMemoryBuffer")
            else memory.TCyMemoryBuffer
        )
        self._processor = SafeProcessor(self.ttypes.Hbase, self.handler, self.ttypes)
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        # guarded by self._lock (start/stop)
        self._thread: threading.Thread | None = None
        self._worker_threads: list[threading.Thread] = []
        # loop-thread state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._stop_requested: asyncio.Event | None = None
        self._connections: set[_Connection] = set()
        self._refusals_unlogged = 0
        self._next_refusal_log = 0.0
        self._bound: tuple[str, int] | None = None
        #: counters (loop thread; approximate elsewhere)
        self.requests_served = 0
        self.refused = 0
        self.rejected = 0
        self.timed_out = 0

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound (port 0 asks the OS for a free one)."""
        return self._bound if self._bound is not None else (self.host, self.port)

    @property
    def connection_count(self) -> int:
        """Client connections open now."""
        return len(self._connections)

    def describe(self) -> str:
        h, p = self.address
        return (
            f"HBase Thrift1 gateway on {h}:{p} "
            f"({'framed' if self.framed else 'buffered'} transport, "
            f"{'compact' if self.compact else 'binary'} protocol, "
            f"scanner lease {self.handler.scanners.lease_s:g} s, "
            f"{self.workers} workers, up to {self.max_connections} connections)"
        )

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> ThriftServer:
        """Bind, listen and start serving in background threads; returns self.

        Raises OSError if the address cannot be bound (e.g. the port is taken).
        """
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = _new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._open(loop))
            except BaseException as e:
                failure.append(e)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_until_complete(self._serve_until_stopped())
            finally:
                loop.close()
                self._stopped.set()

        with self._lock:
            if self._thread is not None:
                raise InvalidArgument("this ThriftServer was already started")
            self._thread = threading.Thread(target=run, name="hedgerow-thrift-loop", daemon=True)
            self._thread.start()
        started.wait()
        if failure:
            with self._lock:
                self._thread = None
            raise failure[0]
        with self._lock:
            for i in range(self.workers):
                th = threading.Thread(target=self._work, name=f"hedgerow-thrift-{i}", daemon=True)
                th.start()
                self._worker_threads.append(th)
        return self

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._stop_requested = asyncio.Event()
        # SO_REUSEADDR but not SO_REUSEPORT: a second gateway on the same port fails
        self._server = await loop.create_server(
            lambda: _Connection(self),
            self.host,
            self.port,
            backlog=self._backlog,
            reuse_address=True,
        )
        h, p = self._server.sockets[0].getsockname()[:2]
        self._bound = (str(h), int(p))

    async def _serve_until_stopped(self) -> None:
        assert self._loop is not None and self._stop_requested is not None
        reg = self.handler.scanners
        interval = min(max(reg.lease_s / 4, 0.05), 5.0)
        reaper = self._loop.create_task(self._reap_loop(interval))
        try:
            await self._stop_requested.wait()
        finally:
            reaper.cancel()
            if self._server is not None:
                self._server.close()
            for conn in list(self._connections):
                conn._close(abort=True)
            await asyncio.sleep(0)  # let connection_lost callbacks run
            if self._server is not None:
                await self._server.wait_closed()

    async def _reap_loop(self, interval: float) -> None:
        reg = self.handler.scanners

        def reap() -> None:
            n = reg.reap()
            if n:
                log.info("reclaimed %d scanner(s) idle for over %g s", n, reg.lease_s)

        while True:
            await asyncio.sleep(interval)
            self._jobs.put(reap)

    def serve_forever(self) -> None:
        """Block until ``stop()`` is called (from a signal handler or another thread)."""
        if self._thread is None:
            self.start()
        self._stopped.wait()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop accepting, close every client connection and scanner; idempotent."""
        with self._lock:
            thread, self._thread = self._thread, None
            workers, self._worker_threads = self._worker_threads, []
        loop, stop = self._loop, self._stop_requested
        if thread is not None and loop is not None and stop is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass  # the loop already closed
            thread.join(timeout_s)
        for _ in workers:
            self._jobs.put(None)
        for th in workers:
            th.join(timeout_s)
        self._stopped.set()
        self.handler.scanners.close_all()

    def __enter__(self) -> ThriftServer:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- requests ----------------------------------------------------------------------

    def _submit(self, conn: _Connection, message: bytes) -> None:
        """Queue one whole request of ``conn`` for a worker (loop thread)."""
        loop = self._loop
        assert loop is not None

        def job() -> None:
            if conn.closed:  # gone while queued (or the server is stopping)
                return
            answer = self._run(conn, message)
            try:
                loop.call_soon_threadsafe(conn._done, answer)
            except RuntimeError:
                pass  # the loop closed: the server stopped, nobody to answer

        self._jobs.put(job)

    def _work(self) -> None:
        """A worker thread: run jobs until told to stop (a None job)."""
        get = self._jobs.get
        while True:
            job = get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a bug in the gateway: keep the worker alive
                log.exception("thrift worker job failed")

    def _run(self, conn: _Connection, message: bytes) -> bytes | None:
        """Decode one request, call the handler, encode the answer (worker thread).

        Returns the bytes to send (framed when the transport is), or None when the
        message could not be decoded (the connection is then closed).
        """
        out = self._memory()
        try:
            self._processor.process(
                self._proto_factory.get_protocol(self._memory(message)),
                self._proto_factory.get_protocol(out),
            )
        except Exception as e:  # undecodable: drop this connection only
            log.warning("closing connection from %s after a malformed request: %r", conn.peer, e)
            return None
        answer: bytes = out.getvalue()
        if self.framed and answer:
            return len(answer).to_bytes(4, "big") + answer
        return answer

    def _error_answer(self, method: str, seqid: int, message: str) -> bytes:
        """An encoded TApplicationException(PROTOCOL_ERROR) answering ``method``/``seqid``."""
        from thriftpy2.thrift import TApplicationException, TMessageType

        out = self._memory()
        oprot = self._proto_factory.get_protocol(out)
        oprot.write_message_begin(method, TMessageType.EXCEPTION, seqid)
        TApplicationException(TApplicationException.PROTOCOL_ERROR, message).write(oprot)
        oprot.write_message_end()
        answer: bytes = out.getvalue()
        return len(answer).to_bytes(4, "big") + answer if self.framed else answer

    def _refused(self, peer: Any) -> None:
        """Count (and now and then log) a connection closed for being over the cap."""
        self.refused += 1
        self._refusals_unlogged += 1
        loop = self._loop
        now = loop.time() if loop is not None else 0.0
        if now >= self._next_refusal_log:
            log.warning(
                "refused %d connection(s), the last from %s: %d open, max_connections=%d",
                self._refusals_unlogged,
                peer,
                len(self._connections),
                self.max_connections,
            )
            self._refusals_unlogged = 0
            self._next_refusal_log = now + REFUSAL_LOG_INTERVAL_S
