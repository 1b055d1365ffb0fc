"""Every operation Hedgerow serves, declared once: the ``Operations`` protocol.

Role: the one place an operation is written down.  Each method of ``Operations``
is one operation: its Python signature is what the embedded engine implements
and what clients call (``backend.call(Operations.get, table, row, spec)``), and
its ``@operation`` decorator says how it travels: its ``MessageType``, its routing
kind, how its arguments become a request message, how the server serves that
request, and how the answer becomes the result.  From these declarations come
the server's dispatch table (``rpc.dispatch``), the blocking and asyncio RPC
backends (``rpc.client``, ``rpc.aio_client``, through the sans-I/O routing in
``rpc.routing``) and every client flavour (``client.backend``); nothing else
lists the operations.  docs/design/adding-an-operation.md walks through adding
one.
Format: message numbers and bodies per docs/formats/rpc.md#bodies.
Invariants: ``MessageType`` values are on the wire: never renumber, never reuse a
retired number.  An operation's request builder takes the method's own
arguments (plus ``region`` for region-addressed kinds) and its ``serve`` calls
the handler with the request's fields, so a round trip over RPC calls the
handler with what the client passed.  Routing kinds: ``ADMIN`` (one call),
``RELAYOUT`` (one call that changes the table's regions: cached locations are
dropped after it), ``ROUTED`` (one row: the call names the region holding it and
is retried elsewhere on NOT_SERVING_REGION), ``FAN_OUT`` (many rows: one call per
region, all in flight at once) and ``SCAN`` (a server-side scanner).
Concurrency: declarations are immutable.
Stays whole: it is the one list of operations, by design; split, an operation's
declaration would again live in more than one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Protocol, TypeVar

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import Cell
from hedgerow.model.compare import ValueComparison, value_comparison
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc import messages as m

__all__ = [
    "BY_TYPE",
    "MESSAGES",
    "OPERATIONS",
    "Handler",
    "Kind",
    "MessageType",
    "Operation",
    "Operations",
    "RegionLike",
    "operation",
]

F = TypeVar("F", bound=Callable[..., Any])


class MessageType(IntEnum):
    """Operation carried by a frame; a response carries its request's type.

    # ON-DISK/WIRE: never renumber; retired: (none).  0 is invalid.
    """

    PING = 1
    # tables (DDL and admin)
    TABLE_NAMES = 2
    DESCRIPTOR = 3
    CREATE_TABLE = 4
    DELETE_TABLE = 5
    MODIFY_TABLE = 6
    TRUNCATE_TABLE = 7
    ENABLE_TABLE = 8
    DISABLE_TABLE = 9
    IS_TABLE_ENABLED = 10
    REGIONS = 11
    FLUSH_TABLE = 12
    COMPACT_TABLE = 13
    SPLIT_REGION = 14
    MERGE_REGIONS = 15
    STATUS = 16
    TABLE_EXISTS = 17
    # cluster administration (the master's assignment)
    BALANCE = 50
    MOVE_REGION = 51
    DECOMMISSION_SERVERS = 52
    RECOMMISSION_SERVER = 53
    # master -> region server (docs/formats/rpc.md#master-to-region-server)
    OPEN_REGION = 60
    CLOSE_REGION = 61
    REGION_SERVER_REPORT = 62
    FLUSH_REGION = 63
    COMPACT_REGION = 64
    # writing
    MUTATE = 20
    INCREMENT = 21
    APPEND = 22
    CHECK_AND_MUTATE = 23
    # reading
    GET = 30
    OPEN_SCANNER = 31
    SCANNER_NEXT = 32
    CLOSE_SCANNER = 33
    MULTI_GET = 34
    # reserved for later (docs/formats/rpc.md#security-adding-tls-and-authentication-later); servers answer UNKNOWN_MESSAGE_TYPE
    AUTH = 40
    CANCEL = 41


class Kind(Enum):
    """How a client routes an operation (see the module docstring)."""

    ADMIN = "admin"
    RELAYOUT = "relayout"
    ROUTED = "routed"
    FAN_OUT = "fan-out"
    SCAN = "scan"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation's wire declaration (built by ``@operation``).

    ``request(*args, **kwargs)`` builds the request from the method's arguments (for
    ``ROUTED`` and ``FAN_OUT`` kinds its first argument is the region name, and for
    ``FAN_OUT`` the second is the part's items); ``answer`` turns the unpacked
    response body into the result; ``serve(handler, request)`` runs it on a server
    and returns the response message (None for an empty answer).  ``checks(request)``
    lists the rows a region-addressed request's region must hold; ``table`` is the
    name of the table the call is about (its locations are what RELAYOUT drops);
    ``items``/``item_row`` split a FAN_OUT call's items by region.
    """

    name: str
    message: MessageType
    kind: Kind
    request_class: type[Any]
    response_class: type[Any] | None
    request: Callable[..., Any]
    answer: Callable[[Any], Any]
    serve: Callable[[Any, Any], Any]
    checks: Callable[[Any], Sequence[bytes]] | None = None
    item_row: Callable[[Any], bytes] | None = None


