"""msgpack encodings of the model types that travel in RPC bodies.

Role: ``rpc.messages`` builds request/response bodies from these; both ends
import this module, so encoder and decoder cannot drift apart.
Format: docs/formats/rpc.md#bodies (authoritative). Summary (msgpack, bin for
bytes, str for names, nil for None)::

    op        := [OpTag, ...fields]           Put: [0, fam, qual, value, ts|nil] ...
    mutation  := [row, [op*]]
    spec      := [columns|nil, min_ts, max_ts, max_versions, filter|nil, raw]
    columns   := {fam: nil | [qual*]}
    filter    := ["s", filter_string] | ["t", node]
    node      := [class_name, arg*]             (args may be nodes; see _FILTERS)
    range     := [start|nil, start_incl, stop|nil, stop_incl, reverse, extra_map]
    cell      := [row, fam, qual, ts, type, value, seq]
    row_cells := [row, [[fam, qual, ts, type, value, seq]*]]
    table     := TableDescriptor.to_dict()
    error     := {"code": str, "message": str, "fields": {name: value}}

Filters travel as a tree of (class name, constructor arguments) built from each
filter's public constructor attributes, so the server constructs fresh,
validated filter objects (no per-scan state crosses the wire).  A filter given
as a string travels as the string and is parsed on the server.
Invariants: decoders never trust shapes: anything malformed raises
``ProtocolError``; model validation errors (InvalidArgument ...) pass through.
Concurrency: stateless functions; thread-safe.
Hot path: encode_read_spec/decode_read_spec and encode_cells (every get).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgpack

from hedgerow.errors import (
    CorruptionError,
    FilterSyntaxError,
    FormatVersionError,
    HedgerowError,
    InvalidArgument,
)
from hedgerow.model.cell import MAX_TIMESTAMP, Cell
from hedgerow.model.filters import (
    BinaryComparator,
    BinaryPrefixComparator,
    BitComparator,
    BitwiseOp,
    ColumnCountGetFilter,
    ColumnPaginationFilter,
    ColumnPrefixFilter,
    ColumnRangeFilter,
    ColumnValueFilter,
    CompareOperator,
    DependentColumnFilter,
    FamilyFilter,
    Filter,
    FilterList,
    FilterListOperator,
    FirstKeyOnlyFilter,
    FuzzyRowFilter,
    InclusiveStopFilter,
    KeyOnlyFilter,
    LongComparator,
    MultipleColumnPrefixFilter,
    MultiRowRangeFilter,
    NullComparator,
    PageFilter,
    PrefixFilter,
    QualifierFilter,
    RegexStringComparator,
    RowFilter,
    SingleColumnValueExcludeFilter,
    SingleColumnValueFilter,
    SkipFilter,
    SubstringComparator,
    TimestampsFilter,
    ValueFilter,
    WhileMatchFilter,
    parse_filter,
)
from hedgerow.model.mutation import (
    DeleteColumn,
    DeleteFamily,
    DeleteFamilyVersion,
    DeleteRow,
    DeleteVersion,
    Op,
    Put,
    RowMutation,
)
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc.codes import ProtocolError, class_for_code
from hedgerow.rpc.wire_format import OpTag

__all__ = [
    "decode_cells",
    "decode_error",
    "decode_filter",
    "decode_mutation",
    "decode_read_spec",
    "decode_row_cells",
    "decode_scan_range",
    "decode_table_descriptor",
    "encode_cells",
    "encode_error",
    "encode_filter",
    "encode_mutation",
    "encode_read_spec",
    "encode_row_cells",
    "encode_scan_range",
    "encode_table_descriptor",
    "packb",
    "unpackb",
]


def packb(obj: Any) -> bytes:
    """msgpack-encode ``obj`` (bytes as bin, str as str)."""
    return msgpack.packb(obj, use_bin_type=True)


def unpackb(data: bytes | memoryview) -> Any:
    """Decode one msgpack object; raises ProtocolError on malformed or trailing bytes."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated classes
        raise ProtocolError(f"malformed msgpack body: {type(exc).__name__}: {exc}") from None


# ---- small checked accessors (untrusted input) --------------------------------------


