"""``RpcBackend``: the client ``Backend`` protocol over an RPC ``Transport``.

Role: the network client (``hedgerow.connect("hedgerow://...")``) will give
``Connection``/``Table`` an ``RpcBackend``; every Backend method is one RPC
(scans: OPEN_SCANNER then SCANNER_NEXT batches, CLOSE_SCANNER when abandoned).
Each method's request and response handling is a ``Call`` built by the
functions in ``Calls``, shared with the asyncio flavour (rpc/aio_client.py), so
the two backends differ only in how they wait.
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

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hedgerow.errors import InvalidArgument, NotServingRegion
from hedgerow.model.cell import Cell
from hedgerow.model.compare import ValueComparison
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.locator import UNADDRESSED, Backoff, FanOut, RegionLocator, TableLocations
from hedgerow.rpc.transport import Transport
from hedgerow.rpc.wire_format import MessageType as T

__all__ = ["Call", "Calls", "RemoteScanner", "RpcBackend", "ScanCursor"]

R = TypeVar("R")


def _dur(durability: Any) -> int | None:
    if durability is None or durability is ...:
        return None
    if isinstance(durability, bool) or not isinstance(durability, int):
        raise InvalidArgument(f"durability must be a Durability, got {durability!r}")
    return int(durability)


@dataclass(frozen=True, slots=True)
class Call(Generic[R]):
    """One RPC, independent of how it is sent: its type, request, and answer decoder."""

    type: T
    request: Any  # an rpc.messages request (has to_wire)
    decode: Callable[[Any], R]  # the unpacked response body -> the method's result

    def body(self) -> bytes:
        return packb(self.request.to_wire())


def _none(_: Any) -> None:
    return None


def _table_names(v: Any) -> list[str]:
    return list(m.TableNamesResponse.from_wire(v).names)


def _descriptor(v: Any) -> TableDescriptor:
    return m.DescriptorResponse.from_wire(v).desc


def _bool(v: Any) -> bool:
    return m.BoolResponse.from_wire(v).value


def _regions(v: Any) -> list[m.RegionInfo]:
    return list(m.RegionsResponse.from_wire(v).regions)


def _two_names(v: Any) -> tuple[str, str]:
    left, right = m.NamesResponse.from_wire(v).names
    return left, right


def _first_name(v: Any) -> str:
    return m.NamesResponse.from_wire(v).names[0]


def _status(v: Any) -> dict[str, Any]:
    return m.StatusResponse.from_wire(v).status


def _ints(v: Any) -> dict[tuple[bytes, bytes], int]:
    return m.ColumnIntsResponse.from_wire(v).values


def _bytes(v: Any) -> dict[tuple[bytes, bytes], bytes]:
    return m.ColumnBytesResponse.from_wire(v).values


def _multi_cells(v: Any) -> list[list[Cell]]:
    return m.MultiCellsResponse.from_wire(v).rows


def _cells(v: Any) -> list[Cell]:
    return m.CellsResponse.from_wire(v).cells


def _scan_batch(v: Any) -> m.ScanBatchResponse:
    return m.ScanBatchResponse.from_wire(v)


class Calls:
    """The ``Call`` of every Backend method, by the method's name and arguments."""

    @staticmethod
    def table_names() -> Call[list[str]]:
        return Call(T.TABLE_NAMES, m.EmptyRequest(), _table_names)

    @staticmethod
    def descriptor(table: str) -> Call[TableDescriptor]:
        return Call(T.DESCRIPTOR, m.TableRequest(table), _descriptor)

    @staticmethod
    def create_table(desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> Call[None]:
        return Call(T.CREATE_TABLE, m.CreateTableRequest(desc, tuple(split_keys)), _none)

    @staticmethod
    def delete_table(table: str) -> Call[None]:
        return Call(T.DELETE_TABLE, m.TableRequest(table), _none)

    @staticmethod
    def modify_table(desc: TableDescriptor) -> Call[None]:
        return Call(T.MODIFY_TABLE, m.ModifyTableRequest(desc), _none)

    @staticmethod
    def truncate_table(table: str, preserve_splits: bool = True) -> Call[None]:
        return Call(T.TRUNCATE_TABLE, m.TruncateTableRequest(table, preserve_splits), _none)

    @staticmethod
    def enable_table(table: str) -> Call[None]:
        return Call(T.ENABLE_TABLE, m.TableRequest(table), _none)

    @staticmethod
    def disable_table(table: str) -> Call[None]:
        return Call(T.DISABLE_TABLE, m.TableRequest(table), _none)

    @staticmethod
    def is_table_enabled(table: str) -> Call[bool]:
        return Call(T.IS_TABLE_ENABLED, m.TableRequest(table), _bool)

    @staticmethod
    def regions(table: str) -> Call[list[m.RegionInfo]]:
        return Call(T.REGIONS, m.TableRequest(table), _regions)

    @staticmethod
    def flush_table(table: str) -> Call[None]:
        return Call(T.FLUSH_TABLE, m.TableRequest(table), _none)

    @staticmethod
    def compact_table(table: str, major: bool = False) -> Call[None]:
        return Call(T.COMPACT_TABLE, m.CompactTableRequest(table, major), _none)

    @staticmethod
    def split_region(
        table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> Call[tuple[str, str]]:
        req = m.SplitRegionRequest(table, region_name, split_row)
        return Call(T.SPLIT_REGION, req, _two_names)

    @staticmethod
    def merge_regions(table: str, region_a: str, region_b: str) -> Call[str]:
        req = m.MergeRegionsRequest(table, region_a, region_b)
        return Call(T.MERGE_REGIONS, req, _first_name)

    @staticmethod
    def status() -> Call[dict[str, Any]]:
        return Call(T.STATUS, m.EmptyRequest(), _status)

    @staticmethod
    def mutate(table: str, mutations: Sequence[RowMutation], durability: Any = None) -> Call[None]:
        return Call(T.MUTATE, m.MutateRequest(table, tuple(mutations), _dur(durability)), _none)

    @staticmethod
    def increment(
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = None,
        region: str | None = None,
    ) -> Call[dict[tuple[bytes, bytes], int]]:
        req = m.IncrementRequest(table, row, dict(amounts), _dur(durability), region)
        return Call(T.INCREMENT, req, _ints)

    @staticmethod
    def append(
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = None,
        region: str | None = None,
    ) -> Call[dict[tuple[bytes, bytes], bytes]]:
        req = m.AppendRequest(table, row, dict(suffixes), _dur(durability), region)
        return Call(T.APPEND, req, _bytes)

    @staticmethod
    def check_and_mutate(
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = None,
        region: str | None = None,
    ) -> Call[bool]:
        if not isinstance(compare, ValueComparison):
            raise InvalidArgument(
                "check_and_mutate over RPC needs a hedgerow.model.compare.ValueComparison "
                "(value_comparison(expected, op)); an arbitrary callable cannot be sent"
            )
        req = m.CheckAndMutateRequest(
            table,
            row,
            family,
            qualifier,
            compare.op,
            compare.expected,
            mutation,
            _dur(durability),
            region,
        )
        return Call(T.CHECK_AND_MUTATE, req, _bool)

    @staticmethod
    def get(table: str, row: bytes, spec: ReadSpec, region: str | None = None) -> Call[list[Cell]]:
        return Call(T.GET, m.GetRequest(table, row, spec, region), _cells)

    @staticmethod
    def get_many(
        table: str, rows: Sequence[bytes], spec: ReadSpec, region: str | None = None
    ) -> Call[list[list[Cell]]]:
        req = m.MultiGetRequest(table, tuple(rows), spec, region)
        return Call(T.MULTI_GET, req, _multi_cells)

    @staticmethod
    def mutate_part(
        table: str, mutations: Sequence[RowMutation], durability: Any, region: str | None
    ) -> Call[None]:
        req = m.MutateRequest(table, tuple(mutations), _dur(durability), region)
        return Call(T.MUTATE, req, _none)


def addresses_regions(transport: Any) -> bool:
    """Whether requests may name regions: the server speaks protocol version 2 or more
    (unknown before the first connection: assume so; the first REGIONS call tells)."""
    version = getattr(transport, "protocol_version", None)
    return version is None or version >= 2


def region_locations(regions: Sequence[m.RegionInfo]) -> list[tuple[m.RegionInfo, str]]:
    """REGIONS' answer as (region, hosting server) pairs ("" when the server is unknown)."""
    return [(r, r.server or "") for r in regions]


def mutation_row(mu: RowMutation) -> bytes:
    return mu.row


def row_itself(row: bytes) -> bytes:
    return row


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
        #: region locations (RFC 0001): every data call names its region
        self.locator = RegionLocator()

    def _locations(self, table: str) -> TableLocations:
        """The table's cached locations (one REGIONS call on a miss)."""
        if not addresses_regions(self.transport):
            return UNADDRESSED
        loc = self.locator.cached(table)
        if loc is None:
            regions: list[m.RegionInfo] = self._run(Calls.regions(table))
            if not addresses_regions(self.transport):  # learnt at this first connection
                return UNADDRESSED
            loc = self.locator.install(table, regions)
        return loc

    def _routed(self, table: str, attempt: Callable[[TableLocations], R]) -> R:
        """Run a region-addressed ``attempt`` with the table's locations; on
        NotServingRegion look the table up again and retry with backoff (10 ms doubling
        to 1 s) until the deadline."""
        try:  # fast path: the cached location is right, no deadline bookkeeping
            return attempt(self._locations(table))
        except NotServingRegion as e:
            last = e
        backoff = Backoff.for_call(self.transport, self.timeout_s)
        while True:
            self.locator.forget(table)
            delay = backoff.next_delay()
            if delay is None:
                raise last
            time.sleep(delay)
            try:
                return attempt(self._locations(table))
            except NotServingRegion as e:
                last = e

    def _fan_out(
        self, table: str, fan: FanOut[Any], build: Callable[[str | None, list[Any]], Call[R]]
    ) -> None:
        """Send one call per region at once (``build(region, items)``); the parts a
        region refused are regrouped with fresh locations and sent again."""

        def attempt(loc: TableLocations) -> None:
            parts = fan.parts(loc)
            calls = [build(region, fan.part_items(idx)) for region, idx in parts]
            if len(calls) == 1:  # one region: a plain call
                try:
                    answers: list[Any] = [self._run(calls[0])]
                except NotServingRegion as e:
                    answers = [e]
            else:
                bodies = [(c.type, c.body()) for c in calls]
                answers = [
                    a if isinstance(a, BaseException) else c.decode(unpackb(a))
                    for c, a in zip(
                        calls, self.transport.call_many(bodies, self.timeout_s), strict=True
                    )
                ]
            fan.settle(parts, answers)

        self._routed(table, attempt)

    def _run(self, c: Call[R]) -> R:
        return c.decode(unpackb(self.transport.call(c.type, c.body(), self.timeout_s)))

    def _relayout(self, table: str, c: Call[R]) -> R:
        """Run a call that gives ``table`` new regions (create, delete, truncate, split,
        merge), then drop its cached locations: the next data call reads them afresh
        instead of being refused first."""
        try:
            return self._run(c)
        finally:
            self.locator.forget(table)

    # ---- tables -----------------------------------------------------------------------

    def table_names(self) -> list[str]:
        return self._run(Calls.table_names())

    def descriptor(self, table: str) -> TableDescriptor:
        return self._run(Calls.descriptor(table))

    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        self._relayout(desc.name, Calls.create_table(desc, split_keys))

    def delete_table(self, table: str) -> None:
        self._relayout(table, Calls.delete_table(table))

    def modify_table(self, desc: TableDescriptor) -> None:
        self._run(Calls.modify_table(desc))

    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        self._relayout(table, Calls.truncate_table(table, preserve_splits))

    def enable_table(self, table: str) -> None:
        self._run(Calls.enable_table(table))

    def disable_table(self, table: str) -> None:
        self._run(Calls.disable_table(table))

    def is_table_enabled(self, table: str) -> bool:
        return self._run(Calls.is_table_enabled(table))

    def regions(self, table: str) -> list[m.RegionInfo]:
        return self._run(Calls.regions(table))

    def region_locations(self, table: str) -> list[tuple[m.RegionInfo, str]]:
        """The table's regions with their hosting servers (also refreshes the cache)."""
        regions = self._run(Calls.regions(table))
        self.locator.install(table, regions)
        return region_locations(regions)

    def flush_table(self, table: str) -> None:
        self._run(Calls.flush_table(table))

    def compact_table(self, table: str, *, major: bool = False) -> None:
        self._run(Calls.compact_table(table, major))

    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        return self._relayout(table, Calls.split_region(table, region_name, split_row))

    def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        return self._relayout(table, Calls.merge_regions(table, region_a, region_b))

    def status(self) -> dict[str, Any]:
        return self._run(Calls.status())

    # ---- writing ----------------------------------------------------------------------

    def mutate(self, table: str, mutations: Sequence[RowMutation], durability: Any = None) -> None:
        """One MUTATE per region, sent at once (each row's mutation stays atomic); the
        parts a region no longer serves (split, merged) are regrouped and resent."""
        fan = FanOut(mutations, mutation_row)
        self._fan_out(
            table, fan, lambda region, part: Calls.mutate_part(table, part, durability, region)
        )

    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], int]:
        return self._routed(
            table,
            lambda loc: self._run(
                Calls.increment(table, row, amounts, durability, loc.locate(row))
            ),
        )

    def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], bytes]:
        return self._routed(
            table,
            lambda loc: self._run(Calls.append(table, row, suffixes, durability, loc.locate(row))),
        )

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
        return self._routed(
            table,
            lambda loc: self._run(
                Calls.check_and_mutate(
                    table, row, family, qualifier, compare, mutation, durability, loc.locate(row)
                )
            ),
        )

    # ---- reading ----------------------------------------------------------------------

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return self._routed(
            table, lambda loc: self._run(Calls.get(table, row, spec, loc.locate(row)))
        )

    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        """One MULTI_GET per region holding some of ``rows``, sent at once; results in
        request order."""
        fan = FanOut(rows, row_itself)
        self._fan_out(table, fan, lambda region, part: Calls.get_many(table, part, spec, region))
        got: list[list[Cell]] = fan.per_item()
        return got

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> RemoteScanner:
        return RemoteScanner(self, table, rng, spec)

    def close(self) -> None:
        self.transport.close()


