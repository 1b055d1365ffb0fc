"""Request and response messages, one dataclass pair per operation, and their wire forms.

Role: the operation declarations (``rpc.operations``) build requests from a
call's arguments and read answers with these classes; ``rpc.dispatch.Dispatcher``
does the reverse on the server.  ``rpc.operations.MESSAGES`` maps each
``MessageType`` to its (request, response) classes.
Format: docs/formats/rpc.md#bodies (authoritative).  Every body is one msgpack
value: requests and responses are msgpack arrays of their fields in declaration
order (``to_wire``); an empty response is ``nil``.
Invariants: field order is on the wire: append new fields at the end only, and
bump ``PROTOCOL_VERSION`` when an old peer cannot ignore them.  ``from_wire``
raises ProtocolError for a malformed body (never TypeError/IndexError).
Concurrency: messages are immutable.
Hot path: GetRequest / CellsResponse (every get); see bench/bench_rpc.py.
Stays whole: it is the protocol's every message body, each beside the next in the
order docs/formats/rpc.md lists them, so that a field order is checked against its
neighbours and the document in one reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar

from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc.codec import (
    _bool,
    _bytes,
    _int,
    _list,
    _opt_bytes,
    _opt_int,
    _str,
    decode_cells,
    decode_mutation,
    decode_read_spec,
    decode_row_cells,
    decode_scan_range,
    decode_table_descriptor,
    encode_cells,
    encode_mutation,
    encode_read_spec,
    encode_row_cells,
    encode_scan_range,
    encode_table_descriptor,
)
from hedgerow.rpc.codes import ProtocolError

__all__ = [
    "AppendRequest",
    "BoolResponse",
    "CellsResponse",
    "CheckAndMutateRequest",
    "CloseScannerRequest",
    "ColumnBytesResponse",
    "ColumnIntsResponse",
    "CompactRegionRequest",
    "CompactTableRequest",
    "CreateTableRequest",
    "DecommissionRequest",
    "DescriptorResponse",
    "EmptyRequest",
    "EmptyResponse",
    "FlushRegionRequest",
    "GetRequest",
    "IncrementRequest",
    "Message",
    "ModifyTableRequest",
    "MoveRegionRequest",
    "MutateRequest",
    "OpenScannerRequest",
    "PingMessage",
    "RegionInfo",
    "RegionsResponse",
    "ScanBatchResponse",
    "ScannerNextRequest",
    "ServerRequest",
    "TableNamesResponse",
    "TableRequest",
    "TruncateTableRequest",
]

M = TypeVar("M", bound="Message")


class Message(Protocol):
    """What every request and response class provides."""

    def to_wire(self) -> Any: ...

    @classmethod
    def from_wire(cls: type[M], v: Any) -> M: ...


def _fields(v: Any, n: int, what: str) -> list[Any]:
    return _list(v, what, n)


def _fields_region(v: Any, n: int, what: str) -> tuple[list[Any], str | None]:
    """``n`` fields plus the optional trailing region name (RFC 0001)."""
    return _fields_opt(v, n, what, "region")


def _fields_opt(v: Any, n: int, what: str, extra: str) -> tuple[list[Any], str | None]:
    """``n`` fields plus an optional trailing string field named ``extra``."""
    f = _list(v, what)
    if len(f) == n:
        return f, None
    if len(f) != n + 1:
        raise ProtocolError(f"{what} must have {n} or {n + 1} fields, got {len(f)}")
    return f[:n], (None if f[n] is None else _str(f[n], extra))


@dataclass(frozen=True, slots=True)
class EmptyRequest:
    """A request with no fields (TABLE_NAMES)."""

    def to_wire(self) -> Any:
        return None

    @classmethod
    def from_wire(cls, v: Any) -> EmptyRequest:
        if v is not None:
            raise ProtocolError("expected an empty (nil) body")
        return cls()


@dataclass(frozen=True, slots=True)
class EmptyResponse:
    """A response with no fields: the call succeeded."""

    def to_wire(self) -> Any:
        return None

    @classmethod
    def from_wire(cls, v: Any) -> EmptyResponse:
        if v is not None:
            raise ProtocolError("expected an empty (nil) body")
        return cls()


_EMPTY_RESPONSE = EmptyResponse()


@dataclass(frozen=True, slots=True)
class PingMessage:
    """PING request and response: the payload comes back unchanged."""

    payload: bytes = b""

    def to_wire(self) -> Any:
        return self.payload

    @classmethod
    def from_wire(cls, v: Any) -> PingMessage:
        return cls(_bytes(v, "ping payload"))


@dataclass(frozen=True, slots=True)
class TableRequest:
    """A request naming one table (DESCRIPTOR, DELETE/ENABLE/DISABLE_TABLE, REGIONS ...)."""

    table: str

    def to_wire(self) -> Any:
        return [self.table]

    @classmethod
    def from_wire(cls, v: Any) -> TableRequest:
        return cls(_str(_fields(v, 1, "table request")[0], "table"))


@dataclass(frozen=True, slots=True)
class CreateTableRequest:
    desc: TableDescriptor
    split_keys: tuple[bytes, ...] = ()

    def to_wire(self) -> Any:
        return [encode_table_descriptor(self.desc), list(self.split_keys)]

    @classmethod
    def from_wire(cls, v: Any) -> CreateTableRequest:
        f = _fields(v, 2, "create table")
        keys = tuple(_bytes(k, "split key") for k in _list(f[1], "split keys"))
        return cls(decode_table_descriptor(f[0]), keys)


@dataclass(frozen=True, slots=True)
class ModifyTableRequest:
    desc: TableDescriptor

    def to_wire(self) -> Any:
        return [encode_table_descriptor(self.desc)]

    @classmethod
    def from_wire(cls, v: Any) -> ModifyTableRequest:
        return cls(decode_table_descriptor(_fields(v, 1, "modify table")[0]))


@dataclass(frozen=True, slots=True)
class TruncateTableRequest:
    table: str
    preserve_splits: bool = True

    def to_wire(self) -> Any:
        return [self.table, self.preserve_splits]

    @classmethod
    def from_wire(cls, v: Any) -> TruncateTableRequest:
        f = _fields(v, 2, "truncate table")
        return cls(_str(f[0], "table"), _bool(f[1], "preserve_splits"))


@dataclass(frozen=True, slots=True)
class CompactTableRequest:
    table: str
    major: bool = False

    def to_wire(self) -> Any:
        return [self.table, self.major]

    @classmethod
    def from_wire(cls, v: Any) -> CompactTableRequest:
        f = _fields(v, 2, "compact table")
        return cls(_str(f[0], "table"), _bool(f[1], "major"))


@dataclass(frozen=True, slots=True)
class SplitRegionRequest:
    table: str
    region: str | None = None
    split_row: bytes | None = None

    def to_wire(self) -> Any:
        return [self.table, self.region, self.split_row]

    @classmethod
    def from_wire(cls, v: Any) -> SplitRegionRequest:
        f = _fields(v, 3, "split region")
        region = None if f[1] is None else _str(f[1], "region")
        row = _opt_bytes(f[2], "split_row")
        return cls(_str(f[0], "table"), region, row)


@dataclass(frozen=True, slots=True)
class MoveRegionRequest:
    """MOVE_REGION: a region's name and the destination server (None: the master picks)."""

    region: str
    dest_server: str | None = None

    def to_wire(self) -> Any:
        return [self.region, self.dest_server]

    @classmethod
    def from_wire(cls, v: Any) -> MoveRegionRequest:
        f = _fields(v, 2, "move region")
        dest = None if f[1] is None else _str(f[1], "dest_server")
        return cls(_str(f[0], "region"), dest)