def _bytes(v: Any, what: str) -> bytes:
    if type(v) is not bytes:
        raise ProtocolError(f"{what} must be bin, got {type(v).__name__}")
    return v


def _opt_bytes(v: Any, what: str) -> bytes | None:
    return None if v is None else _bytes(v, what)


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise ProtocolError(f"{what} must be an int, got {type(v).__name__}")
    return v


def _opt_int(v: Any, what: str) -> int | None:
    return None if v is None else _int(v, what)


def _bool(v: Any, what: str) -> bool:
    if type(v) is not bool:
        raise ProtocolError(f"{what} must be a bool, got {type(v).__name__}")
    return v


def _str(v: Any, what: str) -> str:
    if type(v) is not str:
        raise ProtocolError(f"{what} must be a str, got {type(v).__name__}")
    return v


def _list(v: Any, what: str, n: int | None = None) -> list[Any]:
    if type(v) is not list:
        raise ProtocolError(f"{what} must be an array, got {type(v).__name__}")
    if n is not None and len(v) != n:
        raise ProtocolError(f"{what} must have {n} elements, got {len(v)}")
    return v


# ---- mutations ------------------------------------------------------------------------


def _encode_op(op: Op) -> list[Any]:
    t = type(op)
    if t is Put:
        assert isinstance(op, Put)
        return [OpTag.PUT, op.family, op.qualifier, op.value, op.ts]
    if t is DeleteVersion:
        assert isinstance(op, DeleteVersion)
        return [OpTag.DELETE_VERSION, op.family, op.qualifier, op.ts]
    if t is DeleteColumn:
        assert isinstance(op, DeleteColumn)
        return [OpTag.DELETE_COLUMN, op.family, op.qualifier, op.ts]
    if t is DeleteFamily:
        assert isinstance(op, DeleteFamily)
        return [OpTag.DELETE_FAMILY, op.family, op.ts]
    if t is DeleteFamilyVersion:
        assert isinstance(op, DeleteFamilyVersion)
        return [OpTag.DELETE_FAMILY_VERSION, op.family, op.ts]
    if t is DeleteRow:
        assert isinstance(op, DeleteRow)
        return [OpTag.DELETE_ROW, op.ts]
    raise InvalidArgument(f"not a mutation op: {op!r}")


def _decode_op(v: Any) -> Op:
    v = _list(v, "op")
    if not v:
        raise ProtocolError("empty op")
    tag = v[0]
    if tag == OpTag.PUT and len(v) == 5:
        return Put(
            _bytes(v[1], "family"),
            _bytes(v[2], "qualifier"),
            _bytes(v[3], "value"),
            _opt_int(v[4], "ts"),
        )
    if tag == OpTag.DELETE_VERSION and len(v) == 4:
        return DeleteVersion(
            _bytes(v[1], "family"), _bytes(v[2], "qualifier"), _opt_int(v[3], "ts")
        )
    if tag == OpTag.DELETE_COLUMN and len(v) == 4:
        return DeleteColumn(_bytes(v[1], "family"), _bytes(v[2], "qualifier"), _opt_int(v[3], "ts"))
    if tag == OpTag.DELETE_FAMILY and len(v) == 3:
        return DeleteFamily(_bytes(v[1], "family"), _opt_int(v[2], "ts"))
    if tag == OpTag.DELETE_FAMILY_VERSION and len(v) == 3:
        return DeleteFamilyVersion(_bytes(v[1], "family"), _int(v[2], "ts"))
    if tag == OpTag.DELETE_ROW and len(v) == 2:
        return DeleteRow(_opt_int(v[1], "ts"))
    raise ProtocolError(f"unknown op tag {tag!r} or wrong arity {len(v)}")


def encode_mutation(m: RowMutation) -> list[Any]:
    """``[row, [op*]]``."""
    return [m.row, [_encode_op(op) for op in m.ops]]


def decode_mutation(v: Any) -> RowMutation:
    v = _list(v, "mutation", 2)
    return RowMutation(_bytes(v[0], "row"), tuple(_decode_op(o) for o in _list(v[1], "ops")))


# ---- reads ----------------------------------------------------------------------------


