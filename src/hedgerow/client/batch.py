"""Batch and AsyncBatch: puts and deletes collected and sent together (happybase semantics).

Role: what ``Table.batch()`` / ``AsyncTable.batch()`` return.  ``batch_size``
sends automatically every that many mutations; ``transaction=True`` discards
everything if the ``with`` block raises.  Each row's mutation is atomic; the
batch as a whole is not (HBase).  ``put``, ``delete`` and ``send`` are plans
(client/plan.py), so the blocking and asyncio batches share them.
Invariants: a row key or column is checked when it is added, so a bad ``put``
raises at once and leaves the batch as it was.
Concurrency: a batch belongs to one thread (or coroutine).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hedgerow.client.backend import AsyncBackend, Backend
from hedgerow.client.builders import _b, _delete_ops, _opt_ts, _put_ops
from hedgerow.client.plan import Awaiting, Blocking, Plan, call, method
from hedgerow.errors import InvalidArgument
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import RowMutation, check_row
from hedgerow.rpc.operations import Operations as Ops

__all__ = ["AsyncBatch", "Batch", "BatchSpec"]


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """A batch's table and settings, as ``Table.batch`` checked them."""

    table: str
    timestamp: int | None
    batch_size: int | None
    transaction: bool
    durability: Durability


class _Buffer:
    """What a batch has collected, and its rules."""

    def __init__(self, spec: BatchSpec) -> None:
        if spec.batch_size is not None:
            if spec.transaction:
                raise InvalidArgument("batch_size and transaction cannot be combined")
            size = spec.batch_size
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise InvalidArgument("batch_size must be an int >= 1")
        self._table = spec.table
        self._ts = _opt_ts(spec.timestamp)
        self._batch_size = spec.batch_size
        self._transaction = spec.transaction
        self._durability = spec.durability
        self._mutations: list[RowMutation] = []
        self._count = 0

    def _add(self, m: RowMutation, wal: bool | None) -> bool:
        """Collect ``m``; True when the batch should be sent now (``batch_size`` reached)."""
        if wal is False:
            self._durability = Durability.SKIP_WAL
        if m.ops:
            self._mutations.append(m)
            self._count += len(m.ops)
        return self._batch_size is not None and self._count >= self._batch_size

    def _discard_on(self, exc_type: object) -> bool:
        """At the end of a ``with`` block: True (and nothing kept) when a transaction failed."""
        if exc_type is not None and self._transaction:
            self._mutations = []
            return True
        return False


def send(b: _Buffer) -> Plan[None]:
    """Send what has been collected so far."""
    if not b._mutations:
        return
    ms, b._mutations, b._count = b._mutations, [], 0
    yield from call(Ops.mutate, b._table, ms, b._durability)


def put(
    b: _Buffer, row: bytes | str, data: Mapping[bytes | str, bytes | str], wal: bool | None = None
) -> Plan[None]:
    """Add a put of ``data`` to ``row`` (sent when ``batch_size`` is reached or at the end)."""
    m = RowMutation(check_row(_b(row, "row")), tuple(_put_ops(data, b._ts)))
    if b._add(m, wal):
        yield from send(b)


def delete(
    b: _Buffer,
    row: bytes | str,
    columns: Iterable[bytes | str] | None = None,
    wal: bool | None = None,
) -> Plan[None]:
    """Add a delete of ``row`` (or of some of its columns)."""
    m = RowMutation(check_row(_b(row, "row")), tuple(_delete_ops(columns, b._ts)))
    if b._add(m, wal):
        yield from send(b)


class _Methods(_Buffer):
    """Every batch method, bound once for both flavours (client/plan.py)."""

    put = method(put)
    delete = method(delete)
    send = method(send)


class Batch(_Methods, Blocking):
    """Puts and deletes collected and sent together; a context manager."""

    def __init__(self, backend: Backend, spec: BatchSpec) -> None:
        super().__init__(spec)
        self._backend = backend

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._discard_on(exc_type):
            self.send()


class AsyncBatch(_Methods, Awaiting):
    """``Batch`` for asyncio: ``put``/``delete``/``send`` are coroutines; ``async with``."""

    def __init__(self, backend: AsyncBackend, spec: BatchSpec) -> None:
        super().__init__(spec)
        self._backend = backend

    async def __aenter__(self) -> AsyncBatch:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._discard_on(exc_type):
            await self.send()