@dataclass(frozen=True, slots=True)
class DecommissionRequest:
    """DECOMMISSION_SERVERS: server names, and whether to move their regions away."""

    servers: tuple[str, ...]
    offload: bool = True

    def to_wire(self) -> Any:
        return [list(self.servers), self.offload]

    @classmethod
    def from_wire(cls, v: Any) -> DecommissionRequest:
        f = _fields(v, 2, "decommission servers")
        if not isinstance(f[0], list):
            raise ProtocolError("decommission servers: servers is not an array")
        return cls(tuple(_str(x, "server") for x in f[0]), _bool(f[1], "offload"))


@dataclass(frozen=True, slots=True)
class ServerRequest:
    """A request naming one region server (RECOMMISSION_SERVER)."""

    server: str

    def to_wire(self) -> Any:
        return [self.server]

    @classmethod
    def from_wire(cls, v: Any) -> ServerRequest:
        return cls(_str(_fields(v, 1, "server request")[0], "server"))


@dataclass(frozen=True, slots=True)
class MergeRegionsRequest:
    table: str
    region_a: str
    region_b: str

    def to_wire(self) -> Any:
        return [self.table, self.region_a, self.region_b]

    @classmethod
    def from_wire(cls, v: Any) -> MergeRegionsRequest:
        f = _fields(v, 3, "merge regions")
        return cls(_str(f[0], "table"), _str(f[1], "region_a"), _str(f[2], "region_b"))