def encode_read_spec(spec: ReadSpec) -> list[Any]:
    """``[columns|nil, min_ts, max_ts, max_versions, filter|nil, raw]``."""
    cols = spec.columns
    wire_cols: dict[bytes, list[bytes] | None] | None
    if cols is None:
        wire_cols = None
    else:
        wire_cols = {f: (None if qs is None else sorted(qs)) for f, qs in cols.items()}
    flt = None if spec.filter is None else encode_filter(spec.filter)
    return [wire_cols, spec.min_ts, spec.max_ts, spec.max_versions, flt, spec.raw]


_DEFAULT_SPEC = ReadSpec()


def decode_read_spec(v: Any) -> ReadSpec:
    v = _list(v, "read spec", 6)
    wc = v[0]
    columns: dict[bytes, frozenset[bytes] | None] | None = None
    if wc is not None:
        if type(wc) is not dict:
            raise ProtocolError("read spec columns must be a map")
        columns = {}
        for f, qs in wc.items():
            columns[_bytes(f, "family")] = (
                None
                if qs is None
                else frozenset(_bytes(q, "qualifier") for q in _list(qs, "qualifiers"))
            )
    min_ts = _int(v[1], "min_ts")
    max_ts = _int(v[2], "max_ts")
    max_versions = _int(v[3], "max_versions")
    flt = None if v[4] is None else decode_filter(v[4])
    raw = _bool(v[5], "raw")
    if (
        columns is None
        and flt is None
        and not raw
        and min_ts == 0
        and max_ts == MAX_TIMESTAMP
        and max_versions == 1
    ):
        return _DEFAULT_SPEC  # fast path: the common "latest version of everything"
    return ReadSpec(columns, min_ts, max_ts, max_versions, flt, raw)


def encode_scan_range(r: ScanRange) -> list[Any]:
    """``[start|nil, start_incl, stop|nil, stop_incl, reverse, extra]``."""
    return [r.start, r.start_inclusive, r.stop, r.stop_inclusive, r.reverse, dict(r.extra)]


def decode_scan_range(v: Any) -> ScanRange:
    v = _list(v, "scan range", 6)
    extra = v[5]
    if type(extra) is not dict or not all(type(k) is str for k in extra):
        raise ProtocolError("scan range extra must be a map with str keys")
    return ScanRange(
        _opt_bytes(v[0], "start"),
        _bool(v[1], "start_inclusive"),
        _opt_bytes(v[2], "stop"),
        _bool(v[3], "stop_inclusive"),
        _bool(v[4], "reverse"),
        extra,
    )


def encode_cells(cells: Sequence[Cell]) -> list[list[Any]]:
    """``[[row, fam, qual, ts, type, value, seq]*]``."""
    return [[c[0], c[1], c[2], c[3], c[4], c[5], c[6]] for c in cells]


def _decode_cell(c: Any) -> Cell:
    c = _list(c, "cell", 7)
    return Cell(
        _bytes(c[0], "row"),
        _bytes(c[1], "family"),
        _bytes(c[2], "qualifier"),
        _int(c[3], "timestamp"),
        _int(c[4], "type"),
        _bytes(c[5], "value"),
        _int(c[6], "seq"),
    )


def decode_cells(v: Any) -> list[Cell]:
    return [_decode_cell(c) for c in _list(v, "cells")]


def encode_row_cells(row: bytes, cells: Sequence[Cell]) -> list[Any]:
    """``[row, [[fam, qual, ts, type, value, seq]*]]`` (the row is sent once)."""
    return [row, [[c[1], c[2], c[3], c[4], c[5], c[6]] for c in cells]]


def decode_row_cells(v: Any) -> tuple[bytes, list[Cell]]:
    v = _list(v, "row", 2)
    row = _bytes(v[0], "row")
    out = []
    for c in _list(v[1], "cells"):
        c = _list(c, "cell", 6)
        out.append(
            Cell(
                row,
                _bytes(c[0], "family"),
                _bytes(c[1], "qualifier"),
                _int(c[2], "timestamp"),
                _int(c[3], "type"),
                _bytes(c[4], "value"),
                _int(c[5], "seq"),
            )
        )
    return row, out


# ---- schema ---------------------------------------------------------------------------


def encode_table_descriptor(desc: TableDescriptor) -> dict[str, Any]:
    return desc.to_dict()


