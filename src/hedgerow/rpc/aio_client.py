"""``AsyncRpcBackend``: the asyncio flavour of ``RpcBackend``, over an ``AsyncSocketTransport``.

Role: what ``hedgerow.aio.connect("hedgerow://...")`` gives ``AsyncConnection``.
``call`` awaits the same sans-I/O plans the blocking ``RpcBackend`` runs
(rpc/routing.py), each call on the transport of the server it names
(``RoutedBackend.pool``), a plan's parallel calls to every server at once with
``asyncio.gather``, so requests, routing, answers and errors are identical.
Format: messages per docs/formats/rpc.md#bodies.
Invariants: a scan (``async for row, cells in backend.scan(...)``) opens its
server scanner on the first ``__anext__``, pulls one batch at a time, and
closes the server scanner when exhausted, on ``aclose()``, or when
garbage-collected (a CLOSE_SCANNER notice scheduled on its event loop).
Concurrency: one event loop (the transport's); any number of coroutines may
call at once (requests are multiplexed on one connection); one scan belongs to
one coroutine at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from hedgerow._internal.sansio import drive_async
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import routing
from hedgerow.rpc.codec import unpackb
from hedgerow.rpc.codes import ConnectionLost
from hedgerow.rpc.operations import OPERATIONS, MessageType, Operations
from hedgerow.rpc.routing import Action, RoutedBackend, RpcPlan, ScanCursor
from hedgerow.rpc.transport import AsyncTransport

__all__ = ["AsyncRemoteScanner", "AsyncRpcBackend"]

P = ParamSpec("P")
R = TypeVar("R")


class AsyncRpcBackend(RoutedBackend[AsyncTransport]):
    """``RpcBackend`` for asyncio (an ``AsyncBackend``): ``call`` is a coroutine and
    ``scan`` an async iterator; settings as ``RoutedBackend``'s."""

    async def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run one operation over RPC (not a scan: see ``scan``)."""
        result: R = await self.drive(
            routing.run(OPERATIONS[op.__name__], args, kwargs, self.routing)
        )
        return result

    async def drive(self, plan: RpcPlan[R]) -> R:
        """Run a sans-I/O plan (rpc/routing.py) on the transport, awaiting."""
        return await drive_async(plan, self._perform)

    async def _perform(self, action: Action) -> list[Any] | None:
        if isinstance(action, routing.Send):
            return await self._send(action)
        await asyncio.sleep(action.seconds)
        return None

    async def _call(self, c: routing.Call[Any]) -> Any:
        """One call on its server's transport; a server gone is dropped from the pool."""
        t = self.pool.transport_for(c.server)
        try:
            return unpackb(await t.call(c.type, c.body(), self.timeout_s))
        except ConnectionLost:
            self.pool.drop(c.server, t)
            raise

    async def _send(self, action: routing.Send) -> list[Any]:
        calls = action.calls
        if len(calls) == 1:
            return [await self._call(calls[0])]
        return list(await asyncio.gather(*(self._call(c) for c in calls), return_exceptions=True))

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> AsyncRemoteScanner:
        return AsyncRemoteScanner(self, table, rng, spec)

    async def close(self) -> None:
        for t in self.pool.take_all():
            await t.close()
        await self.transport.close()


class AsyncRemoteScanner(ScanCursor, AsyncIterator[tuple[bytes, list[Cell]]]):
    """Iterates a server-side scanner batch by batch; see ``AsyncRpcBackend.scan``."""

    def __init__(
        self, backend: AsyncRpcBackend, table: str, rng: ScanRange, spec: ReadSpec
    ) -> None:
        super().__init__(table, rng, spec, backend.scan_batch_rows, backend.scan_batch_bytes)
        self._backend = backend
        self._loop: asyncio.AbstractEventLoop | None = None

    def __aiter__(self) -> AsyncRemoteScanner:
        return self

    async def __anext__(self) -> tuple[bytes, list[Cell]]:
        if not self.buffered():
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            if not await self._backend.drive(routing.fill(self._backend.routing, self)):
                raise StopAsyncIteration
        return self.pop()

    async def aclose(self) -> None:
        """Close the server scanner now (idempotent)."""
        call = self.close_call()
        if call is not None:
            b = self._backend
            await b.transport_for(call.server).call(call.type, call.body(), b.timeout_s)

    async def __aenter__(self) -> AsyncRemoteScanner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        sid = self.open_id()
        loop = getattr(self, "_loop", None)
        if sid is None or loop is None or loop.is_closed():
            return  # nothing open, or the server's lease will expire it
        t = self._backend.pool.open_transport(self.open_server())
        if t is None:
            return  # its server's transport was dropped: the scanner went with it
        try:
            loop.call_soon_threadsafe(
                t.notify,
                MessageType.CLOSE_SCANNER,
                routing.close_notice(sid),
            )
        except Exception:
            pass
