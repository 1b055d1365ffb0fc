"""Hedgerow for asyncio: ``hedgerow.aio.connect`` gives an ``AsyncConnection``.

The same methods, arguments, validation and results as ``hedgerow.connect``'s
``Connection``/``Table``/``Batch``/``Admin``, as coroutines; ``table.scan(...)``
returns an async iterator and ``table.batch()`` an async context manager.

>>> import asyncio, tempfile, hedgerow.aio
>>> async def main():
...     async with hedgerow.aio.connect(tempfile.mkdtemp()) as conn:
...         await conn.create_table("t", {"cf": {}})
...         t = conn.table("t")
...         await t.put(b"row1", {b"cf:a": b"1"})
...         return [key async for key, data in t.scan()], await t.row(b"row1")
>>> asyncio.run(main())
([b'row1'], {b'cf:a': b'1'})
"""

from __future__ import annotations

import os
from typing import Any

from hedgerow.client.admin import AsyncAdmin
from hedgerow.client.backend import AsyncBackend, ThreadedBackend
from hedgerow.client.batch import AsyncBatch
from hedgerow.client.connection import AsyncConnection
from hedgerow.client.table import AsyncScan, AsyncTable

__all__ = [
    "AsyncAdmin",
    "AsyncBackend",
    "AsyncBatch",
    "AsyncConnection",
    "AsyncScan",
    "AsyncTable",
    "ThreadedBackend",
    "connect",
]


def connect(
    path: str | os.PathLike[str],
    *,
    table_prefix: str | None = None,
    table_prefix_separator: str = "_",
    clock: Any = None,
    **options: Any,
) -> AsyncConnection:
    """Open a Hedgerow store for asyncio; arguments as for ``hedgerow.connect``.

    ``"hedgerow+zk://ZK:PORT,.../ROOT"`` connects to a cluster's active master and
    follows it when it fails over. ``"hedgerow://HOST:PORT"`` connects to a server (no I/O until the first call;
    options ``timeout_s``, ``connect_timeout_s``, ``max_frame_bytes``,
    ``max_answer_bytes``). A directory opens the embedded
    engine there, now (a blocking open: recovery replays the log), and runs its
    calls in worker threads.
    """
    from hedgerow.client.url import is_server_url

    path = os.fspath(path)
    if path[:14].lower() == "hedgerow+zk://":
        from hedgerow import _master_resolver, _remote_address
        from hedgerow.rpc.aio_client import AsyncRpcBackend
        from hedgerow.rpc.failover import AsyncFailoverTransport

        resolve = _master_resolver(path, options)
        first = resolve()  # blocking: one short ZooKeeper session
        _remote_address(f"hedgerow://{first[0]}:{first[1]}", options)  # checks the options
        return AsyncConnection(
            AsyncRpcBackend(AsyncFailoverTransport(resolve, first, **options)),
            table_prefix=table_prefix,
            table_prefix_separator=table_prefix_separator,
        )
    if is_server_url(path):  # InvalidArgument for another scheme: nothing is created
        from hedgerow import _remote_address
        from hedgerow.rpc import AsyncSocketTransport
        from hedgerow.rpc.aio_client import AsyncRpcBackend

        host, port = _remote_address(path, options)
        remote = AsyncRpcBackend(AsyncSocketTransport(host, port, **options))
        return AsyncConnection(
            remote,
            table_prefix=table_prefix,
            table_prefix_separator=table_prefix_separator,
        )
    from hedgerow.engine import Engine, EngineConfig

    engine = Engine(path, EngineConfig.from_options(options), clock=clock)
    return AsyncConnection(
        ThreadedBackend(engine),
        table_prefix=table_prefix,
        table_prefix_separator=table_prefix_separator,
    )