def decode_table_descriptor(v: Any) -> TableDescriptor:
    if type(v) is not dict:
        raise ProtocolError("table descriptor must be a map")
    try:
        return TableDescriptor.from_dict(v)
    except HedgerowError:
        raise
    except Exception as exc:
        raise ProtocolError(f"malformed table descriptor: {type(exc).__name__}: {exc}") from None


# ---- filters --------------------------------------------------------------------------
# One entry per filter/comparator class: (encode args, decode args).  Encoders read the
# public "constant after __init__" attributes; decoders call the constructor, so the
# server validates every argument again.

_Enc = Callable[[Any], list[Any]]
_Dec = Callable[[list[Any]], Any]


def _node(v: Any) -> Any:
    return _decode_node(v)


def _opt_node(v: Any) -> Any:
    return None if v is None else _decode_node(v)


def _op(v: Any) -> CompareOperator:
    try:
        return CompareOperator[_str(v, "compare operator")]
    except KeyError:
        raise ProtocolError(f"unknown compare operator {v!r}") from None


def _cmp_filter(cls: Any) -> tuple[_Enc, _Dec]:
    return (
        lambda f: [f.op.name, _encode_node(f.comparator)],
        lambda a: cls(_op(a[0]), _node(a[1])),
    )


def _scvf(cls: Any) -> tuple[_Enc, _Dec]:
    return (
        lambda f: [
            f.family,
            f.qualifier,
            f.op.name,
            _encode_node(f.comparator),
            f.filter_if_missing,
            f.latest_version_only,
        ],
        lambda a: cls(
            _bytes(a[0], "family"),
            _bytes(a[1], "qualifier"),
            _op(a[2]),
            _node(a[3]),
            _bool(a[4], "filter_if_missing"),
            _bool(a[5], "latest_version_only"),
        ),
    )


def _bitwise(v: Any) -> BitwiseOp:
    try:
        return BitwiseOp(_str(v, "bitwise op"))
    except ValueError:
        raise ProtocolError(f"unknown bitwise op {v!r}") from None


def _list_op(v: Any) -> FilterListOperator:
    try:
        return FilterListOperator(_str(v, "filter list operator"))
    except ValueError:
        raise ProtocolError(f"unknown filter list operator {v!r}") from None


_FILTERS: dict[type, tuple[str, _Enc, _Dec]] = {}
_BY_NAME: dict[str, tuple[_Dec, int]] = {}


def _reg(cls: type, enc: _Enc, dec: _Dec, arity: int) -> None:
    _FILTERS[cls] = (cls.__name__, enc, dec)
    _BY_NAME[cls.__name__] = (dec, arity)


# comparators
_reg(BinaryComparator, lambda c: [c.value], lambda a: BinaryComparator(_bytes(a[0], "value")), 1)
_reg(
    BinaryPrefixComparator,
    lambda c: [c.value],
    lambda a: BinaryPrefixComparator(_bytes(a[0], "value")),
    1,
)
_reg(
    RegexStringComparator,
    lambda c: [c.pattern, c.flags, c.charset],
    lambda a: RegexStringComparator(
        _str(a[0], "pattern"), _int(a[1], "flags"), _str(a[2], "charset")
    ),
    3,
)
_reg(
    SubstringComparator,
    lambda c: [c.value],
    lambda a: SubstringComparator(_bytes(a[0], "value")),
    1,
)
_reg(LongComparator, lambda c: [c.number], lambda a: LongComparator(_int(a[0], "number")), 1)
_reg(
    BitComparator,
    lambda c: [c.value, c.op.value],
    lambda a: BitComparator(_bytes(a[0], "value"), _bitwise(a[1])),
    2,
)
_reg(NullComparator, lambda c: [], lambda a: NullComparator(), 0)
# compare filters
for _cls in (RowFilter, FamilyFilter, QualifierFilter, ValueFilter):
    _reg(_cls, *_cmp_filter(_cls), 2)