@dataclass(frozen=True, slots=True)
class OpenRegionRequest:
    """OPEN_REGION (master -> region server): the master's epoch, the table's
    descriptor and the region's name and key range."""

    epoch: int
    desc: TableDescriptor
    region: str
    start_key: bytes
    end_key: bytes

    def to_wire(self) -> Any:
        return [
            self.epoch,
            encode_table_descriptor(self.desc),
            self.region,
            self.start_key,
            self.end_key,
        ]

    @classmethod
    def from_wire(cls, v: Any) -> OpenRegionRequest:
        f = _fields(v, 5, "open region")
        return cls(
            _int(f[0], "epoch"),
            decode_table_descriptor(f[1]),
            _str(f[2], "region"),
            _bytes(f[3], "start_key"),
            _bytes(f[4], "end_key"),
        )


@dataclass(frozen=True, slots=True)
class EpochRegionRequest:
    """A master -> region server call naming one region: the master's epoch, table and
    region (``what`` names the message in errors)."""

    what: ClassVar[str] = "region request"

    epoch: int
    table: str
    region: str

    def to_wire(self) -> Any:
        return [self.epoch, self.table, self.region]

    @classmethod
    def from_wire(cls, v: Any) -> Self:
        f = _fields(v, 3, cls.what)
        return cls(_int(f[0], "epoch"), _str(f[1], "table"), _str(f[2], "region"))


class CloseRegionRequest(EpochRegionRequest):
    """CLOSE_REGION (master -> region server): the master's epoch, table and region."""

    __slots__ = ()
    what = "close region"


class FlushRegionRequest(EpochRegionRequest):
    """FLUSH_REGION (master -> region server): the master's epoch, table and region."""

    __slots__ = ()
    what = "flush region"


@dataclass(frozen=True, slots=True)
class CompactRegionRequest:
    """COMPACT_REGION (master -> region server): the master's epoch, table, region and
    whether the compaction is major (every file of each store into one)."""

    epoch: int
    table: str
    region: str
    major: bool

    def to_wire(self) -> Any:
        return [self.epoch, self.table, self.region, self.major]

    @classmethod
    def from_wire(cls, v: Any) -> CompactRegionRequest:
        f = _fields(v, 4, "compact region")
        return cls(
            _int(f[0], "epoch"), _str(f[1], "table"), _str(f[2], "region"), _bool(f[3], "major")
        )


@dataclass(frozen=True, slots=True)
class EpochRequest:
    """REGION_SERVER_REPORT (master -> region server): the master's epoch."""

    epoch: int

    def to_wire(self) -> Any:
        return [self.epoch]

    @classmethod
    def from_wire(cls, v: Any) -> EpochRequest:
        return cls(_int(_fields(v, 1, "region server report")[0], "epoch"))


