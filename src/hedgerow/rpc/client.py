"""``RpcBackend``: the client ``Backend`` protocol over an RPC ``Transport``.

Role: the network client (``hedgerow.connect("hedgerow://...")``) will give
``Connection``/``Table`` an ``RpcBackend``; every Backend method is one RPC
(scans: OPEN_SCANNER then SCANNER_NEXT batches, CLOSE_SCANNER when abandoned).
Format: messages per docs/formats/rpc.md#messages.
Invariants: ``check_and_mutate``'s compare must be a
``hedgerow.model.compare.ValueComparison`` (its ``op`` and ``expected`` travel;
an arbitrary callable cannot) - anything else raises InvalidArgument.  A scan
iterator opens its server scanner on the first ``next()``, pulls one batch at a
time, and closes the server scanner when exhausted, on ``close()``, or when
garbage-collected (a queued CLOSE_SCANNER notice).
Concurrency: thread-safe if the transport is (``SocketTransport`` is); one scan
iterator belongs to one thread.
Hot path: ``get`` (one round trip); bench/bench_rpc.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.compare import ValueComparison
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.transport import Transport
from hedgerow.rpc.wire_format import MessageType as T

__all__ = ["RemoteScanner", "RpcBackend"]


def _dur(durability: Any) -> int | None:
    if durability is None or durability is ...:
        return None
    if isinstance(durability, bool) or not isinstance(durability, int):
        raise InvalidArgument(f"durability must be a Durability, got {durability!r}")
    return int(durability)


class RpcBackend:
    """Implements ``hedgerow.client.backend.Backend`` by RPC calls on ``transport``.

    Tables: table_names, descriptor, create_table, delete_table, modify_table,
    truncate_table, enable_table, disable_table, is_table_enabled, regions,
    flush_table, compact_table.  Writing: mutate, increment, append,
    check_and_mutate.  Reading: get, scan.  ``timeout_s`` (None: the transport's
    default) is every call's deadline; ``scan_batch_rows`` rows per scan batch.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        timeout_s: float | None = None,
        scan_batch_rows: int = 100,
        scan_batch_bytes: int = 1 << 20,
    ) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self.scan_batch_rows = scan_batch_rows
        self.scan_batch_bytes = scan_batch_bytes

    def _call(self, t: T, req: Any) -> Any:
        return unpackb(self.transport.call(t, packb(req.to_wire()), self.timeout_s))

    # ---- tables -----------------------------------------------------------------------

    def table_names(self) -> list[str]:
        return list(
            m.TableNamesResponse.from_wire(self._call(T.TABLE_NAMES, m.EmptyRequest())).names
        )

    def descriptor(self, table: str) -> TableDescriptor:
        return m.DescriptorResponse.from_wire(self._call(T.DESCRIPTOR, m.TableRequest(table))).desc

    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        self._call(T.CREATE_TABLE, m.CreateTableRequest(desc, tuple(split_keys)))

    def delete_table(self, table: str) -> None:
        self._call(T.DELETE_TABLE, m.TableRequest(table))

    def modify_table(self, desc: TableDescriptor) -> None:
        self._call(T.MODIFY_TABLE, m.ModifyTableRequest(desc))

    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        self._call(T.TRUNCATE_TABLE, m.TruncateTableRequest(table, preserve_splits))

    def enable_table(self, table: str) -> None:
        self._call(T.ENABLE_TABLE, m.TableRequest(table))

    def disable_table(self, table: str) -> None:
        self._call(T.DISABLE_TABLE, m.TableRequest(table))

    def is_table_enabled(self, table: str) -> bool:
        return m.BoolResponse.from_wire(self._call(T.IS_TABLE_ENABLED, m.TableRequest(table))).value

    def regions(self, table: str) -> list[m.RegionInfo]:
        resp = m.RegionsResponse.from_wire(self._call(T.REGIONS, m.TableRequest(table)))
        return list(resp.regions)

    def flush_table(self, table: str) -> None:
        self._call(T.FLUSH_TABLE, m.TableRequest(table))

    def compact_table(self, table: str, *, major: bool = False) -> None:
        self._call(T.COMPACT_TABLE, m.CompactTableRequest(table, major))

    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        resp = m.NamesResponse.from_wire(
            self._call(T.SPLIT_REGION, m.SplitRegionRequest(table, region_name, split_row))
        )
        left, right = resp.names
        return left, right

    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        resp = m.NamesResponse.from_wire(
            self._call(T.MERGE_REGIONS, m.MergeRegionsRequest(table, region_a, region_b))
        )
        return resp.names[0]

    def status(self) -> dict[str, Any]:
        return m.StatusResponse.from_wire(self._call(T.STATUS, m.EmptyRequest())).status

    # ---- writing ----------------------------------------------------------------------

    def mutate(self, table: str, mutations: Sequence[RowMutation], durability: Any = None) -> None:
        self._call(T.MUTATE, m.MutateRequest(table, tuple(mutations), _dur(durability)))

    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], int]:
        req = m.IncrementRequest(table, row, dict(amounts), _dur(durability))
        return m.ColumnIntsResponse.from_wire(self._call(T.INCREMENT, req)).values

    def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], bytes]:
        req = m.AppendRequest(table, row, dict(suffixes), _dur(durability))
        return m.ColumnBytesResponse.from_wire(self._call(T.APPEND, req)).values

    def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = None,
    ) -> bool:
        if not isinstance(compare, ValueComparison):
            raise InvalidArgument(
                "check_and_mutate over RPC needs a hedgerow.model.compare.ValueComparison "
                "(value_comparison(expected, op)); an arbitrary callable cannot be sent"
            )
        req = m.CheckAndMutateRequest(
            table, row, family, qualifier, compare.op, compare.expected, mutation, _dur(durability)
        )
        return m.BoolResponse.from_wire(self._call(T.CHECK_AND_MUTATE, req)).value

    # ---- reading ----------------------------------------------------------------------

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return m.CellsResponse.from_wire(self._call(T.GET, m.GetRequest(table, row, spec))).cells

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> RemoteScanner:
        return RemoteScanner(self, table, rng, spec)

    def close(self) -> None:
        self.transport.close()


