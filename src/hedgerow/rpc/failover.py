"""Transports to "the active master", which follow a master failover.

Role: the bootstrap transport of a ``hedgerow+zk://`` connection (``hedgerow.connect``,
``hedgerow.aio.connect``). Admin, DDL and location calls (REGIONS) go to the bootstrap;
when its master is gone (no connection: ``ServerUnreachable``) or answers
``NOT_LEADER`` (a backup, or a deposed master), the transport asks ``resolve`` for the
active master's address again (the caller reads it from ZooKeeper), switches its
inner transport to it, and sends the call again, with backoff, until the call's
deadline. A call whose connection broke after it was sent (``ConnectionLost``) is sent
again only if it is a read (``READ_ONLY``); a DDL call that may have been applied raises.
Data calls never come here: they go to region servers through the pool, which opens
plain transports (``peer_factory``). docs/design/cluster.md#the-client-path.
Invariants: ``host``/``port`` name the master first resolved (the pool's "home"); the
inner transport is replaced only under the lock, and only if it is still the one that
failed (concurrent callers resolve once).
Concurrency: ``FailoverTransport`` is thread-safe like ``SocketTransport``;
``AsyncFailoverTransport`` belongs to one event loop and resolves in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import CoordinationError, HedgerowError, NotLeader
from hedgerow.rpc.async_transport import AsyncSocketTransport
from hedgerow.rpc.codes import ConnectionLost, ServerUnreachable
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.socket_transport import SocketTransport
from hedgerow.rpc.transport_common import DEFAULT_TIMEOUT_S

__all__ = ["READ_ONLY", "AsyncFailoverTransport", "FailoverTransport", "Resolve"]

log = logging.getLogger("hedgerow.client")

#: resolves the active master: ``(host, port)``; raises CoordinationError when none is
Resolve = Callable[[], tuple[str, int]]

#: master calls that change nothing: sent again after a connection broke mid-call
READ_ONLY = frozenset(
    {
        MessageType.PING,
        MessageType.TABLE_NAMES,
        MessageType.DESCRIPTOR,
        MessageType.IS_TABLE_ENABLED,
        MessageType.REGIONS,
        MessageType.STATUS,
        MessageType.TABLE_EXISTS,
    }
)

#: first pause before asking again, and the longest (a failover takes about the
#: ZooKeeper session timeout: seconds)
_FIRST_PAUSE_S = 0.05
_MAX_PAUSE_S = 1.0


def _retryable(e: BaseException, msg_type: int) -> bool:
    if isinstance(e, (NotLeader, ServerUnreachable, CoordinationError)):
        return True
    return isinstance(e, ConnectionLost) and msg_type in READ_ONLY


_T = TypeVar("_T", SocketTransport, AsyncSocketTransport)


class _Base(Generic[_T]):
    """What the blocking and asyncio transports share: settings, the current master's
    transport (``_inner``) and what is read off it."""

    _inner: _T

    def __init__(
        self,
        resolve: Resolve,
        first: tuple[str, int],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        connect_timeout_s: float = 5.0,
        max_frame_bytes: int | None = None,
        max_answer_bytes: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._resolve = resolve
        self.host, self.port = first
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.clock: Clock = clock or SystemClock()
        self._settings: dict[str, Any] = {
            "timeout_s": timeout_s,
            "connect_timeout_s": connect_timeout_s,
            "clock": self.clock,
        }
        if max_frame_bytes is not None:
            self._settings["max_frame_bytes"] = max_frame_bytes
        if max_answer_bytes is not None:
            self._settings["max_answer_bytes"] = max_answer_bytes
        #: how many times the master was looked up again (tests and stats)
        self.failovers = 0

    def _deadline(self, timeout_s: float | None) -> float:
        return self.clock.monotonic_s() + (self.timeout_s if timeout_s is None else timeout_s)

    @property
    def protocol_version(self) -> int | None:
        return self._inner.protocol_version

    @property
    def address(self) -> str:
        """The master the calls go to now."""
        return f"{self._inner.host}:{self._inner.port}"

    def notify(self, msg_type: int, body: bytes) -> None:
        self._inner.notify(msg_type, body)


class FailoverTransport(_Base[SocketTransport]):
    """A blocking transport to the active master (see the module docstring)."""

    def __init__(self, resolve: Resolve, first: tuple[str, int], **settings: Any) -> None:
        super().__init__(resolve, first, **settings)
        self._lock = threading.Lock()
        self._inner = SocketTransport(*first, **self._settings)
        self._retired: list[SocketTransport] = []

    def peer_factory(self, host: str, port: int) -> SocketTransport:
        """A plain transport to a region server, with this one's settings (``ServerPool``)."""
        return SocketTransport(host, port, **self._settings)

    def _follow(self, failed: SocketTransport) -> None:
        """Look the active master up again and switch to it (once per failure)."""
        with self._lock:
            if self._inner is not failed:
                return  # another caller switched already
            host, port = self._resolve()
            self.failovers += 1
            if (host, port) == (failed.host, failed.port):
                return  # the same master (a new one not elected yet, or it came back)
            log.info("active master moved to %s:%d", host, port)
            self._inner = SocketTransport(host, port, **self._settings)
            self._retired.append(failed)

    def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        deadline = self._deadline(timeout_s)
        pause = _FIRST_PAUSE_S
        while True:
            inner = self._inner
            left = deadline - self.clock.monotonic_s()
            try:
                return inner.call(msg_type, body, max(left, 0.001))
            except Exception as e:
                if not _retryable(e, msg_type) or self.clock.monotonic_s() + pause > deadline:
                    raise
                last = e
            try:
                self._follow(inner)
            except CoordinationError as e:  # ZooKeeper unreachable or no master yet
                log.info("no active master yet (%s); retrying", e)
            except ConnectionLost:
                pass
            if self.clock.monotonic_s() + pause > deadline:
                raise last
            time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_S)

    def call_many(
        self, calls: Sequence[tuple[int, bytes]], timeout_s: float | None = None
    ) -> list[bytes | HedgerowError]:
        return self._inner.call_many(calls, timeout_s)

    def close(self) -> None:
        with self._lock:
            for t in (*self._retired, self._inner):
                t.close()
            self._retired.clear()


