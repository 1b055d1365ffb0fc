"""The asyncio socket transport: ``SocketTransport``'s semantics on one event loop.

Role: ``AsyncSocketTransport`` is the ``AsyncTransport`` of
``rpc.aio_client.AsyncRpcBackend`` (re-exported by ``rpc.transport``).
Format: docs/formats/rpc.md (preamble, frames, error bodies).
Invariants: as ``SocketTransport``: a call returns its body or raises the
server's error, ``DeadlineExceeded``, ``ConnectionLost`` or ``AnswerTooLarge``;
it never waits past its deadline; a lost connection is reopened by the next call.
Concurrency: not thread-safe: one event loop only; answers are matched to
calls by request id in ``_AsyncConn.data_received``.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import cast

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import ClosedError, HedgerowError
from hedgerow.rpc.codec import decode_error, unpackb
from hedgerow.rpc.codes import ConnectionLost, DeadlineExceeded, ProtocolError, ServerUnreachable
from hedgerow.rpc.framing import (
    AnswerAssembler,
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

__all__ = ["AsyncSocketTransport"]

_ERROR = int(FrameFlag.ERROR)
_MORE = int(FrameFlag.MORE)


class _AsyncConn(asyncio.Protocol):
    def __init__(self, where: str, max_frame_bytes: int, max_answer_bytes: int) -> None:
        self.where = where
        self.decoder = FrameDecoder(max_frame_bytes, expect_preamble=True)
        self.assembler = AnswerAssembler(max_answer_bytes)
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future[tuple[int, bytes]] | None] = {}
        self.broken: HedgerowError | None = None
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.transport.write(encode_preamble())

    def fail(self, exc: HedgerowError) -> None:
        if self.broken is None:
            self.broken = exc
        if not self.handshake.done():
            self.handshake.set_exception(self.broken)
        for rid in list(self.pending):
            fut = self.pending.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_exception(self.broken)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        why = f": {exc}" if exc else ""
        self.fail(ConnectionLost(f"server {self.where} closed the connection{why}"))

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except ProtocolError as exc:
            self.fail(exc)
            return
        if self.decoder.preamble is not None and not self.handshake.done():
            self.handshake.set_result(None)
        for f in frames:
            if f.request_id == 0:
                err: HedgerowError = ConnectionLost(f"server {self.where} closed the connection")
                if f.flags & _ERROR:
                    try:
                        err = decode_error(unpackb(f.body))
                    except HedgerowError as exc:
                        err = exc
                self.fail(err)
                return
            if f.flags & _MORE or self.assembler.pending:
                if f.request_id not in self.pending:
                    self.assembler.drop(f.request_id)  # nobody waits any more
                    continue
                whole = self.assembler.add(f)
                if whole is None:
                    continue  # a piece: more follow
                if isinstance(whole, HedgerowError):
                    fut = self.pending.pop(f.request_id, None)
                    if fut is not None and not fut.done():
                        fut.set_exception(whole)
                    continue
                f = whole
            fut = self.pending.pop(f.request_id, None)
            if fut is not None and not fut.done():
                fut.set_result((f.flags, f.body))


class AsyncSocketTransport:
    """asyncio transport with the semantics of ``SocketTransport`` (one loop only)."""

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
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self.max_answer_bytes = max_answer_bytes
        self.clock: Clock = clock or SystemClock()
        self._where = f"{host}:{port}"
        self._conn: _AsyncConn | None = None
        self._connecting: asyncio.Lock | None = None
        self._ids = itertools.count(1)
        self._closed = False

    async def _connect(self, deadline: float) -> _AsyncConn:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._closed:
                raise ClosedError(f"transport to {self._where} is closed")
            conn = self._conn
            if conn is not None and conn.broken is None:
                return conn
            remaining = deadline - self.clock.monotonic_s()
            if remaining <= 0:
                raise DeadlineExceeded(f"deadline passed before connecting to {self._where}")
            t = min(remaining, self.connect_timeout_s)
            loop = asyncio.get_running_loop()
            conn = None
            try:
                async with asyncio.timeout(t):
                    _, conn = await loop.create_connection(
                        lambda: _AsyncConn(
                            self._where, self.max_frame_bytes, self.max_answer_bytes
                        ),
                        self.host,
                        self.port,
                    )
                    await conn.handshake
            except TimeoutError:
                if conn is not None and conn.transport is not None:
                    conn.transport.close()
                raise DeadlineExceeded(
                    f"could not connect to {self._where} within {t:.3g} s"
                ) from None
            except OSError as exc:
                raise ServerUnreachable(f"cannot connect to {self._where}: {exc}") from None
            except ServerUnreachable:
                raise
            except ConnectionLost as exc:  # closed during the handshake: nothing was sent
                raise ServerUnreachable(str(exc)) from exc
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

    async def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        now = self.clock.monotonic_s()
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = now + timeout
        conn = self._conn
        if conn is None or conn.broken is not None:
            conn = await self._connect(deadline)
        rid = next(self._ids) & MAX_REQUEST_ID or next(self._ids) & MAX_REQUEST_ID
        fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        conn.pending[rid] = fut
        assert conn.transport is not None
        conn.transport.write(encode_frame(msg_type, 0, rid, frame_timeout_ms(timeout), body))
        try:
            async with asyncio.timeout(max(0.0, deadline - self.clock.monotonic_s())):
                flags, data = await fut
        except TimeoutError:
            conn.pending.pop(rid, None)
            raise DeadlineExceeded(
                f"no answer from {self._where} to request {rid} (type {msg_type}) "
                f"within {timeout:.3g} s"
            ) from None
        return answer_body(flags, data)

    def notify(self, msg_type: int, body: bytes) -> None:
        conn = self._conn
        if conn is None or conn.broken is not None or conn.transport is None:
            return
        rid = next(self._ids) & MAX_REQUEST_ID or next(self._ids) & MAX_REQUEST_ID
        conn.pending[rid] = None
        conn.transport.write(encode_frame(msg_type, 0, rid, 0, body))

    async def close(self) -> None:
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.fail(ClosedError(f"transport to {self._where} was closed"))
            await asyncio.sleep(0)