class RemoteScanner(Iterator[tuple[bytes, list[Cell]]]):
    """Iterates a server-side scanner batch by batch; see ``RpcBackend.scan``."""

    def __init__(self, backend: RpcBackend, table: str, rng: ScanRange, spec: ReadSpec) -> None:
        self._backend = backend
        self._req = m.OpenScannerRequest(
            table, rng, spec, backend.scan_batch_rows, backend.scan_batch_bytes
        )
        self._id: int | None = None  # server scanner id while open there
        self._buf: list[tuple[bytes, list[Cell]]] = []
        self._pos = 0
        self._more = True
        self._started = False

    def __iter__(self) -> RemoteScanner:
        return self

    def __next__(self) -> tuple[bytes, list[Cell]]:
        while self._pos >= len(self._buf):
            if not self._more:
                raise StopIteration
            self._fetch()
        item = self._buf[self._pos]
        self._pos += 1
        return item

    def _fetch(self) -> None:
        b = self._backend
        if not self._started:
            self._started = True
            resp = m.ScanBatchResponse.from_wire(b._call(T.OPEN_SCANNER, self._req))
        else:
            assert self._id is not None
            req = m.ScannerNextRequest(self._id, b.scan_batch_rows, b.scan_batch_bytes)
            try:
                resp = m.ScanBatchResponse.from_wire(b._call(T.SCANNER_NEXT, req))
            except BaseException:
                self._more = False
                self._id = None
                raise
        self._buf = resp.rows
        self._pos = 0
        self._more = resp.more
        self._id = resp.scanner_id if resp.more else None

    def close(self) -> None:
        """Close the server scanner now (idempotent)."""
        self._more = False
        self._buf = []
        sid, self._id = self._id, None
        if sid is not None:
            self._backend._call(T.CLOSE_SCANNER, m.CloseScannerRequest(sid))

    def __del__(self) -> None:
        sid = getattr(self, "_id", None)
        if sid is not None:
            try:
                self._backend.transport.notify(
                    T.CLOSE_SCANNER, packb(m.CloseScannerRequest(sid).to_wire())
                )
            except Exception:
                pass
