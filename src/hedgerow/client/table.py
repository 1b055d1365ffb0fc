"""Table and AsyncTable: the happybase-shaped data API, plus what HBase has and happybase lacks.

Role: returned by ``Connection.table(name)`` (``AsyncConnection.table``); turns
Python calls into ``RowMutation``/``ReadSpec``/``ScanRange`` requests for the
backend and the backend's cells into happybase's return shapes.  Each method is
written once, as a plan (client/plan.py) below; ``Table`` runs the plans on a
blocking backend, ``AsyncTable`` awaits them on an asyncio one, so the two
flavours have the same methods, arguments, checks and results by construction.
``scan`` returns an iterator (``Table``) or an async iterator (``AsyncTable``)
over the same rows; ``batch`` a ``Batch``/``AsyncBatch`` (client/batch.py).
Invariants: every argument is validated before anything is sent, so a bad
call changes nothing (client/builders.py).
Concurrency: a Table is safe to share between threads (it holds no mutable
state); an AsyncTable between the coroutines of one event loop.

Semantics worth knowing (as in happybase/HBase):
- a ``timestamp`` on reads is an exclusive upper bound: cells with ``ts <
  timestamp`` are returned;
- ``delete(row, columns, timestamp)`` removes all versions at or below
  ``timestamp`` (all versions when omitted); ``delete_cell`` removes exactly one;
- ``check_and_mutate(..., op)`` compares the *given* value to the stored one,
  as HBase does: ``op="<"`` applies the mutation when ``value < stored``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hedgerow.client.backend import AsyncBackend, Backend
from hedgerow.client.batch import AsyncBatch, Batch, BatchSpec
from hedgerow.client.builders import (
    _LATEST,
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
from hedgerow.client.plan import Awaiting, Blocking, Plan, call, making, method
from hedgerow.model.cell import Cell
from hedgerow.model.durability import Durability
from hedgerow.model.filters import Filter
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc.operations import Operations as Ops

__all__ = ["AsyncScan", "AsyncTable", "Table"]

V = TypeVar("V")
BK = TypeVar("BK", Backend, AsyncBackend)
ScanItem = tuple[bytes, RowData | list[Cell]]
#: a filter: HBase filter language text (``"PrefixFilter('r')"``) or a ``Filter`` object
FilterArg = str | bytes | Filter | None


class _Named:
    """What a table's plans read of it: its name (the full name, prefix included)."""

    name: str


# ---- the plans: one per method, shared by Table and AsyncTable --------------------------------


def families(t: _Named) -> Plan[dict[bytes, dict[str, Any]]]:
    """Column families and their settings (happybase's key names, plus ours)."""
    return families_dict((yield from call(Ops.descriptor, t.name)))


def regions(t: _Named) -> Plan[list[dict[str, Any]]]:
    """The table's regions in key order (happybase's shape)."""
    return region_dicts(t.name, (yield from call(Ops.region_locations, t.name)))


def row(
    t: _Named,
    row: bytes | str,
    columns: Iterable[bytes | str] | None = None,
    timestamp: int | None = None,
    include_timestamp: bool = False,
    filter: FilterArg = None,
) -> Plan[RowData]:
    """The latest version of each column of one row; ``{}`` if the row has none.

    ``filter`` (a filter string or a ``Filter``, as for ``scan``) runs on the
    row as HBase's Get does: a one-row scan.
    Cost: one merged read per family (one bloom check, one block read per store file).
    """
    r = check_row(_b(row, "row"))
    if columns is None and timestamp is None and filter is None:
        spec = _LATEST  # fast path: the common get needs no new ReadSpec
    else:
        spec = row_spec(columns, timestamp, filter)
    return _row_dict((yield from call(Ops.get, t.name, r, spec)), include_timestamp)


_row = row  # for counter_get, whose own argument is named row


def rows(
    t: _Named,
    rows: Iterable[bytes | str],
    columns: Iterable[bytes | str] | None = None,
    timestamp: int | None = None,
    include_timestamp: bool = False,
    filter: FilterArg = None,
) -> Plan[list[tuple[bytes, RowData]]]:
    """Several rows; rows with no cells are left out (as happybase does).

    ``filter`` as for ``row``; each row gets a fresh filter (one Get per row).
    """
    keys, spec, proto = rows_request(rows, columns, timestamp, filter)
    if not keys:
        return []
    if proto is not None:
        spec = dataclasses.replace(spec, filter=proto)  # the backend copies it per row
    got = yield from call(Ops.get_many, t.name, keys, spec)
    return [
        (r, _row_dict(cells, include_timestamp))
        for r, cells in zip(keys, got, strict=True)
        if cells
    ]