def _empty(_: Any) -> None:
    if _ is not None:
        from hedgerow.rpc.codes import ProtocolError

        raise ProtocolError("expected an empty (nil) answer")


def operation(
    message: MessageType,
    kind: Kind,
    request_class: type[Any],
    response_class: type[Any] | None,
    *,
    request: Callable[..., Any] | None = None,
    serve: Callable[[Any, Any], Any] | None = None,
    answer: Callable[[Any], Any] | None = None,
    checks: Callable[[Any], Sequence[bytes]] | None = None,
    item_row: Callable[[Any], bytes] | None = None,
) -> Callable[[F], F]:
    """Declare the method it decorates as an operation (see ``Operation``).

    ``request`` defaults to ``request_class(*args, **kwargs)`` (its fields are the
    method's parameters, in order); ``serve`` to calling the handler's method of the
    same name with the request's fields, in order, and wrapping what it returns in
    ``response_class``; ``answer`` to reading ``response_class``'s single field (nothing
    for an empty response); ``checks`` to ``[request.row]`` for ROUTED operations.
    """
    if request is None:
        request = request_class
    if answer is None:
        answer = _empty if response_class is None else _single_field(response_class)
    if checks is None and kind is Kind.ROUTED:
        checks = _row_of_request

    def declare(fn: F) -> F:
        _DECLARED[fn.__name__] = Operation(
            fn.__name__,
            message,
            kind,
            request_class,
            response_class,
            request,
            answer,
            serve or _serve_by_name(fn.__name__, request_class, response_class),
            checks,
            item_row,
        )
        return fn

    return declare


#: filled by ``@operation`` as the class body of ``Operations`` runs
_DECLARED: dict[str, Operation] = {}


def _serve_by_name(
    name: str, request_class: type[Any], response_class: type[Any] | None
) -> Callable[[Any, Any], Any]:
    """The default ``serve``: ``handler.<name>(*request fields)``, its result wrapped."""
    fields = [f.name for f in dataclasses.fields(request_class)]  # subclasses included

    def serve(handler: Any, r: Any) -> Any:
        result = getattr(handler, name)(*[getattr(r, f) for f in fields])
        return None if response_class is None else response_class(result)

    return serve


def _single_field(cls: type[Any]) -> Callable[[Any], Any]:
    field = dataclasses.fields(cls)[0].name

    def answer(body: Any) -> Any:
        return getattr(cls.from_wire(body), field)

    return answer


def _row_of_request(r: Any) -> list[bytes]:
    return [r.row]


def _dur(durability: Durability | None) -> int | None:
    """A durability for the wire (None: the server's default)."""
    if durability is None:
        return None
    if isinstance(durability, bool) or not isinstance(durability, int):
        raise InvalidArgument(f"durability must be a Durability, got {durability!r}")
    return int(durability)


def _durability(d: int | None) -> tuple[Durability, ...]:
    """The handler's durability argument: none when the client sent none."""
    if d is None:
        return ()
    try:
        return (Durability(d),)
    except ValueError:
        raise InvalidArgument(f"unknown durability {d}") from None