@dataclass(frozen=True, slots=True)
class ServerReportResponse:
    """REGION_SERVER_REPORT answer: the server's name, start code and one
    ``[table, region, store_file_bytes, memstore_bytes, read_requests, write_requests]``
    per hosted region."""

    name: str
    start_code: int
    regions: tuple[tuple[str, str, int, int, int, int], ...]

    def to_wire(self) -> Any:
        return [self.name, self.start_code, [list(r) for r in self.regions]]

    @classmethod
    def from_wire(cls, v: Any) -> ServerReportResponse:
        f = _fields(v, 3, "region server report")
        regions = []
        for r in _list(f[2], "regions"):
            g = _fields(r, 6, "region load")
            regions.append(
                (
                    _str(g[0], "table"),
                    _str(g[1], "region"),
                    _int(g[2], "store_file_bytes"),
                    _int(g[3], "memstore_bytes"),
                    _int(g[4], "read_requests"),
                    _int(g[5], "write_requests"),
                )
            )
        return cls(_str(f[0], "name"), _int(f[1], "start_code"), tuple(regions))


@dataclass(frozen=True, slots=True)
class NamesResponse:
    """A list of region names (split: the two daughters; merge: the new region)."""

    names: tuple[str, ...]

    def to_wire(self) -> Any:
        return list(self.names)

    @classmethod
    def from_wire(cls, v: Any) -> NamesResponse:
        if not isinstance(v, list):
            raise ProtocolError("names response is not an array")
        return cls(tuple(_str(x, "region name") for x in v))


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """Server status: a msgpack map (servers, tables, regions with sizes and counts, cache)."""

    status: dict[str, Any]

    def to_wire(self) -> Any:
        return self.status

    @classmethod
    def from_wire(cls, v: Any) -> StatusResponse:
        if not isinstance(v, dict):
            raise ProtocolError("status response is not a map")
        return cls(v)


@dataclass(frozen=True, slots=True)
class TableNamesResponse:
    names: tuple[str, ...]

    def to_wire(self) -> Any:
        return list(self.names)

    @classmethod
    def from_wire(cls, v: Any) -> TableNamesResponse:
        return cls(tuple(_str(n, "table name") for n in _list(v, "table names")))


@dataclass(frozen=True, slots=True)
class DescriptorResponse:
    desc: TableDescriptor

    def to_wire(self) -> Any:
        return encode_table_descriptor(self.desc)

    @classmethod
    def from_wire(cls, v: Any) -> DescriptorResponse:
        return cls(decode_table_descriptor(v))


@dataclass(frozen=True, slots=True)
class BoolResponse:
    value: bool

    def to_wire(self) -> Any:
        return self.value

    @classmethod
    def from_wire(cls, v: Any) -> BoolResponse:
        return cls(_bool(v, "result"))


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """A region as the client sees it (satisfies client.backend.RegionDescription)."""

    table: str
    name: str
    start_key: bytes
    end_key: bytes
    #: the hosting server, "host:port" ("local" embedded, "" while closed); None: unknown
    server: str | None = None


@dataclass(frozen=True, slots=True)
class RegionsResponse:
    regions: tuple[RegionInfo, ...]

    def to_wire(self) -> Any:
        out = []
        for r in self.regions:
            w: list[Any] = [r.table, r.name, r.start_key, r.end_key]
            if r.server is not None:
                w.append(r.server)
            out.append(w)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> RegionsResponse:
        out = []
        for r in _list(v, "regions"):
            f, server = _fields_opt(r, 4, "region", "server")
            out.append(
                RegionInfo(
                    _str(f[0], "table"),
                    _str(f[1], "region name"),
                    _bytes(f[2], "start key"),
                    _bytes(f[3], "end key"),
                    server,
                )
            )
        return cls(tuple(out))


# ---- writing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MutateRequest:
    """``durability`` None: the server's default (the handler's own default argument)."""

    table: str
    mutations: tuple[RowMutation, ...]
    durability: int | None = None
    region: str | None = None

    def to_wire(self) -> Any:
        out = [self.table, [encode_mutation(m) for m in self.mutations], self.durability]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> MutateRequest:
        f, region = _fields_region(v, 3, "mutate")
        muts = tuple(decode_mutation(m) for m in _list(f[1], "mutations"))
        return cls(_str(f[0], "table"), muts, _opt_int(f[2], "durability"), region)


def _encode_column_map(d: dict[tuple[bytes, bytes], Any]) -> list[list[Any]]:
    return [[f, q, x] for (f, q), x in d.items()]


