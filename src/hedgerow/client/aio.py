"""The asyncio flavour of the client: AsyncConnection, AsyncTable, AsyncBatch, AsyncAdmin.

Role: what ``hedgerow.aio.connect`` returns. Every method of ``Connection``,
``Table``, ``Batch`` and ``Admin`` exists here with the same arguments,
validation and return shapes, as a coroutine; arguments are checked and
results shaped by the same helpers (client/table.py, connection.py, admin.py),
so the two flavours cannot drift. Methods that do no I/O stay plain:
``AsyncConnection.table``/``admin``, ``AsyncTable.batch`` and ``AsyncTable.scan``
(which returns an async iterator: ``async for key, data in table.scan(...)``).
The backend is an ``AsyncBackend``: ``AsyncRpcBackend`` over the network, or
``ThreadedBackend`` wrapping a blocking ``Backend`` (the embedded engine),
whose calls run in worker threads (``asyncio.to_thread``).
Invariants: as the blocking client; after ``close`` every call raises ClosedError.
Concurrency: one event loop; any number of coroutines may share a connection and
its tables; a batch or a scan belongs to one coroutine.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from hedgerow.client.admin import _row, listed_regions
from hedgerow.client.backend import Backend, RegionDescription
from hedgerow.client.connection import TablePrefix, altered_table, new_families
from hedgerow.client.table import (
    _LATEST,
    BatchBuffer,
    RowData,
    _b,
    _canonical,
    _durability,
    _row_dict,
    append_request,
    by_column,
    cell_values,
    cells_request,
    check_and_mutate_request,
    counter_bytes,
    counter_value,
    delete_cell_mutation,
    delete_family_version_mutation,
    delete_mutation,
    families_dict,
    increment_request,
    put_mutation,
    region_dicts,
    row_mutation,
    row_spec,
    rows_request,
    scan_chunks,
    scan_request,
)
from hedgerow.errors import ClosedError
from hedgerow.model.cell import Cell
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor

__all__ = [
    "AsyncAdmin",
    "AsyncBackend",
    "AsyncBatch",
    "AsyncConnection",
    "AsyncTable",
    "ThreadedBackend",
]

_T = TypeVar("_T")
ScanRows = AsyncIterator[tuple[bytes, list[Cell]]]


class AsyncBackend(Protocol):
    """``Backend`` with coroutine methods; ``scan`` returns an async iterator (no I/O yet)."""

    async def table_names(self) -> list[str]: ...
    async def descriptor(self, table: str) -> TableDescriptor: ...
    async def create_table(
        self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()
    ) -> None: ...
    async def delete_table(self, table: str) -> None: ...
    async def modify_table(self, desc: TableDescriptor) -> None: ...
    async def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None: ...
    async def enable_table(self, table: str) -> None: ...
    async def disable_table(self, table: str) -> None: ...
    async def is_table_enabled(self, table: str) -> bool: ...
    async def regions(self, table: str) -> Sequence[RegionDescription]: ...
    async def region_locations(self, table: str) -> Sequence[tuple[RegionDescription, str]]: ...
    async def flush_table(self, table: str) -> None: ...
    async def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]: ...
    async def merge_regions(self, table: str, region_a: str, region_b: str) -> str: ...
    async def status(self) -> dict[str, Any]: ...
    async def compact_table(self, table: str, *, major: bool = False) -> None: ...
    async def mutate(
        self, table: str, mutations: Sequence[RowMutation], durability: Any = ...
    ) -> None: ...
    async def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], int]: ...
    async def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], bytes]: ...
    async def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = ...,
    ) -> bool: ...
    async def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]: ...
    async def get_many(
        self, table: str, rows: Sequence[bytes], spec: ReadSpec
    ) -> list[list[Cell]]: ...
    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> ScanRows: ...
    async def close(self) -> None: ...


# ---- the embedded engine (or any blocking Backend) behind the async API -------------------


class ThreadedBackend:
    """An ``AsyncBackend`` that runs a blocking ``Backend``'s calls in worker threads.

    ``scan_batch_rows`` rows are pulled per thread hop. The wrapped backend must be
    thread-safe (the engine is).
    """

    def __init__(self, backend: Backend, *, scan_batch_rows: int = 100) -> None:
        self.backend = backend
        self.scan_batch_rows = scan_batch_rows

    async def _run(self, fn: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        return await asyncio.to_thread(fn, *args, **kw)

    async def table_names(self) -> list[str]:
        return await self._run(self.backend.table_names)

    async def descriptor(self, table: str) -> TableDescriptor:
        return await self._run(self.backend.descriptor, table)

    async def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        await self._run(self.backend.create_table, desc, split_keys)

    async def delete_table(self, table: str) -> None:
        await self._run(self.backend.delete_table, table)

    async def modify_table(self, desc: TableDescriptor) -> None:
        await self._run(self.backend.modify_table, desc)

    async def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        await self._run(self.backend.truncate_table, table, preserve_splits=preserve_splits)

    async def enable_table(self, table: str) -> None:
        await self._run(self.backend.enable_table, table)

    async def disable_table(self, table: str) -> None:
        await self._run(self.backend.disable_table, table)

    async def is_table_enabled(self, table: str) -> bool:
        return await self._run(self.backend.is_table_enabled, table)

    async def regions(self, table: str) -> Sequence[RegionDescription]:
        return await self._run(self.backend.regions, table)

    async def region_locations(self, table: str) -> Sequence[tuple[RegionDescription, str]]:
        return await self._run(self.backend.region_locations, table)

    async def flush_table(self, table: str) -> None:
        await self._run(self.backend.flush_table, table)

    async def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        return await self._run(self.backend.split_region, table, region_name, split_row)

    async def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        return await self._run(self.backend.merge_regions, table, region_a, region_b)

    async def status(self) -> dict[str, Any]:
        return await self._run(self.backend.status)

    async def compact_table(self, table: str, *, major: bool = False) -> None:
        await self._run(self.backend.compact_table, table, major=major)

    async def mutate(
        self, table: str, mutations: Sequence[RowMutation], durability: Any = ...
    ) -> None:
        await self._run(self.backend.mutate, table, mutations, durability)

    async def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], int]:
        return await self._run(self.backend.increment, table, row, amounts, durability)

    async def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], bytes]:
        return await self._run(self.backend.append, table, row, suffixes, durability)

    async def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = ...,
    ) -> bool:
        return await self._run(
            self.backend.check_and_mutate,
            table,
            row,
            family,
            qualifier,
            compare,
            mutation,
            durability,
        )

    async def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return await self._run(self.backend.get, table, row, spec)

    async def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        return await self._run(self.backend.get_many, table, rows, spec)

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> _ThreadedScan:
        return _ThreadedScan(self, table, rng, spec)

    async def close(self) -> None:
        await self._run(self.backend.close)


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
        self._it: Iterator[tuple[bytes, list[Cell]]] | None = None
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
                self._it = await o._run(o.backend.scan, *self._args)
            self._buf = await o._run(_take, self._it, o.scan_batch_rows)
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
        close = getattr(it, "close", None)
        if close is not None:
            await self._owner._run(close)


async def _aclose(it: object) -> None:
    close = getattr(it, "aclose", None)
    if close is not None:
        await close()


# ---- the API ---------------------------------------------------------------------------


class AsyncScan(AsyncIterator[tuple[bytes, RowData | list[Cell]]]):
    """What ``AsyncTable.scan`` returns: rows as ``Table.scan`` yields them, asynchronously.

    Also an async context manager; ``aclose()`` ends the scan (and its server scanner)
    early. A scan that reaches its ``limit`` or its end closes itself.
    """

    def __init__(
        self,
        rows: ScanRows,
        include_timestamp: bool,
        scan_batching: int | None,
        limit: int | None,
        cells_out: bool,
    ) -> None:
        self._rows = rows
        self._include_timestamp = include_timestamp
        self._scan_batching = scan_batching
        self._limit = limit
        self._cells_out = cells_out
        self._n = 0
        self._row = b""
        self._chunks: list[RowData | list[Cell]] = []
        self._done = False

    def __aiter__(self) -> AsyncScan:
        return self

    async def __anext__(self) -> tuple[bytes, RowData | list[Cell]]:
        if self._chunks:
            return self._row, self._chunks.pop(0)
        if self._done:
            raise StopAsyncIteration
        if self._limit is not None and self._n >= self._limit:
            await self.aclose()
            raise StopAsyncIteration
        try:
            row, cells = await self._rows.__anext__()
        except StopAsyncIteration:
            self._done = True
            raise
        self._n += 1
        if self._scan_batching is None and not self._cells_out:
            return row, _row_dict(cells, self._include_timestamp)
        self._row = row
        self._chunks = scan_chunks(
            cells, self._scan_batching, self._cells_out, self._include_timestamp
        )
        return row, self._chunks.pop(0)

    async def aclose(self) -> None:
        self._done = True
        self._chunks = []
        await _aclose(self._rows)

    async def __aenter__(self) -> AsyncScan:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncTable:
    """One table; ``Table``'s methods as coroutines (``scan`` and ``batch`` need no await).

    - reading: ``row``, ``rows``, ``cells``, ``scan``, ``counter_get``
    - writing: ``put``, ``delete``, ``delete_cell``, ``delete_family_version``, ``batch``,
      ``mutate_row``, ``increment``, ``append``, ``check_and_mutate``, ``counter_set``,
      ``counter_inc``, ``counter_dec``
    - describing: ``families``, ``regions``
    """

    def __init__(self, name: str, backend: AsyncBackend) -> None:
        self.name = name
        self._backend = backend

    def __repr__(self) -> str:
        return f"<hedgerow.aio.AsyncTable name={self.name!r}>"

    # ---- describing ---------------------------------------------------------------
    async def families(self) -> dict[bytes, dict[str, Any]]:
        return families_dict(await self._backend.descriptor(self.name))

    async def regions(self) -> list[dict[str, Any]]:
        return region_dicts(self.name, await self._backend.region_locations(self.name))

    # ---- reading -----------------------------------------------------------------
    async def row(
        self,
        row: bytes | str,
        columns: Iterable[bytes | str] | None = None,
        timestamp: int | None = None,
        include_timestamp: bool = False,
        filter: Any = None,
    ) -> RowData:
        r = check_row(_b(row, "row"))
        if columns is None and timestamp is None and filter is None:
            spec = _LATEST
        else:
            spec = row_spec(columns, timestamp, filter)
        return _row_dict(await self._backend.get(self.name, r, spec), include_timestamp)

    async def rows(
        self,
        rows: Iterable[bytes | str],
        columns: Iterable[bytes | str] | None = None,
        timestamp: int | None = None,
        include_timestamp: bool = False,
        filter: Any = None,
    ) -> list[tuple[bytes, RowData]]:
        """Several rows, read concurrently; rows with no cells are left out."""
        keys, spec, proto = rows_request(rows, columns, timestamp, filter)
        if not keys:
            return []
        if proto is not None:
            spec = dataclasses.replace(spec, filter=proto)  # the backend copies it per row
        got = await self._backend.get_many(self.name, keys, spec)
        return [
            (r, _row_dict(cells, include_timestamp))
            for r, cells in zip(keys, got, strict=True)
            if cells
        ]

    async def cells(
        self,
        row: bytes | str,
        column: bytes | str,
        versions: int | None = None,
        timestamp: int | None = None,
        include_timestamp: bool = False,
    ) -> list[Any]:
        r, spec = cells_request(row, column, versions, timestamp)
        return cell_values(await self._backend.get(self.name, r, spec), include_timestamp)

    def scan(
        self,
        row_start: bytes | str | None = None,
        row_stop: bytes | str | None = None,
        row_prefix: bytes | str | None = None,
        columns: Iterable[bytes | str] | None = None,
        filter: Any = None,
        timestamp: int | None = None,
        include_timestamp: bool = False,
        batch_size: int = 1000,
        scan_batching: int | None = None,
        limit: int | None = None,
        sorted_columns: bool = False,
        reverse: bool = False,
        *,
        start_inclusive: bool = True,
        stop_inclusive: bool = False,
        time_range: tuple[int, int] | None = None,
        max_versions: int = 1,
        raw: bool = False,
    ) -> AsyncScan:
        """As ``Table.scan``; arguments are checked now, rows come with ``async for``."""
        rng, spec, cells_out = scan_request(
            row_start,
            row_stop,
            row_prefix,
            columns,
            filter,
            timestamp,
            batch_size,
            scan_batching,
            limit,
            reverse,
            start_inclusive,
            stop_inclusive,
            time_range,
            max_versions,
            raw,
        )
        rows = self._backend.scan(self.name, rng, spec)
        return AsyncScan(rows, include_timestamp, scan_batching, limit, cells_out)

    # ---- writing ------------------------------------------------------------------
    async def put(
        self,
        row: bytes | str,
        data: Mapping[bytes | str, bytes | str],
        timestamp: int | None = None,
        wal: bool = True,
        *,
        durability: Durability | None = None,
    ) -> None:
        m = put_mutation(row, data, timestamp)
        if m is not None:
            await self._backend.mutate(self.name, [m], _durability(wal, durability))

    async def delete(
        self,
        row: bytes | str,
        columns: Iterable[bytes | str] | None = None,
        timestamp: int | None = None,
        wal: bool = True,
        *,
        durability: Durability | None = None,
    ) -> None:
        m = delete_mutation(row, columns, timestamp)
        if m is not None:
            await self._backend.mutate(self.name, [m], _durability(wal, durability))

    async def delete_cell(
        self,
        row: bytes | str,
        column: bytes | str,
        timestamp: int | None = None,
        *,
        durability: Durability | None = None,
    ) -> None:
        m = delete_cell_mutation(row, column, timestamp)
        await self._backend.mutate(self.name, [m], _durability(True, durability))

    async def delete_family_version(
        self,
        row: bytes | str,
        family: bytes | str,
        timestamp: int,
        *,
        durability: Durability | None = None,
    ) -> None:
        m = delete_family_version_mutation(row, family, timestamp)
        await self._backend.mutate(self.name, [m], _durability(True, durability))

    async def mutate_row(
        self,
        row: bytes | str,
        put: Mapping[bytes | str, bytes | str] | None = None,
        delete: Iterable[bytes | str] | None = None,
        *,
        timestamp: int | None = None,
        durability: Durability | None = None,
    ) -> None:
        m = row_mutation(row, put, delete, timestamp)
        if m is not None:
            await self._backend.mutate(self.name, [m], _durability(True, durability))

    async def increment(
        self,
        row: bytes | str,
        amounts: Mapping[bytes | str, int],
        *,
        durability: Durability | None = None,
    ) -> dict[bytes, int]:
        r, parsed = increment_request(row, amounts)
        if not parsed:
            return {}
        dur = _durability(True, durability)
        return by_column(await self._backend.increment(self.name, r, parsed, dur))

    async def append(
        self,
        row: bytes | str,
        suffixes: Mapping[bytes | str, bytes | str],
        *,
        durability: Durability | None = None,
    ) -> dict[bytes, bytes]:
        r, parsed = append_request(row, suffixes)
        if not parsed:
            return {}
        dur = _durability(True, durability)
        return by_column(await self._backend.append(self.name, r, parsed, dur))

    async def check_and_mutate(
        self,
        row: bytes | str,
        column: bytes | str,
        value: bytes | str | None,
        op: str = "=",
        put: Mapping[bytes | str, bytes | str] | None = None,
        delete: Iterable[bytes | str] | None = None,
        *,
        durability: Durability | None = None,
    ) -> bool:
        r, fam, qual, compare, mutation = check_and_mutate_request(
            row, column, value, op, put, delete
        )
        return await self._backend.check_and_mutate(
            self.name, r, fam, qual, compare, mutation, _durability(True, durability)
        )

    def batch(
        self,
        timestamp: int | None = None,
        batch_size: int | None = None,
        transaction: bool = False,
        wal: bool = True,
        *,
        durability: Durability | None = None,
    ) -> AsyncBatch:
        """``async with table.batch() as b: await b.put(...)`` (happybase semantics)."""
        return AsyncBatch(self, timestamp, batch_size, transaction, _durability(wal, durability))

    # ---- counters -------------------------------------------------------------------
    async def counter_get(self, row: bytes | str, column: bytes | str) -> int:
        col = _canonical(_b(column, "column"))
        return counter_value(col, (await self.row(row, columns=[col])).get(col))

    async def counter_set(self, row: bytes | str, column: bytes | str, value: int = 0) -> None:
        await self.put(row, {column: counter_bytes(value)})

    async def counter_inc(self, row: bytes | str, column: bytes | str, value: int = 1) -> int:
        col = _b(column, "column")
        return (await self.increment(row, {col: value}))[_canonical(col)]

    async def counter_dec(self, row: bytes | str, column: bytes | str, value: int = 1) -> int:
        return await self.counter_inc(row, column, -value)


class AsyncBatch(BatchBuffer):
    """``Batch`` for asyncio: ``put``/``delete``/``send`` are coroutines; ``async with``."""

    def __init__(
        self,
        table: AsyncTable,
        timestamp: int | None,
        batch_size: int | None,
        transaction: bool,
        durability: Durability,
    ) -> None:
        super().__init__(timestamp, batch_size, transaction, durability)
        self._table = table

    async def put(
        self,
        row: bytes | str,
        data: Mapping[bytes | str, bytes | str],
        wal: bool | None = None,
    ) -> None:
        if self._add(self._put(row, data), wal):
            await self.send()

    async def delete(
        self,
        row: bytes | str,
        columns: Iterable[bytes | str] | None = None,
        wal: bool | None = None,
    ) -> None:
        if self._add(self._delete(row, columns), wal):
            await self.send()

    async def send(self) -> None:
        """Send what has been collected so far."""
        if not self._mutations:
            return
        await self._table._backend.mutate(self._table.name, self._take(), self._durability)

    async def __aenter__(self) -> AsyncBatch:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._discard_on(exc_type):
            await self.send()


class AsyncAdmin:
    """``Admin``'s methods as coroutines: list_regions, split, merge, flush, compact,
    major_compact, describe, status."""

    def __init__(self, backend: AsyncBackend, full_name: Callable[[bytes | str], str]) -> None:
        self._backend = backend
        self._full = full_name

    async def list_regions(self, table: bytes | str) -> list[dict[str, Any]]:
        regions = await self._backend.regions(self._full(table))
        return listed_regions(regions, await self._backend.status())

    async def split(
        self,
        table: bytes | str,
        split_row: bytes | str | None = None,
        region: str | None = None,
    ) -> tuple[str, str]:
        return await self._backend.split_region(self._full(table), region, _row(split_row))

    async def merge(self, table: bytes | str, region_a: str, region_b: str) -> str:
        return await self._backend.merge_regions(self._full(table), region_a, region_b)

    async def flush(self, table: bytes | str) -> None:
        await self._backend.flush_table(self._full(table))

    async def compact(self, table: bytes | str) -> None:
        await self._backend.compact_table(self._full(table), major=False)

    async def major_compact(self, table: bytes | str) -> None:
        await self._backend.compact_table(self._full(table), major=True)

    async def describe(self, table: bytes | str) -> TableDescriptor:
        return await self._backend.descriptor(self._full(table))

    async def status(self) -> dict[str, Any]:
        return await self._backend.status()


class AsyncConnection(TablePrefix):
    """``Connection``'s methods as coroutines (``table`` and ``admin`` need no await).

    - tables: ``tables``, ``table``, ``create_table``, ``delete_table``, ``alter_table``,
      ``truncate_table``
    - state: ``enable_table``, ``disable_table``, ``is_table_enabled``
    - maintenance: ``compact_table``, ``flush_table``, ``admin``
    - lifecycle: ``open``, ``close`` (also ``async with``)
    """

    def __init__(
        self,
        backend: AsyncBackend,
        *,
        table_prefix: bytes | str | None = None,
        table_prefix_separator: bytes | str = b"_",
    ) -> None:
        self._backend: AsyncBackend | None = backend
        self._set_prefix(table_prefix, table_prefix_separator)

    def __repr__(self) -> str:
        state = "closed" if self._backend is None else "open"
        return f"<hedgerow.aio.AsyncConnection {state}>"

    @property
    def backend(self) -> AsyncBackend:
        b = self._backend
        if b is None:
            raise ClosedError("the connection is closed")
        return b

    def admin(self) -> AsyncAdmin:
        return AsyncAdmin(self.backend, self._full)

    def table(self, name: bytes | str, use_prefix: bool = True) -> AsyncTable:
        return AsyncTable(self._full(name, use_prefix), self.backend)

    async def tables(self) -> list[bytes]:
        return self._listed(await self.backend.table_names())

    async def create_table(
        self,
        name: bytes | str,
        families: Mapping[bytes | str, Mapping[str, Any] | None],
        split_keys: Iterable[bytes | str] | None = None,
    ) -> None:
        cfs, keys = new_families(families, split_keys)
        await self.backend.create_table(TableDescriptor(self._full(name), cfs), keys)

    async def delete_table(self, name: bytes | str, disable: bool = False) -> None:
        full = self._full(name)
        if disable and await self.backend.is_table_enabled(full):
            await self.backend.disable_table(full)
        # the master refuses an enabled table (TableEnabled) and a reserved one (ReservedName)
        await self.backend.delete_table(full)

    async def alter_table(
        self,
        name: bytes | str,
        families: Mapping[bytes | str, Mapping[str, Any] | None] | None = None,
        delete: Iterable[bytes | str] | None = None,
    ) -> None:
        desc = await self.backend.descriptor(self._full(name))
        await self.backend.modify_table(altered_table(desc, families, delete))

    async def truncate_table(self, name: bytes | str, preserve_splits: bool = True) -> None:
        await self.backend.truncate_table(self._full(name), preserve_splits=preserve_splits)

    async def enable_table(self, name: bytes | str) -> None:
        await self.backend.enable_table(self._full(name))

    async def disable_table(self, name: bytes | str) -> None:
        await self.backend.disable_table(self._full(name))

    async def is_table_enabled(self, name: bytes | str) -> bool:
        return await self.backend.is_table_enabled(self._full(name))

    async def compact_table(self, name: bytes | str, major: bool = False) -> None:
        await self.backend.compact_table(self._full(name), major=major)

    async def flush_table(self, name: bytes | str) -> None:
        await self.backend.flush_table(self._full(name))

    async def open(self) -> None:
        self.backend  # noqa: B018 - raises when closed

    async def close(self) -> None:
        """Close the connection (idempotent); embedded: flush and release the store."""
        b, self._backend = self._backend, None
        if b is not None:
            await b.close()

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