def _wire_comparison(compare: Callable[[bytes | None], bool]) -> ValueComparison:
    if not isinstance(compare, ValueComparison):
        raise InvalidArgument(
            "check_and_mutate over RPC needs a hedgerow.model.compare.ValueComparison "
            "(value_comparison(expected, op)); an arbitrary callable cannot be sent"
        )
    return compare


class RegionLike(Protocol):
    """A region as operations describe it (``hedgerow.region.RegionInfo``,
    ``rpc.messages.RegionInfo``)."""

    @property
    def table(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def start_key(self) -> bytes: ...
    @property
    def end_key(self) -> bytes: ...


def _regions_answer(body: Any) -> list[m.RegionInfo]:
    return list(m.RegionsResponse.from_wire(body).regions)


def _locations_answer(body: Any) -> list[tuple[m.RegionInfo, str]]:
    return [(r, r.server or "") for r in m.RegionsResponse.from_wire(body).regions]


def _regions_response(pairs: Sequence[tuple[RegionLike, str]]) -> m.RegionsResponse:
    return m.RegionsResponse(
        tuple(m.RegionInfo(x.table, x.name, x.start_key, x.end_key, s) for x, s in pairs)
    )


def _two_names(body: Any) -> tuple[str, str]:
    left, right = m.NamesResponse.from_wire(body).names
    return left, right


def _mutation_row(mu: RowMutation) -> bytes:
    return mu.row


def _row_itself(row: bytes) -> bytes:
    return row


T = MessageType
A = Kind


class Operations(Protocol):
    """What every Hedgerow deployment serves: one method per operation.

    Tables: table_names, descriptor, create_table, delete_table, modify_table,
    truncate_table, enable_table, disable_table, is_table_enabled, table_exists.  Regions:
    regions, region_locations, split_region, merge_regions.  Maintenance:
    flush_table, compact_table, status.  Writing: mutate, increment, append,
    check_and_mutate.  Reading: get, get_many, scan.
    """

    # ---- tables ---------------------------------------------------------------------------
    @operation(
        T.TABLE_NAMES,
        A.ADMIN,
        m.EmptyRequest,
        m.TableNamesResponse,
        request=lambda: m.EmptyRequest(),
        answer=lambda body: list(m.TableNamesResponse.from_wire(body).names),
        serve=lambda h, r: m.TableNamesResponse(tuple(h.table_names())),
    )
    def table_names(self) -> list[str]: ...

    @operation(T.DESCRIPTOR, A.ADMIN, m.TableRequest, m.DescriptorResponse)
    def descriptor(self, table: str) -> TableDescriptor: ...

    @operation(
        T.CREATE_TABLE,
        A.RELAYOUT,
        m.CreateTableRequest,
        None,
        request=lambda desc, split_keys=(): m.CreateTableRequest(desc, tuple(split_keys)),
        serve=lambda h, r: h.create_table(r.desc, r.split_keys),
    )
    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None: ...

    @operation(T.DELETE_TABLE, A.RELAYOUT, m.TableRequest, None)
    def delete_table(self, table: str) -> None: ...

    @operation(T.MODIFY_TABLE, A.ADMIN, m.ModifyTableRequest, None)
    def modify_table(self, desc: TableDescriptor) -> None: ...

    @operation(
        T.TRUNCATE_TABLE,
        A.RELAYOUT,
        m.TruncateTableRequest,
        None,
        request=lambda table, *, preserve_splits=True: m.TruncateTableRequest(
            table, preserve_splits
        ),
        serve=lambda h, r: h.truncate_table(r.table, preserve_splits=r.preserve_splits),
    )
    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None: ...

    @operation(T.ENABLE_TABLE, A.ADMIN, m.TableRequest, None)
    def enable_table(self, table: str) -> None: ...

    @operation(T.DISABLE_TABLE, A.ADMIN, m.TableRequest, None)
    def disable_table(self, table: str) -> None: ...

    @operation(T.IS_TABLE_ENABLED, A.ADMIN, m.TableRequest, m.BoolResponse)
    def is_table_enabled(self, table: str) -> bool: ...

    @operation(T.TABLE_EXISTS, A.ADMIN, m.TableRequest, m.BoolResponse)
    def table_exists(self, table: str) -> bool:
        """Whether the table exists (``hbase:meta`` always does)."""
        ...

    # ---- regions --------------------------------------------------------------------------
    @operation(
        T.REGIONS,
        A.ADMIN,
        m.TableRequest,
        m.RegionsResponse,
        request=lambda table: m.TableRequest(table),
        answer=_regions_answer,
        serve=lambda h, r: _regions_response(h.region_locations(r.table)),
    )
    def regions(self, table: str) -> Sequence[RegionLike]: ...

    # the same message as REGIONS: its answer carries each region's server
    @operation(
        T.REGIONS,
        A.ADMIN,
        m.TableRequest,
        m.RegionsResponse,
        request=lambda table: m.TableRequest(table),
        answer=_locations_answer,
        serve=lambda h, r: _regions_response(h.region_locations(r.table)),
    )
    def region_locations(self, table: str) -> Sequence[tuple[RegionLike, str]]:
        """The table's regions in key order, each with the server hosting it ("" when
        unknown, e.g. while the table is disabled)."""
        ...

    @operation(
        T.SPLIT_REGION,
        A.RELAYOUT,
        m.SplitRegionRequest,
        m.NamesResponse,
        request=lambda table, region_name=None, split_row=None: m.SplitRegionRequest(
            table, region_name, split_row
        ),
        answer=_two_names,
        serve=lambda h, r: m.NamesResponse(tuple(h.split_region(r.table, r.region, r.split_row))),
    )
    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]: ...

    @operation(
        T.MERGE_REGIONS,
        A.RELAYOUT,
        m.MergeRegionsRequest,
        m.NamesResponse,
        request=lambda table, region_a, region_b: m.MergeRegionsRequest(table, region_a, region_b),
        answer=lambda body: m.NamesResponse.from_wire(body).names[0],
        serve=lambda h, r: m.NamesResponse((h.merge_regions(r.table, r.region_a, r.region_b),)),
    )
    def merge_regions(self, table: str, region_a: str, region_b: str) -> str: ...

    # ---- maintenance and reporting --------------------------------------------------------
    @operation(T.FLUSH_TABLE, A.ADMIN, m.TableRequest, None)
    def flush_table(self, table: str) -> None: ...

    @operation(
        T.COMPACT_TABLE,
        A.ADMIN,
        m.CompactTableRequest,
        None,
        request=lambda table, *, major=False: m.CompactTableRequest(table, major),
        serve=lambda h, r: h.compact_table(r.table, major=r.major),
    )
    def compact_table(self, table: str, *, major: bool = False) -> None: ...

    @operation(T.STATUS, A.ADMIN, m.EmptyRequest, m.StatusResponse)
    def status(self) -> dict[str, object]: ...

    # ---- cluster administration -----------------------------------------------------------
    @operation(
        T.BALANCE,
        A.ADMIN,
        m.EmptyRequest,
        m.BoolResponse,
        request=lambda: m.EmptyRequest(),
        serve=lambda h, r: m.BoolResponse(h.balance()),
    )
    def balance(self) -> bool:
        """Run the balancer now; False if it did not run (regions in transition)."""
        ...

    @operation(
        T.MOVE_REGION,
        A.ADMIN,
        m.MoveRegionRequest,
        m.NamesResponse,
        request=lambda region_name, dest_server=None: m.MoveRegionRequest(region_name, dest_server),
        answer=lambda body: m.NamesResponse.from_wire(body).names[0],
        serve=lambda h, r: m.NamesResponse((h.move_region(r.region, r.dest_server),)),
    )
    def move_region(self, region_name: str, dest_server: str | None = None) -> str:
        """Move a region (None: to the least-loaded server); returns its new server."""
        ...

    @operation(
        T.DECOMMISSION_SERVERS,
        A.ADMIN,
        m.DecommissionRequest,
        None,
        request=lambda servers, offload=True: m.DecommissionRequest(tuple(servers), offload),
        serve=lambda h, r: h.decommission_server(r.servers, r.offload),
    )
    def decommission_server(self, servers: Sequence[str], offload: bool = True) -> None:
        """Give the servers no new regions and, with ``offload``, move theirs away."""
        ...

    @operation(T.RECOMMISSION_SERVER, A.ADMIN, m.ServerRequest, None)
    def recommission_server(self, server: str) -> None:
        """Let a decommissioned server receive regions again."""
        ...

    # ---- master -> region server ---------------------------------------------------------
    @operation(
        T.OPEN_REGION,
        A.ADMIN,
        m.OpenRegionRequest,
        None,
        serve=lambda h, r: h.open_region(r.epoch, r.desc, r.region, r.start_key, r.end_key),
    )
    def open_region(
        self, epoch: int, desc: TableDescriptor, region: str, start_key: bytes, end_key: bytes
    ) -> None:
        """(master -> region server) Open a region and serve it; ``epoch`` is the
        calling master's (a server refuses an epoch older than the newest it has seen)."""
        ...

    @operation(T.CLOSE_REGION, A.ADMIN, m.CloseRegionRequest, None)
    def close_region(self, epoch: int, table: str, region: str) -> None:
        """(master -> region server) Flush and close a region (nothing if not open)."""
        ...

    @operation(
        T.REGION_SERVER_REPORT,
        A.ADMIN,
        m.EpochRequest,
        m.ServerReportResponse,
        answer=lambda body: m.ServerReportResponse.from_wire(body),
        serve=lambda h, r: h.region_server_report(r.epoch),
    )
    def region_server_report(self, epoch: int) -> m.ServerReportResponse:
        """(master -> region server) The regions open here, with sizes and requests."""
        ...

    @operation(T.FLUSH_REGION, A.ADMIN, m.FlushRegionRequest, None)
    def flush_region(self, epoch: int, table: str, region: str) -> None:
        """(master -> region server) Flush a region's memstore while it keeps serving."""
        ...

    @operation(
        T.COMPACT_REGION,
        A.ADMIN,
        m.CompactRegionRequest,
        None,
        serve=lambda h, r: h.compact_region(r.epoch, r.table, r.region, r.major),
    )
    def compact_region(self, epoch: int, table: str, region: str, major: bool) -> None:
        """(master -> region server) Flush, then compact a region while it keeps serving
        (``major``: every file of each store into one)."""
        ...

    # ---- writing --------------------------------------------------------------------------
    @operation(
        T.MUTATE,
        A.FAN_OUT,
        m.MutateRequest,
        None,
        request=lambda region, part, table, mutations, durability=None: m.MutateRequest(
            table, tuple(part), _dur(durability), region
        ),
        serve=lambda h, r: h.mutate(r.table, r.mutations, *_durability(r.durability)),
        checks=lambda r: [x.row for x in r.mutations],
        item_row=_mutation_row,
    )
    def mutate(
        self,
        table: str,
        mutations: Sequence[RowMutation],
        durability: Durability = Durability.SYNC_WAL,
    ) -> None:
        """Apply each row's mutation atomically (rows independently of one another)."""
        ...

    @operation(
        T.INCREMENT,
        A.ROUTED,
        m.IncrementRequest,
        m.ColumnIntsResponse,
        request=lambda region, table, row, amounts, durability=None: m.IncrementRequest(
            table, row, dict(amounts), _dur(durability), region
        ),
        serve=lambda h, r: m.ColumnIntsResponse(
            h.increment(r.table, r.row, r.amounts, *_durability(r.durability))
        ),
    )
    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], int]: ...

    @operation(
        T.APPEND,
        A.ROUTED,
        m.AppendRequest,
        m.ColumnBytesResponse,
        request=lambda region, table, row, suffixes, durability=None: m.AppendRequest(
            table, row, dict(suffixes), _dur(durability), region
        ),
        serve=lambda h, r: m.ColumnBytesResponse(
            h.append(r.table, r.row, r.suffixes, *_durability(r.durability))
        ),
    )
    def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Durability = Durability.SYNC_WAL,
    ) -> dict[tuple[bytes, bytes], bytes]: ...

    @operation(
        T.CHECK_AND_MUTATE,
        A.ROUTED,
        m.CheckAndMutateRequest,
        m.BoolResponse,
        request=lambda region, table, row, family, qualifier, compare, mutation, durability=None: (
            m.CheckAndMutateRequest(
                table,
                row,
                family,
                qualifier,
                _wire_comparison(compare).op,
                _wire_comparison(compare).expected,
                mutation,
                _dur(durability),
                region,
            )
        ),
        serve=lambda h, r: m.BoolResponse(
            bool(
                h.check_and_mutate(
                    r.table,
                    r.row,
                    r.family,
                    r.qualifier,
                    value_comparison(r.expected, r.op),
                    r.mutation,
                    *_durability(r.durability),
                )
            )
        ),
    )
    def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Durability = Durability.SYNC_WAL,
    ) -> bool:
        """Apply ``mutation`` if ``compare(stored value or None)`` holds; whether it did.
        Over RPC ``compare`` must be a ``ValueComparison`` (its op and operand travel)."""
        ...

    # ---- reading --------------------------------------------------------------------------
    @operation(
        T.GET,
        A.ROUTED,
        m.GetRequest,
        m.CellsResponse,
        request=lambda region, table, row, spec: m.GetRequest(table, row, spec, region),
        serve=lambda h, r: m.CellsResponse(h.get(r.table, r.row, r.spec)),
    )
    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]: ...

    @operation(
        T.MULTI_GET,
        A.FAN_OUT,
        m.MultiGetRequest,
        m.MultiCellsResponse,
        request=lambda region, part, table, rows, spec: m.MultiGetRequest(
            table, tuple(part), spec, region
        ),
        serve=lambda h, r: m.MultiCellsResponse(h.get_many(r.table, r.rows, r.spec)),
        checks=lambda r: r.rows,
        item_row=_row_itself,
    )
    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        """Each row's cells, in order; a filter in ``spec`` is copied fresh for every row."""
        ...

    @operation(
        T.OPEN_SCANNER,
        A.SCAN,
        m.OpenScannerRequest,
        m.ScanBatchResponse,
        request=lambda region, table, rng, spec, batch_rows, batch_bytes: m.OpenScannerRequest(
            table, rng, spec, batch_rows, batch_bytes, region
        ),
        answer=m.ScanBatchResponse.from_wire,
        serve=lambda h, r: None,  # scanners are the dispatcher's own (leases, batches)
    )
    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]:
        """Rows of the table in ``rng``, across regions, in order; the server side of a
        scan pulls it batch by batch and closes it (``close()`` if it has one) when
        the scanner is exhausted, closed, or its lease expires."""
        ...


