"""Client transports: send a request frame, get its answer (or its error) back.

Role: ``rpc.client.RpcBackend`` (and later the region-aware client) talks to
servers only through a ``Transport``; tests use ``InMemoryTransport(handler)``,
which runs the server's dispatcher in-process without sockets.
Layout: this module holds the ``Transport``/``AsyncTransport`` protocols and
``InMemoryTransport``; ``SocketTransport`` (``socket_transport.py``) and
``AsyncSocketTransport`` (``async_transport.py``) are re-exported from here, and
share ``transport_common.py``.
Format: docs/formats/rpc.md (preamble, frames, error bodies).
Invariants: ``call`` returns the response body or raises a HedgerowError: the
server's error mapped back to its class, ``DeadlineExceeded`` once the deadline
passes, ``ServerUnreachable`` when no connection
can be made (nothing was sent), ``ConnectionLost`` when it closes while the
call waits, ``AnswerTooLarge`` when an answer in pieces passes
``max_answer_bytes`` (pieces are joined per request id; those of a call nobody
waits for are dropped as they come).  A call never waits past its deadline.  After a connection is
lost, the next call opens a new one.
Concurrency: ``SocketTransport`` is thread-safe: many threads share one
connection, each request has an id, one reader thread per connection hands
each answer to its caller.  ``AsyncSocketTransport`` is for one event loop.
``InMemoryTransport`` is thread-safe if its handler is.
Hot path: ``SocketTransport.call``; bench/bench_rpc.py prints p50/p99.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hedgerow._internal.clock import Clock
from hedgerow.errors import ClosedError, HedgerowError
from hedgerow.rpc.async_transport import AsyncSocketTransport
from hedgerow.rpc.codec import decode_error, encode_error
from hedgerow.rpc.dispatch import DEFAULT_LEASE_S, Dispatcher
from hedgerow.rpc.operations import Handler
from hedgerow.rpc.socket_transport import SocketTransport
from hedgerow.rpc.transport_common import DEFAULT_TIMEOUT_S
from hedgerow.rpc.wire_format import PROTOCOL_VERSION

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AsyncSocketTransport",
    "AsyncTransport",
    "InMemoryTransport",
    "SocketTransport",
    "Transport",
]


class Transport(Protocol):
    """Blocking request/response over some connection to one server."""

    def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        """Send one request; return its response body; raise its error."""
        ...

    def notify(self, msg_type: int, body: bytes) -> None:
        """Send a request whose answer nobody waits for (best effort; safe in finalizers)."""
        ...

    def call_many(
        self, calls: Sequence[tuple[int, bytes]], timeout_s: float | None = None
    ) -> list[bytes | HedgerowError]:
        """Send every request at once and wait for all; each answer's body or its error
        (not raised), in order (one region-addressed part per region, RFC 0001)."""
        ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """The asyncio flavour of ``Transport``."""

    async def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes: ...

    def notify(self, msg_type: int, body: bytes) -> None: ...

    async def close(self) -> None: ...


# ---- in-memory --------------------------------------------------------------------------


class InMemoryTransport:
    """Runs requests through a server ``Dispatcher`` in the caller's thread: no sockets.

    Bodies are still encoded and decoded, and errors still go through their wire
    form, so tests see exactly what a remote client would.

    >>> class H:
    ...     def table_names(self): return ["t"]
    >>> from hedgerow.rpc.codec import packb, unpackb
    >>> unpackb(InMemoryTransport(H()).call(2, packb(None)))
    ['t']
    """

    def __init__(
        self,
        handler: Handler,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Clock | None = None,
    ) -> None:
        self.dispatcher = Dispatcher(handler, lease_s=lease_s, clock=clock)
        self._closed = False
        #: no handshake in memory: both ends are this code
        self.protocol_version: int | None = PROTOCOL_VERSION

    def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        if self._closed:
            raise ClosedError("transport is closed")
        try:
            return self.dispatcher.handle(msg_type, body, 0)
        except Exception as exc:
            raise decode_error(encode_error(exc)) from None

    def notify(self, msg_type: int, body: bytes) -> None:
        if self._closed:
            return
        try:
            self.dispatcher.handle(msg_type, body, 0)
        except Exception:
            pass

    def call_many(
        self, calls: Sequence[tuple[int, bytes]], timeout_s: float | None = None
    ) -> list[bytes | HedgerowError]:
        """One after another in the caller's thread (there is no wire to overlap)."""
        out: list[bytes | HedgerowError] = []
        for msg_type, body in calls:
            try:
                out.append(self.call(msg_type, body, timeout_s))
            except HedgerowError as exc:
                out.append(exc)
        return out

    def close(self) -> None:
        self._closed = True
        self.dispatcher.close_all()