def cells(
    t: _Named,
    row: bytes | str,
    column: bytes | str,
    versions: int | None = None,
    timestamp: int | None = None,
    include_timestamp: bool = False,
) -> Plan[list[Any]]:
    """Versions of one cell, newest first (``(value, ts)`` pairs with ``include_timestamp``)."""
    r, spec = cells_request(row, column, versions, timestamp)
    return cell_values((yield from call(Ops.get, t.name, r, spec)), include_timestamp)


def _mutate(t: _Named, m: RowMutation | None, durability: Durability) -> Plan[None]:
    if m is not None:
        yield from call(Ops.mutate, t.name, [m], durability)


def put(
    t: _Named,
    row: bytes | str,
    data: Mapping[bytes | str, bytes | str],
    timestamp: int | None = None,
    wal: bool = True,
    *,
    durability: Durability | None = None,
) -> Plan[None]:
    """Store ``data`` (``{b"cf:q": value}``) in one row, atomically."""
    m = put_mutation(row, data, timestamp)
    if m is not None:  # (inlined _mutate: the hot path)
        yield from call(Ops.mutate, t.name, [m], _durability(wal, durability))


def delete(
    t: _Named,
    row: bytes | str,
    columns: Iterable[bytes | str] | None = None,
    timestamp: int | None = None,
    wal: bool = True,
    *,
    durability: Durability | None = None,
) -> Plan[None]:
    """Delete a row, or some columns/families of it; versions at or below ``timestamp``."""
    yield from _mutate(t, delete_mutation(row, columns, timestamp), _durability(wal, durability))


def delete_cell(
    t: _Named,
    row: bytes | str,
    column: bytes | str,
    timestamp: int | None = None,
    *,
    durability: Durability | None = None,
) -> Plan[None]:
    """Delete exactly one version (the latest when ``timestamp`` is None)."""
    m = delete_cell_mutation(row, column, timestamp)
    yield from _mutate(t, m, _durability(True, durability))


def delete_family_version(
    t: _Named,
    row: bytes | str,
    family: bytes | str,
    timestamp: int,
    *,
    durability: Durability | None = None,
) -> Plan[None]:
    """Delete every column of ``family`` at exactly ``timestamp`` (HBase addFamilyVersion)."""
    m = delete_family_version_mutation(row, family, timestamp)
    yield from _mutate(t, m, _durability(True, durability))


def mutate_row(
    t: _Named,
    row: bytes | str,
    put: Mapping[bytes | str, bytes | str] | None = None,
    delete: Iterable[bytes | str] | None = None,
    *,
    timestamp: int | None = None,
    durability: Durability | None = None,
) -> Plan[None]:
    """Apply deletes (``columns`` as in ``delete``) and puts to one row as one atomic change.

    Deletes are applied before puts at the same timestamp would be; note that a
    delete masks puts at or below its timestamp, as in HBase.
    """
    m = row_mutation(row, put, delete, timestamp)
    yield from _mutate(t, m, _durability(True, durability))


def _by_column(
    t: _Named,
    op: Callable[
        [Any, str, bytes, dict[tuple[bytes, bytes], V], Durability], dict[tuple[bytes, bytes], V]
    ],
    row: bytes,
    parsed: dict[tuple[bytes, bytes], V],
    durability: Durability | None,
) -> Plan[dict[bytes, V]]:
    """Increment or append: one row's columns changed atomically; the new values."""
    if not parsed:
        return {}
    return by_column((yield from call(op, t.name, row, parsed, _durability(True, durability))))


def increment(
    t: _Named,
    row: bytes | str,
    amounts: Mapping[bytes | str, int],
    *,
    durability: Durability | None = None,
) -> Plan[dict[bytes, int]]:
    """Add to 8-byte big-endian counters atomically; returns the new values."""
    r, parsed = increment_request(row, amounts)
    return (yield from _by_column(t, Ops.increment, r, parsed, durability))