class AsyncFailoverTransport(_Base[AsyncSocketTransport]):
    """The asyncio twin of ``FailoverTransport`` (one event loop)."""

    def __init__(self, resolve: Resolve, first: tuple[str, int], **settings: Any) -> None:
        super().__init__(resolve, first, **settings)
        self._inner = AsyncSocketTransport(*first, **self._settings)
        self._retired: list[AsyncSocketTransport] = []
        self._following: asyncio.Lock | None = None

    def peer_factory(self, host: str, port: int) -> AsyncSocketTransport:
        return AsyncSocketTransport(host, port, **self._settings)

    async def _follow(self, failed: AsyncSocketTransport) -> None:
        if self._following is None:
            self._following = asyncio.Lock()
        async with self._following:
            if self._inner is not failed:
                return
            host, port = await asyncio.to_thread(self._resolve)
            self.failovers += 1
            if (host, port) == (failed.host, failed.port):
                return
            log.info("active master moved to %s:%d", host, port)
            self._inner = AsyncSocketTransport(host, port, **self._settings)
            self._retired.append(failed)

    async def call(self, msg_type: int, body: bytes, timeout_s: float | None = None) -> bytes:
        deadline = self._deadline(timeout_s)
        pause = _FIRST_PAUSE_S
        while True:
            inner = self._inner
            left = deadline - self.clock.monotonic_s()
            try:
                return await inner.call(msg_type, body, max(left, 0.001))
            except Exception as e:
                if not _retryable(e, msg_type) or self.clock.monotonic_s() + pause > deadline:
                    raise
                last = e
            try:
                await self._follow(inner)
            except CoordinationError as e:
                log.info("no active master yet (%s); retrying", e)
            except ConnectionLost:
                pass
            if self.clock.monotonic_s() + pause > deadline:
                raise last
            await asyncio.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_S)

    async def close(self) -> None:
        for t in (*self._retired, self._inner):
            await t.close()
        self._retired.clear()
