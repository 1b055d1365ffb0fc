"""One Thrift client connection on the gateway's event loop: a small state machine.

Role: ``ThriftServer`` creates a ``ClientConnection`` per accepted socket
(asyncio protocol). It feeds received bytes to a ``RequestSplitter``, hands each
whole request to the server's worker pool (``ThriftServer._submit``), writes the
answer back and arms the handshake, request, write and idle timers
(docs/design/thrift-gateway.md#connections-threads-and-limits).
Invariants: a connection's requests run one at a time, in order; while one
runs, or its answer cannot be written yet, the connection is not read (so it
buffers at most one request and one answer); at most one timer per state is
armed; a malformed or over-limit message closes only this connection (over a
limit, after an application error naming the limit).
Concurrency: every method runs on the server's loop thread; workers reach a
connection only through ``loop.call_soon_threadsafe(conn._done, answer)``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any, cast

from hedgerow.gateways.thrift.splitter import MessageError, Need, RequestSplitter

if TYPE_CHECKING:
    from hedgerow.gateways.thrift.server import ThriftServer

__all__ = ["ClientConnection"]

log = logging.getLogger("hedgerow.gateways.thrift")


class ClientConnection(asyncio.Protocol):
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