_reg(
    DependentColumnFilter,
    lambda f: [
        f.family,
        f.qualifier,
        f.drop_dependent_column,
        f.op.name,
        None if f.comparator_or_none is None else _encode_node(f.comparator_or_none),
    ],
    lambda a: DependentColumnFilter(
        _bytes(a[0], "family"),
        _bytes(a[1], "qualifier"),
        _bool(a[2], "drop_dependent_column"),
        _op(a[3]),
        _opt_node(a[4]),
    ),
    5,
)
# column filters
_reg(
    ColumnPrefixFilter,
    lambda f: [f.prefix],
    lambda a: ColumnPrefixFilter(_bytes(a[0], "prefix")),
    1,
)
_reg(
    MultipleColumnPrefixFilter,
    lambda f: [list(f.prefixes)],
    lambda a: MultipleColumnPrefixFilter([_bytes(p, "prefix") for p in _list(a[0], "prefixes")]),
    1,
)
_reg(
    ColumnCountGetFilter,
    lambda f: [f.limit],
    lambda a: ColumnCountGetFilter(_int(a[0], "limit")),
    1,
)
_reg(
    ColumnPaginationFilter,
    lambda f: [f.limit, f.offset, f.column_offset],
    lambda a: ColumnPaginationFilter(
        _int(a[0], "limit"), _int(a[1], "offset"), column_offset=_opt_bytes(a[2], "column_offset")
    ),
    3,
)
_reg(
    ColumnRangeFilter,
    lambda f: [f.min_column, f.min_inclusive, f.max_column, f.max_inclusive],
    lambda a: ColumnRangeFilter(
        _opt_bytes(a[0], "min_column"),
        _bool(a[1], "min_inclusive"),
        _opt_bytes(a[2], "max_column"),
        _bool(a[3], "max_inclusive"),
    ),
    4,
)
_reg(
    TimestampsFilter,
    lambda f: [list(f.timestamps)],
    lambda a: TimestampsFilter([_int(t, "timestamp") for t in _list(a[0], "timestamps")]),
    1,
)
# key filters
_reg(KeyOnlyFilter, lambda f: [f.len_as_val], lambda a: KeyOnlyFilter(_bool(a[0], "len_as_val")), 1)
_reg(FirstKeyOnlyFilter, lambda f: [], lambda a: FirstKeyOnlyFilter(), 0)
_reg(PrefixFilter, lambda f: [f.prefix], lambda a: PrefixFilter(_bytes(a[0], "prefix")), 1)
_reg(
    InclusiveStopFilter,
    lambda f: [f.stop_row],
    lambda a: InclusiveStopFilter(_bytes(a[0], "stop_row")),
    1,
)
_reg(PageFilter, lambda f: [f.page_size], lambda a: PageFilter(_int(a[0], "page_size")), 1)
# list filters
_reg(
    FilterList,
    lambda f: [f.operator.value, [_encode_node(x) for x in f.filters]],
    lambda a: FilterList(_list_op(a[0]), [_node(x) for x in _list(a[1], "filters")]),
    2,
)
_reg(SkipFilter, lambda f: [_encode_node(f.filter)], lambda a: SkipFilter(_node(a[0])), 1)
_reg(
    WhileMatchFilter, lambda f: [_encode_node(f.filter)], lambda a: WhileMatchFilter(_node(a[0])), 1
)
# row range filters
_reg(
    FuzzyRowFilter,
    lambda f: [[[k, m] for k, m in f.fuzzy_keys]],
    lambda a: FuzzyRowFilter(
        [
            (_bytes(p[0], "fuzzy key"), _bytes(p[1], "fuzzy mask"))
            for p in (_list(x, "fuzzy pair", 2) for x in _list(a[0], "fuzzy keys"))
        ]
    ),
    1,
)
_reg(
    MultiRowRangeFilter,
    lambda f: [[list(r) for r in f.ranges]],
    lambda a: MultiRowRangeFilter(
        [
            (
                _bytes(r[0], "start_row"),
                _bool(r[1], "start_inclusive"),
                _bytes(r[2], "stop_row"),
                _bool(r[3], "stop_inclusive"),
            )
            for r in (_list(x, "row range", 4) for x in _list(a[0], "ranges"))
        ]
    ),
    1,
)
# value filters
_reg(SingleColumnValueFilter, *_scvf(SingleColumnValueFilter), 6)
_reg(SingleColumnValueExcludeFilter, *_scvf(SingleColumnValueExcludeFilter), 6)
_reg(
    ColumnValueFilter,
    lambda f: [f.family, f.qualifier, f.op.name, _encode_node(f.comparator)],
    lambda a: ColumnValueFilter(
        _bytes(a[0], "family"), _bytes(a[1], "qualifier"), _op(a[2]), _node(a[3])
    ),
    4,
)