def append(
    t: _Named,
    row: bytes | str,
    suffixes: Mapping[bytes | str, bytes | str],
    *,
    durability: Durability | None = None,
) -> Plan[dict[bytes, bytes]]:
    """Append to cell values atomically; returns the new values."""
    r, parsed = append_request(row, suffixes)
    return (yield from _by_column(t, Ops.append, r, parsed, durability))


def check_and_mutate(
    t: _Named,
    row: bytes | str,
    column: bytes | str,
    value: bytes | str | None,
    op: str = "=",
    put: Mapping[bytes | str, bytes | str] | None = None,
    delete: Iterable[bytes | str] | None = None,
    *,
    durability: Durability | None = None,
) -> Plan[bool]:
    """Atomically: if ``value OP stored`` holds, apply ``put``/``delete``; return whether it did.

    ``value=None`` means "the column is absent" (with ``op="="``) or
    "present" (with ``op="!="``). The comparison is unsigned lexicographic
    on bytes, with the given value on the left, as in HBase.
    """
    r, fam, qual, compare, mutation = check_and_mutate_request(row, column, value, op, put, delete)
    d = _durability(True, durability)
    return (yield from call(Ops.check_and_mutate, t.name, r, fam, qual, compare, mutation, d))


def counter_get(t: _Named, row: bytes | str, column: bytes | str) -> Plan[int]:
    """A counter's value (0 when absent). Reads only (HBase's ``get_counter``)."""
    col = _canonical(_b(column, "column"))
    got = yield from _row(t, row, columns=[col])
    return counter_value(col, got.get(col))


def counter_set(t: _Named, row: bytes | str, column: bytes | str, value: int = 0) -> Plan[None]:
    """Set a counter (an 8-byte big-endian value)."""
    yield from put(t, row, {column: counter_bytes(value)})


def counter_inc(t: _Named, row: bytes | str, column: bytes | str, value: int = 1) -> Plan[int]:
    """Add ``value`` to a counter; its new value."""
    col = _b(column, "column")
    return (yield from increment(t, row, {col: value}))[_canonical(col)]


def counter_dec(t: _Named, row: bytes | str, column: bytes | str, value: int = 1) -> Plan[int]:
    """Subtract ``value`` from a counter; its new value."""
    return (yield from counter_inc(t, row, column, -value))


# ---- scans: the request is a plan's; the rows are a stream each flavour iterates ----------------


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """A checked scan: what to ask the backend, and how to shape what it yields."""

    table: str
    rng: ScanRange
    spec: ReadSpec
    include_timestamp: bool
    scan_batching: int | None
    limit: int | None
    cells_out: bool

    def shaped(self, cells: list[Cell]) -> list[RowData | list[Cell]]:
        """The chunks a row is yielded as."""
        if self.scan_batching is None and not self.cells_out:
            return [_row_dict(cells, self.include_timestamp)]
        return scan_chunks(cells, self.scan_batching, self.cells_out, self.include_timestamp)

    def done(self, n: int) -> bool:
        """Whether the scan stops after its ``n``-th row (``limit``)."""
        return self.limit is not None and n >= self.limit


def scan(
    t: _Named,
    row_start: bytes | str | None = None,
    row_stop: bytes | str | None = None,
    row_prefix: bytes | str | None = None,
    columns: Iterable[bytes | str] | None = None,
    filter: FilterArg = None,
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
) -> ScanPlan:
    """Rows in key order (descending with ``reverse``, where ``row_start`` is the high end).

    Beyond happybase: ``start_inclusive``/``stop_inclusive``, ``time_range``
    (``[min, max)`` ms), ``max_versions`` per column (with more than one
    version, or ``raw=True``, each row's value is the list of ``Cell``s),
    ``raw`` (delete markers included, nothing masked) and ``scan_batching``
    (at most that many cells per yielded chunk; wide rows come in pieces).
    Arguments are checked at the call; rows come as they are iterated.
    """
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
    return ScanPlan(t.name, rng, spec, include_timestamp, scan_batching, limit, cells_out)