def _decode_column_map(v: Any, value_type: type, what: str) -> dict[tuple[bytes, bytes], Any]:
    out: dict[tuple[bytes, bytes], Any] = {}
    for e in _list(v, what):
        e = _list(e, what + " entry", 3)
        if type(e[2]) is not value_type:
            raise ProtocolError(f"{what} value must be {value_type.__name__}")
        out[(_bytes(e[0], "family"), _bytes(e[1], "qualifier"))] = e[2]
    return out


@dataclass(frozen=True, slots=True)
class IncrementRequest:
    table: str
    row: bytes
    amounts: dict[tuple[bytes, bytes], int]
    durability: int | None = None
    region: str | None = None

    def to_wire(self) -> Any:
        out = [self.table, self.row, _encode_column_map(self.amounts), self.durability]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> IncrementRequest:
        f, region = _fields_region(v, 4, "increment")
        return cls(
            _str(f[0], "table"),
            _bytes(f[1], "row"),
            _decode_column_map(f[2], int, "amounts"),
            _opt_int(f[3], "durability"),
            region,
        )


@dataclass(frozen=True, slots=True)
class AppendRequest:
    table: str
    row: bytes
    suffixes: dict[tuple[bytes, bytes], bytes]
    durability: int | None = None
    region: str | None = None

    def to_wire(self) -> Any:
        out = [self.table, self.row, _encode_column_map(self.suffixes), self.durability]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> AppendRequest:
        f, region = _fields_region(v, 4, "append")
        return cls(
            _str(f[0], "table"),
            _bytes(f[1], "row"),
            _decode_column_map(f[2], bytes, "suffixes"),
            _opt_int(f[3], "durability"),
            region,
        )


@dataclass(frozen=True, slots=True)
class ColumnIntsResponse:
    """INCREMENT's result: the new value of each column."""

    values: dict[tuple[bytes, bytes], int]

    def to_wire(self) -> Any:
        return _encode_column_map(self.values)

    @classmethod
    def from_wire(cls, v: Any) -> ColumnIntsResponse:
        return cls(_decode_column_map(v, int, "values"))


@dataclass(frozen=True, slots=True)
class ColumnBytesResponse:
    """APPEND's result: the new value of each column."""

    values: dict[tuple[bytes, bytes], bytes]

    def to_wire(self) -> Any:
        return _encode_column_map(self.values)

    @classmethod
    def from_wire(cls, v: Any) -> ColumnBytesResponse:
        return cls(_decode_column_map(v, bytes, "values"))


@dataclass(frozen=True, slots=True)
class CheckAndMutateRequest:
    """The compare travels as ``(op, expected)``; see hedgerow.model.compare."""

    table: str
    row: bytes
    family: bytes
    qualifier: bytes
    op: str
    expected: bytes | None
    mutation: RowMutation
    durability: int | None = None
    region: str | None = None

    def to_wire(self) -> Any:
        out = [
            self.table,
            self.row,
            self.family,
            self.qualifier,
            self.op,
            self.expected,
            encode_mutation(self.mutation),
            self.durability,
        ]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> CheckAndMutateRequest:
        f, region = _fields_region(v, 8, "check and mutate")
        return cls(
            _str(f[0], "table"),
            _bytes(f[1], "row"),
            _bytes(f[2], "family"),
            _bytes(f[3], "qualifier"),
            _str(f[4], "compare op"),
            _opt_bytes(f[5], "expected value"),
            decode_mutation(f[6]),
            _opt_int(f[7], "durability"),
            region,
        )


# ---- reading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetRequest:
    table: str
    row: bytes
    spec: ReadSpec
    #: the region the client believes holds the row (RFC 0001); None: the server routes
    region: str | None = None

    def to_wire(self) -> Any:
        out = [self.table, self.row, encode_read_spec(self.spec)]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> GetRequest:
        f, region = _fields_region(v, 3, "get")
        return cls(_str(f[0], "table"), _bytes(f[1], "row"), decode_read_spec(f[2]), region)


