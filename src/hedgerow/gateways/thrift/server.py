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
Layout: this module holds the settings, the listener, the worker pool and the
lifecycle; each client connection is a ``connection.ClientConnection`` and
requests run through ``processor.SafeProcessor`` (re-exported here).
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
Hot path: ``ClientConnection.data_received`` -> ``RequestSplitter.next_message`` ->
``ThriftServer._run`` (every call); see bench/bench_thrift.py.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from hedgerow import Connection
from hedgerow.errors import InvalidArgument
from hedgerow.gateways.thrift.connection import ClientConnection
from hedgerow.gateways.thrift.handler import HbaseHandler
from hedgerow.gateways.thrift.idl import load_idl
from hedgerow.gateways.thrift.processor import SafeProcessor

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
        self._connections: set[ClientConnection] = set()
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
            lambda: ClientConnection(self),
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

    def _submit(self, conn: ClientConnection, message: bytes) -> None:
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

    def _run(self, conn: ClientConnection, message: bytes) -> bytes | None:
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
