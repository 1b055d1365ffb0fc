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
    node      := [class_name, arg*]             (see rpc/filter_codec.py)
    range     := [start|nil, start_incl, stop|nil, stop_incl, reverse, extra_map]
    cell      := [row, fam, qual, ts, type, value, seq]
    row_cells := [row, [[fam, qual, ts, type, value, seq]*]]
    table     := TableDescriptor.to_dict()
    error     := {"code": str, "message": str, "fields": {name: value}}

Filters are encoded by ``rpc.filter_codec`` (``encode_filter``/``decode_filter``,
re-exported here) and untrusted fields are read through ``rpc.wire_checks``.
Invariants: decoders never trust shapes: anything malformed raises
``ProtocolError``; model validation errors (InvalidArgument ...) pass through.
Concurrency: stateless functions; thread-safe.
Hot path: encode_read_spec/decode_read_spec and encode_cells (every get).
"""

from __future__ import annotations

from collections.abc import Sequence
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
from hedgerow.rpc.filter_codec import (
    _FILTERS,  # noqa: F401 (tests/rpc/test_codec.py reads codec._FILTERS)
    decode_filter,
    encode_filter,
)
from hedgerow.rpc.wire_checks import (
    need_bool,
    need_bytes,
    need_int,
    need_list,
    need_str,
    opt_bytes,
    opt_int,
)
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


# The checked accessors (rpc.wire_checks) under the short names this module's decoders
# and rpc.messages use.
_bool = need_bool
_bytes = need_bytes
_int = need_int
_list = need_list
_str = need_str
_opt_bytes = opt_bytes
_opt_int = opt_int


def packb(obj: Any) -> bytes:
    """msgpack-encode ``obj`` (bytes as bin, str as str)."""
    return msgpack.packb(obj, use_bin_type=True)


def unpackb(data: bytes | memoryview) -> Any:
    """Decode one msgpack object; raises ProtocolError on malformed or trailing bytes."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated classes
        raise ProtocolError(f"malformed msgpack body: {type(exc).__name__}: {exc}") from None


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
