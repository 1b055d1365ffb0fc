"""``RpcBackend``: the client ``Backend`` protocol over an RPC ``Transport``.

Role: ``hedgerow.connect("hedgerow://...")`` gives ``Connection``/``Table`` an
``RpcBackend``.  ``call(Operations.<op>, ...)`` runs the operation's sans-I/O
plan (rpc/routing.py: region-addressed calls, a location cache refreshed on
NOT_SERVING_REGION, backoff until the deadline, per-region parts sent at once)
by blocking on the transports: each call goes to the server its region's
location names (``RoutedBackend.pool``: one transport per server, the bootstrap
one for admin calls and lookups); a plan's parallel calls go out per server with
``call_many``, the servers' groups on threads at once.  Scans are OPEN_SCANNER
then SCANNER_NEXT batches on the scanner's server, CLOSE_SCANNER when abandoned.  The asyncio flavour (rpc/aio_client.py) drives
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

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from hedgerow._internal.sansio import drive
from hedgerow.errors import HedgerowError
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import routing
from hedgerow.rpc.codec import unpackb
from hedgerow.rpc.codes import ConnectionLost
from hedgerow.rpc.operations import OPERATIONS, Kind, MessageType, Operations
from hedgerow.rpc.routing import Action, RoutedBackend, RpcPlan, ScanCursor
from hedgerow.rpc.transport import Transport

__all__ = ["RemoteScanner", "RpcBackend"]

P = ParamSpec("P")
R = TypeVar("R")

#: threads sending one plan's per-server groups at once (more servers queue)
_FAN_OUT_THREADS = 8


class RpcBackend(RoutedBackend[Transport]):
    """Implements ``hedgerow.client.backend.Backend`` by RPC calls on a blocking
    ``Transport``; its settings are ``RoutedBackend``'s."""

    def __init__(self, transport: Transport, **settings: Any) -> None:
        super().__init__(transport, **settings)
        self._executor_lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None  # guarded by _executor_lock

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
        calls = action.calls
        if len(calls) == 1:
            c = calls[0]
            t = self.pool.transport_for(c.server)
            try:
                return [unpackb(t.call(c.type, c.body(), self.timeout_s))]
            except ConnectionLost:
                self.pool.drop(c.server, t)
                raise
        groups: dict[str | None, list[int]] = {}
        for i, c in enumerate(calls):
            groups.setdefault(c.server, []).append(i)
        answers: list[Any] = [None] * len(calls)
        if len(groups) == 1:
            ((server, idx),) = groups.items()
            self._send_group(server, calls, idx, answers)
        else:
            ex = self._executor()
            futures = [
                ex.submit(self._send_group, s, calls, idx, answers) for s, idx in groups.items()
            ]
            for f in futures:
                f.result()
        return answers

    def _send_group(
        self, server: str | None, calls: Sequence[routing.Call[Any]], idx: list[int], out: list[Any]
    ) -> None:
        """Send the calls ``idx`` to ``server`` together; their answers (or errors) into
        ``out``."""
        t = self.pool.transport_for(server)
        try:
            got: list[Any] = t.call_many(
                [(calls[i].type, calls[i].body()) for i in idx], self.timeout_s
            )
        except HedgerowError as e:  # e.g. a closed transport: every call of the group failed
            got = [e] * len(idx)
        lost = False
        for i, a in zip(idx, got, strict=True):
            lost = lost or isinstance(a, ConnectionLost)
            out[i] = a if isinstance(a, BaseException) else unpackb(a)
        if lost:
            self.pool.drop(server, t)

    def _executor(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    _FAN_OUT_THREADS, thread_name_prefix="hedgerow-rpc-fanout"
                )
            return self._threads

    def close(self) -> None:
        for t in self.pool.take_all():
            t.close()
        self.transport.close()
        with self._executor_lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)


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
            b = self._backend
            b.transport_for(call.server).call(call.type, call.body(), b.timeout_s)

    def __del__(self) -> None:
        sid = self.open_id()
        if sid is not None:
            try:
                t = self._backend.pool.open_transport(self.open_server())
                if t is not None:
                    t.notify(MessageType.CLOSE_SCANNER, routing.close_notice(sid))
            except Exception:
                pass
