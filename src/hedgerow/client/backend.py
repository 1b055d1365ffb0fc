"""The backend protocols: how the client API reaches wherever the data lives.

Role: ``Connection``/``Table``/``Admin`` (and their asyncio twins) talk only to a
backend, through one typed method: ``call(Operations.<op>, *args)``.  The
operations themselves are declared once, in ``hedgerow.rpc.operations``; a
backend never lists them.  Implementations: the embedded engine
(``hedgerow.engine.Engine.call``), ``hedgerow.rpc.RpcBackend`` over the network,
``hedgerow.rpc.aio_client.AsyncRpcBackend`` for asyncio, and ``ThreadedBackend``
(here), which runs a blocking backend's calls in worker threads for asyncio.
``call`` is typed by the operation it is given (``ParamSpec``), so a wrong
argument is a mypy error at the call site.
Invariants: ``call`` never takes a SCAN operation on an ``AsyncBackend`` (its
``scan`` returns an async iterator instead); a blocking backend's
``call(Operations.scan, ...)`` returns an iterator that holds server resources
until exhausted or closed.
Concurrency: implementations are thread-safe (blocking) or bound to one event loop
(asyncio).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc.operations import Operations

__all__ = ["AsyncBackend", "Backend", "OpRef", "ThreadedBackend"]

P = ParamSpec("P")
R = TypeVar("R")
_T = TypeVar("_T")

#: a reference to one operation: an ``Operations`` method, e.g. ``Operations.get``
OpRef = Callable[Concatenate[Operations, P], R]

Rows = Iterator[tuple[bytes, list[Cell]]]


class Backend(Protocol):
    """A blocking backend: runs operations and returns their results."""

    def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run ``op`` with these arguments (those of the ``Operations`` method)."""
        ...

    def close(self) -> None: ...


class AsyncBackend(Protocol):
    """An asyncio backend: ``call`` is a coroutine; ``scan`` an async iterator."""

    async def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R: ...

    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> AsyncIterator[tuple[bytes, list[Cell]]]: ...

    async def close(self) -> None: ...


class ThreadedBackend:
    """An ``AsyncBackend`` that runs a blocking ``Backend``'s calls in worker threads.

    ``scan_batch_rows`` rows are pulled per thread hop. The wrapped backend must be
    thread-safe (the engine is).
    """

    def __init__(self, backend: Backend, *, scan_batch_rows: int = 100) -> None:
        self.backend = backend
        self.scan_batch_rows = scan_batch_rows

    async def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        run = functools.partial(self.backend.call, op, *args, **kwargs)
        return await asyncio.to_thread(run)

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> _ThreadedScan:
        return _ThreadedScan(self, table, rng, spec)

    async def close(self) -> None:
        await asyncio.to_thread(self.backend.close)


def _take(it: Iterator[_T], n: int) -> list[_T]:
    out: list[_T] = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


class _ThreadedScan(AsyncIterator[tuple[bytes, list[Cell]]]):
    """A blocking scan iterator pulled ``scan_batch_rows`` rows per worker-thread hop."""

    def __init__(self, owner: ThreadedBackend, table: str, rng: ScanRange, spec: ReadSpec) -> None:
        self._owner = owner
        self._args = (table, rng, spec)
        self._it: Rows | None = None
        self._buf: list[tuple[bytes, list[Cell]]] = []
        self._pos = 0
        self._done = False

    def __aiter__(self) -> _ThreadedScan:
        return self

    async def __anext__(self) -> tuple[bytes, list[Cell]]:
        while self._pos >= len(self._buf):
            if self._done:
                raise StopAsyncIteration
            o = self._owner
            if self._it is None:
                self._it = await o.call(Operations.scan, *self._args)
            self._buf = await asyncio.to_thread(_take, self._it, o.scan_batch_rows)
            self._pos = 0
            if len(self._buf) < o.scan_batch_rows:
                self._done = True
                self._it = None
        item = self._buf[self._pos]
        self._pos += 1
        return item

    async def aclose(self) -> None:
        self._done = True
        self._buf = []
        it, self._it = self._it, None
        close: Callable[[], object] | None = getattr(it, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