def _encode_node(obj: Any) -> list[Any]:
    entry = _FILTERS.get(type(obj))
    if entry is None:
        raise InvalidArgument(
            f"filter {type(obj).__name__} cannot be sent over RPC "
            "(only Hedgerow's built-in filter and comparator classes travel; "
            "RandomRowFilter needs a server-side random source)"
        )
    name, enc, _ = entry
    return [name, *enc(obj)]


def _decode_node(v: Any) -> Any:
    v = _list(v, "filter node")
    if not v:
        raise ProtocolError("empty filter node")
    name = _str(v[0], "filter class name")
    entry = _BY_NAME.get(name)
    if entry is None:
        raise ProtocolError(f"unknown filter class {name!r}")
    dec, arity = entry
    if len(v) - 1 != arity:
        raise ProtocolError(f"{name} takes {arity} arguments on the wire, got {len(v) - 1}")
    return dec(v[1:])  # a too-deep tree ends in RecursionError -> ProtocolError


def encode_filter(f: Any) -> list[Any]:
    """``["s", text]`` for a filter string, ``["t", node]`` for a Filter object."""
    if isinstance(f, str):
        return ["s", f]
    if isinstance(f, bytes):
        return ["s", f.decode("utf-8", "surrogateescape")]
    if isinstance(f, Filter):
        return ["t", _encode_node(f)]
    raise InvalidArgument(f"filter must be a filter string or a Filter, got {type(f).__name__}")


def decode_filter(v: Any) -> Filter:
    """Rebuild a fresh Filter; FilterSyntaxError/InvalidArgument pass through."""
    v = _list(v, "filter", 2)
    kind = v[0]
    if kind == "s":
        return parse_filter(_str(v[1], "filter string"))
    if kind == "t":
        try:
            f = _decode_node(v[1])
        except HedgerowError:
            raise
        except (TypeError, ValueError, IndexError, AttributeError, RecursionError) as exc:
            raise ProtocolError(f"malformed filter tree: {type(exc).__name__}: {exc}") from None
        if not isinstance(f, Filter):
            raise ProtocolError(f"filter tree root {type(f).__name__} is not a filter")
        return f
    raise ProtocolError(f"unknown filter encoding {kind!r}")


# ---- errors ---------------------------------------------------------------------------

#: Extra attributes copied into the error map when an exception has them.
_ERROR_FIELDS = ("path", "offset", "position")


def encode_error(exc: BaseException) -> dict[str, Any]:
    """``{"code", "message", "fields"}`` for any exception (non-Hedgerow ones as INTERNAL)."""
    fields: dict[str, Any] = {}
    if isinstance(exc, HedgerowError):
        code = exc.code
        message = str(exc)
        for name in _ERROR_FIELDS:
            val = getattr(exc, name, None)
            if isinstance(val, str | int):
                fields[name] = val
    else:
        code = "INTERNAL"
        message = f"internal server error: {type(exc).__name__}: {exc}"
    return {"code": code, "message": message, "fields": fields}


def decode_error(v: Any) -> HedgerowError:
    """The exception an error map stands for: same class (by code), same message and fields."""
    if type(v) is not dict:
        return ProtocolError(f"malformed error body: {v!r:.200}")
    code = v.get("code")
    message = v.get("message")
    fields = v.get("fields") or {}
    if type(code) is not str or type(message) is not str or type(fields) is not dict:
        return ProtocolError(f"malformed error body: {v!r:.200}")
    cls = class_for_code(code)
    # Bypass subclass __init__s (CorruptionError appends "in <path>"): the message is final.
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    # Classes that carry location fields get them back (None when the server had none).
    located = issubclass(cls, CorruptionError | FormatVersionError)
    for name in _ERROR_FIELDS:
        if name in fields or (located and name != "position"):
            setattr(exc, name, fields.get(name))
    if issubclass(cls, FilterSyntaxError):
        exc.position = fields.get("position")  # type: ignore[attr-defined]
    return exc