class ScanCursor:
    """The state of a server-side scan, shared by the blocking and asyncio scanners.

    A driver asks ``next_call()`` for the RPC that fetches the next batch (None:
    the scan is over), sends it, and hands the answer to ``got`` (or calls
    ``failed`` when it raised); ``pop`` takes the next buffered row.
    """

    def __init__(
        self, table: str, rng: ScanRange, spec: ReadSpec, batch_rows: int, batch_bytes: int
    ) -> None:
        self.table = table
        self._req = m.OpenScannerRequest(table, rng, spec, batch_rows, batch_bytes)
        self._batch_rows = batch_rows
        self._batch_bytes = batch_bytes
        self._id: int | None = None  # server scanner id while open there
        self._buf: list[tuple[bytes, list[Cell]]] = []
        self._pos = 0
        self._more = True
        self._started = False

    def buffered(self) -> bool:
        return self._pos < len(self._buf)

    def pop(self) -> tuple[bytes, list[Cell]]:
        item = self._buf[self._pos]
        self._pos += 1
        return item

    def opening(self) -> bool:
        """True while the scanner is still to be opened (the next call is an open)."""
        return self._more and not self._started

    def first_region(self, loc: TableLocations) -> str | None:
        """The region holding the scan's first row, which the open names (RFC 0001)."""
        start = self._req.rng.start
        if not start:
            return loc.last() if self._req.rng.reverse else loc.locate(b"")
        return loc.locate(start)

    def open_call(self, region: str | None) -> Call[m.ScanBatchResponse]:
        self._started = True
        return Call(T.OPEN_SCANNER, dataclasses.replace(self._req, region=region), _scan_batch)

    def next_call(self) -> Call[m.ScanBatchResponse] | None:
        if not self._more:
            return None
        if not self._started:
            return self.open_call(None)
        assert self._id is not None
        req = m.ScannerNextRequest(self._id, self._batch_rows, self._batch_bytes)
        return Call(T.SCANNER_NEXT, req, _scan_batch)

    def failed(self, call: Call[m.ScanBatchResponse]) -> None:
        """``call`` raised: an open may be tried again, a failed next ends the scan."""
        if call.type == T.OPEN_SCANNER:
            self._started = False
        else:
            self._more = False
            self._id = None

    def got(self, resp: m.ScanBatchResponse) -> None:
        self._buf = resp.rows
        self._pos = 0
        self._more = resp.more
        self._id = resp.scanner_id if resp.more else None

    def close_call(self) -> Call[None] | None:
        """End the scan here; the CLOSE_SCANNER call to send, if the server holds one."""
        self._more = False
        self._buf = []
        self._pos = 0
        sid, self._id = self._id, None
        if sid is None:
            return None
        return Call(T.CLOSE_SCANNER, m.CloseScannerRequest(sid), _none)

    def open_id(self) -> int | None:
        """The server scanner id while one is open (for finalizers)."""
        return getattr(self, "_id", None)