def _scan_rows(backend: Backend, sp: ScanPlan) -> Iterator[ScanItem]:
    rows = backend.call(Ops.scan, sp.table, sp.rng, sp.spec)
    if sp.scan_batching is None and sp.limit is None and not sp.cells_out:
        # fast path: one dict per row, no chunk list, no row counting
        for key, cs in rows:
            yield key, _row_dict(cs, sp.include_timestamp)
        return
    for n, (key, cs) in enumerate(rows, 1):
        for chunk in sp.shaped(cs):
            yield key, chunk
        if sp.done(n):
            close: Callable[[], object] | None = getattr(rows, "close", None)
            if close is not None:
                close()
            return


class AsyncScan(AsyncIterator[ScanItem]):
    """What ``AsyncTable.scan`` returns: rows as ``Table.scan`` yields them, asynchronously.

    Also an async context manager; ``aclose()`` ends the scan (and its server scanner)
    early. A scan that reaches its ``limit`` or its end closes itself.
    """

    def __init__(self, backend: AsyncBackend, sp: ScanPlan) -> None:
        self._rows = backend.scan(sp.table, sp.rng, sp.spec)
        self._plan = sp
        self._n = 0
        self._row = b""
        self._chunks: list[RowData | list[Cell]] = []
        self._done = False

    def __aiter__(self) -> AsyncScan:
        return self

    async def __anext__(self) -> ScanItem:
        if self._chunks:
            return self._row, self._chunks.pop(0)
        if self._done:
            raise StopAsyncIteration
        if self._plan.done(self._n):
            await self.aclose()
            raise StopAsyncIteration
        try:
            key, cs = await self._rows.__anext__()
        except StopAsyncIteration:
            self._done = True
            raise
        self._n += 1
        self._row = key
        self._chunks = self._plan.shaped(cs)
        return key, self._chunks.pop(0)

    async def aclose(self) -> None:
        self._done = True
        self._chunks = []
        close: Callable[[], Any] | None = getattr(self._rows, "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> AsyncScan:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def batch(
    t: _Named,
    timestamp: int | None = None,
    batch_size: int | None = None,
    transaction: bool = False,
    wal: bool = True,
    *,
    durability: Durability | None = None,
) -> BatchSpec:
    """A batch of puts and deletes sent together (happybase semantics); a context
    manager (``with``, or ``async with`` for asyncio) that sends what is left at its end."""
    return BatchSpec(t.name, timestamp, batch_size, transaction, _durability(wal, durability))


# ---- the two flavours ---------------------------------------------------------------------------


class _Methods(_Named, Generic[BK]):
    """Every table method, bound once for both flavours (client/plan.py)."""

    _backend: BK

    def __init__(self, name: str, backend: BK) -> None:
        self.name = name
        self._backend = backend

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r}>"

    families = method(families)
    regions = method(regions)
    row = method(row)
    rows = method(rows)
    cells = method(cells)
    scan = making(scan, _scan_rows, AsyncScan)
    put = method(put)
    delete = method(delete)
    delete_cell = method(delete_cell)
    delete_family_version = method(delete_family_version)
    mutate_row = method(mutate_row)
    increment = method(increment)
    append = method(append)
    check_and_mutate = method(check_and_mutate)
    batch = making(batch, Batch, AsyncBatch)
    counter_get = method(counter_get)
    counter_set = method(counter_set)
    counter_inc = method(counter_inc)
    counter_dec = method(counter_dec)


class Table(_Methods[Backend], Blocking):
    """One table. Methods by purpose:

    - reading: ``row``, ``rows``, ``cells``, ``scan``, ``counter_get``
    - writing: ``put``, ``delete``, ``delete_cell``, ``batch``, ``mutate_row``,
      ``increment``, ``append``, ``check_and_mutate``, ``counter_set``,
      ``counter_inc``, ``counter_dec``
    - describing: ``families``, ``regions``

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> conn.create_table("t", {"cf": dict(max_versions=3)})
    >>> t = conn.table("t")
    >>> t.put(b"row1", {b"cf:a": b"1"})
    >>> t.row(b"row1")
    {b'cf:a': b'1'}
    >>> conn.close()
    """


class AsyncTable(_Methods[AsyncBackend], Awaiting):
    """One table; ``Table``'s methods as coroutines (``scan`` and ``batch`` need no await:
    ``async for key, data in table.scan(...)``, ``async with table.batch() as b``)."""