class Handler(Operations, Protocol):
    """What an RPC server serves: every operation, plus the region check of
    region-addressed requests (RFC 0001)."""

    def check_region(self, table: str, region: str, rows: Sequence[bytes]) -> None:
        """Raise NotServingRegion unless ``region`` is open here and holds every row."""
        ...


#: every operation by method name, in declaration order
OPERATIONS: dict[str, Operation] = dict(_DECLARED)

#: the operation a server runs for a message type (REGIONS: the one whose answer
#: carries the servers; scanner messages are the dispatcher's own)
BY_TYPE: dict[int, Operation] = {
    op.message: op for op in OPERATIONS.values() if op.name != "regions" and op.kind is not A.SCAN
}

#: MessageType -> (request class, response class) for every type a server answers;
#: servers answer any other type with UNKNOWN_MESSAGE_TYPE
MESSAGES: dict[int, tuple[type[Any], type[Any]]] = {
    T.PING: (m.PingMessage, m.PingMessage),
    **{
        op.message: (op.request_class, op.response_class or m.EmptyResponse)
        for op in OPERATIONS.values()
    },
    T.SCANNER_NEXT: (m.ScannerNextRequest, m.ScanBatchResponse),
    T.CLOSE_SCANNER: (m.CloseScannerRequest, m.EmptyResponse),
}