def close_notice(scanner_id: int) -> bytes:
    """The body of a CLOSE_SCANNER notice (sent without waiting for its answer)."""
    return packb(m.CloseScannerRequest(scanner_id).to_wire())


class RemoteScanner(ScanCursor, Iterator[tuple[bytes, list[Cell]]]):
    """Iterates a server-side scanner batch by batch; see ``RpcBackend.scan``."""

    def __init__(self, backend: RpcBackend, table: str, rng: ScanRange, spec: ReadSpec) -> None:
        super().__init__(table, rng, spec, backend.scan_batch_rows, backend.scan_batch_bytes)
        self._backend = backend

    def __iter__(self) -> RemoteScanner:
        return self

    def __next__(self) -> tuple[bytes, list[Cell]]:
        while not self.buffered():
            if self.opening():
                # region-addressed open: refused after a split, looked up again, retried
                resp = self._backend._routed(self.table, self._open)
            else:
                call = self.next_call()
                if call is None:
                    raise StopIteration
                try:
                    resp = self._backend._run(call)
                except BaseException:
                    self.failed(call)
                    raise
            self.got(resp)
        return self.pop()

    def _open(self, loc: TableLocations) -> m.ScanBatchResponse:
        call = self.open_call(self.first_region(loc))
        try:
            return self._backend._run(call)
        except BaseException:
            self.failed(call)
            raise

    def close(self) -> None:
        """Close the server scanner now (idempotent)."""
        call = self.close_call()
        if call is not None:
            self._backend._run(call)

    def __del__(self) -> None:
        sid = self.open_id()
        if sid is not None:
            try:
                self._backend.transport.notify(T.CLOSE_SCANNER, close_notice(sid))
            except Exception:
                pass
