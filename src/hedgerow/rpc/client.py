"""``RpcBackend``: the client ``Backend`` protocol over an RPC ``Transport``.

Role: ``hedgerow.connect("hedgerow://...")`` gives ``Connection``/``Table`` an
``RpcBackend``.  ``call(Operations.<op>, ...)`` runs the operation's sans-I/O
plan (rpc/routing.py: region-addressed calls, a location cache refreshed on
NOT_SERVING_REGION, backoff until the deadline, per-region parts sent at once)
by blocking on the transport; scans are OPEN_SCANNER then SCANNER_NEXT batches,
CLOSE_SCANNER when abandoned.  The asyncio flavour (rpc/aio_client.py) drives
the same plans.
Format: messages per docs/formats/rpc.md#bodies.
Invariants: ``check_and_mutate``'s compare must be a
``hedgerow.model.compare.ValueComparison`` (its ``op`` and ``expected`` travel;
an arbitrary callable cannot) - anything else raises InvalidArgument.  A scan
iterator opens its server scanner on the first ``next()``, pulls one batch at a
time, and closes the server scanner when exhausted, on ``close()``, or when
garbage-collected (a queued CLOSE_SCANNER notice).
Concurrency: thread-safe if the transport is (``SocketTransport`` is); one scan
iterator belongs to one thread.
Hot path: ``call(Operations.get, ...)`` (one round trip); bench/bench_rpc.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from hedgerow._internal.sansio import drive
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import routing
from hedgerow.rpc.codec import unpackb
from hedgerow.rpc.operations import OPERATIONS, Kind, MessageType, Operations
from hedgerow.rpc.routing import Action, RoutedBackend, RpcPlan, ScanCursor
from hedgerow.rpc.transport import Transport

__all__ = ["RemoteScanner", "RpcBackend"]

P = ParamSpec("P")
R = TypeVar("R")


class RpcBackend(RoutedBackend[Transport]):
    """Implements ``hedgerow.client.backend.Backend`` by RPC calls on a blocking
    ``Transport``; its settings are ``RoutedBackend``'s."""

    def call(
        self, op: Callable[Concatenate[Operations, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run one operation over RPC (see the module docstring)."""
        o = OPERATIONS[op.__name__]
        if o.kind is Kind.SCAN:
            scan_args = cast("tuple[str, ScanRange, ReadSpec]", args)
            return cast(R, RemoteScanner(self, *scan_args))
        result: R = self.drive(routing.run(o, args, kwargs, self.routing))
        return result

    def drive(self, plan: RpcPlan[R]) -> R:
        """Run a sans-I/O plan (rpc/routing.py) on the transport, blocking."""
        return drive(plan, self._perform)

    def _perform(self, action: Action) -> list[Any] | None:
        if isinstance(action, routing.Send):
            return self._send(action)
        time.sleep(action.seconds)
        return None

    def _send(self, action: routing.Send) -> list[Any]:
        calls, t = action.calls, self.transport
        if len(calls) == 1:
            c = calls[0]
            return [unpackb(t.call(c.type, c.body(), self.timeout_s))]
        answers = t.call_many([(c.type, c.body()) for c in calls], self.timeout_s)
        return [a if isinstance(a, BaseException) else unpackb(a) for a in answers]

    def close(self) -> None:
        self.transport.close()


class RemoteScanner(ScanCursor, Iterator[tuple[bytes, list[Cell]]]):
    """Iterates a server-side scanner batch by batch; see ``RpcBackend.call``."""

    def __init__(self, backend: RpcBackend, table: str, rng: ScanRange, spec: ReadSpec) -> None:
        super().__init__(table, rng, spec, backend.scan_batch_rows, backend.scan_batch_bytes)
        self._backend = backend

    def __iter__(self) -> RemoteScanner:
        return self

    def __next__(self) -> tuple[bytes, list[Cell]]:
        if not self.buffered() and not self._backend.drive(
            routing.fill(self._backend.routing, self)
        ):
            raise StopIteration
        return self.pop()

    def close(self) -> None:
        """Close the server scanner now (idempotent)."""
        call = self.close_call()
        if call is not None:
            self._backend.transport.call(call.type, call.body(), self._backend.timeout_s)

    def __del__(self) -> None:
        sid = self.open_id()
        if sid is not None:
            try:
                self._backend.transport.notify(MessageType.CLOSE_SCANNER, routing.close_notice(sid))
            except Exception:
                pass
