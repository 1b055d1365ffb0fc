"""A blocking face for ``hedgerow.aio``: the contract tests' sync bodies drive the asyncio client.

Role: test-only. ``LoopThread`` runs one event loop in a thread; ``LoopThread.wrap`` turns an
``AsyncConnection`` (and what it hands out: ``AsyncTable``, ``AsyncAdmin``, ``AsyncBatch``,
``AsyncScan``) into objects with the blocking API's shape. Every call runs on the loop (so
the asyncio client sees its normal context), and its coroutine, if any, is awaited there.
Exceptions come back unchanged. An ``AsyncScan`` becomes a generator, so ``close()`` and
early abandonment end the scan as they do for ``Table.scan``.
Concurrency: one test thread at a time drives a ``LoopThread``.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

from hedgerow.aio import AsyncAdmin, AsyncBatch, AsyncConnection, AsyncScan, AsyncTable

_PROXIED = (AsyncConnection, AsyncTable, AsyncAdmin, AsyncBatch)
_END = object()  # what ``__anext__`` gives back through the loop when the scan is over


class LoopThread:
    """One event loop in a daemon thread; ``call`` runs a function on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="contract-aio-loop", daemon=True
        )
        self._thread.start()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def run() -> Any:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=60)

    def wrap(self, value: Any) -> Any:
        if isinstance(value, AsyncScan):
            return self._rows(value)
        if isinstance(value, _PROXIED):
            return _Blocking(self, value)
        return value

    def _rows(self, scan: AsyncScan) -> Iterator[Any]:
        async def step() -> Any:
            try:
                return await scan.__anext__()
            except StopAsyncIteration:
                return _END

        try:
            while (item := self.call(step)) is not _END:
                yield item
        finally:
            self.call(scan.aclose)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class _Blocking:
    """An asyncio client object with blocking methods (and ``with`` for ``async with``)."""

    def __init__(self, loop: LoopThread, target: Any) -> None:
        self._loop = loop
        self._target = target

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def method(*args: Any, **kwargs: Any) -> Any:
            return self._loop.wrap(self._loop.call(attr, *args, **kwargs))

        return method

    def __enter__(self) -> Any:
        return self._loop.wrap(self._loop.call(self._target.__aenter__))

    def __exit__(self, *exc: Any) -> Any:
        return self._loop.call(self._target.__aexit__, *exc)