@dataclass(frozen=True, slots=True)
class MultiGetRequest:
    """Several rows of one table in one round trip (the server reads them region by region)."""

    table: str
    rows: tuple[bytes, ...]
    spec: ReadSpec
    region: str | None = None

    def to_wire(self) -> Any:
        out = [self.table, list(self.rows), encode_read_spec(self.spec)]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> MultiGetRequest:
        f, region = _fields_region(v, 3, "multi get")
        rows = f[1]
        if not isinstance(rows, list):
            raise ProtocolError("multi get rows is not an array")
        return cls(
            _str(f[0], "table"),
            tuple(_bytes(r, "row") for r in rows),
            decode_read_spec(f[2]),
            region,
        )


@dataclass(frozen=True, slots=True)
class MultiCellsResponse:
    """The cells of each requested row, in request order (empty lists for absent rows)."""

    rows: list[list[Cell]]

    def to_wire(self) -> Any:
        return [encode_cells(c) for c in self.rows]

    @classmethod
    def from_wire(cls, v: Any) -> MultiCellsResponse:
        if not isinstance(v, list):
            raise ProtocolError("multi get response is not an array")
        return cls([decode_cells(x) for x in v])


@dataclass(frozen=True, slots=True)
class CellsResponse:
    cells: list[Cell]

    def to_wire(self) -> Any:
        return encode_cells(self.cells)

    @classmethod
    def from_wire(cls, v: Any) -> CellsResponse:
        return cls(decode_cells(v))


@dataclass(frozen=True, slots=True)
class OpenScannerRequest:
    """Open a server-side scanner and return its first batch in the same round trip.

    ``batch_rows``: most rows per batch; ``batch_bytes``: the server ends a batch
    once its cells' key+value bytes pass this (at least one row per batch).
    """

    table: str
    rng: ScanRange
    spec: ReadSpec
    batch_rows: int = 100
    batch_bytes: int = 1 << 20
    #: the region holding the scan's first row (RFC 0001); None: the server routes
    region: str | None = None

    def to_wire(self) -> Any:
        out = [
            self.table,
            encode_scan_range(self.rng),
            encode_read_spec(self.spec),
            self.batch_rows,
            self.batch_bytes,
        ]
        if self.region is not None:
            out.append(self.region)
        return out

    @classmethod
    def from_wire(cls, v: Any) -> OpenScannerRequest:
        f, region = _fields_region(v, 5, "open scanner")
        return cls(
            _str(f[0], "table"),
            decode_scan_range(f[1]),
            decode_read_spec(f[2]),
            _positive(f[3], "batch_rows"),
            _positive(f[4], "batch_bytes"),
            region,
        )


def _positive(v: Any, what: str) -> int:
    n = _int(v, what)
    if n < 1:
        raise ProtocolError(f"{what} must be >= 1, got {n}")
    return n


@dataclass(frozen=True, slots=True)
class ScannerNextRequest:
    scanner_id: int
    batch_rows: int = 100
    batch_bytes: int = 1 << 20

    def to_wire(self) -> Any:
        return [self.scanner_id, self.batch_rows, self.batch_bytes]

    @classmethod
    def from_wire(cls, v: Any) -> ScannerNextRequest:
        f = _fields(v, 3, "scanner next")
        return cls(
            _int(f[0], "scanner id"), _positive(f[1], "batch_rows"), _positive(f[2], "batch_bytes")
        )


@dataclass(frozen=True, slots=True)
class CloseScannerRequest:
    scanner_id: int

    def to_wire(self) -> Any:
        return [self.scanner_id]

    @classmethod
    def from_wire(cls, v: Any) -> CloseScannerRequest:
        return cls(_int(_fields(v, 1, "close scanner")[0], "scanner id"))


@dataclass(frozen=True, slots=True)
class ScanBatchResponse:
    """Rows of one batch; ``more`` False means the scanner is exhausted and already closed."""

    scanner_id: int
    rows: list[tuple[bytes, list[Cell]]]
    more: bool

    def to_wire(self) -> Any:
        return [self.scanner_id, [encode_row_cells(r, c) for r, c in self.rows], self.more]

    @classmethod
    def from_wire(cls, v: Any) -> ScanBatchResponse:
        f = _fields(v, 3, "scan batch")
        rows = [decode_row_cells(r) for r in _list(f[1], "rows")]
        return cls(_int(f[0], "scanner id"), rows, _bool(f[2], "more"))
