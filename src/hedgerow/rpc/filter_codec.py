"""The RPC encoding of filters and comparators: a tree of (class name, arguments).

Role: ``rpc.codec`` encodes a read spec's filter with ``encode_filter`` and the
server rebuilds it with ``decode_filter``; both ends import this module.
Format: docs/formats/rpc.md#bodies (authoritative). Summary (msgpack)::

    filter := ["s", filter_string] | ["t", node]
    node   := [class_name, arg*]       (args may be nodes; one entry per class in _FILTERS)

Filters travel as a tree built from each filter's public constructor
attributes, so the server constructs fresh, validated filter objects (no
per-scan state crosses the wire). A filter given as a string travels as the
string and is parsed on the server.
Invariants: every built-in filter and comparator class that can travel has
exactly one entry (``_reg``), whose decoder calls the public constructor, so the
server validates every argument again; an unknown class name, a wrong arity or
a malformed tree raises ``ProtocolError``; model validation errors pass through.
Concurrency: the tables are filled at import and read-only after; thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hedgerow.errors import (
    HedgerowError,
    InvalidArgument,
)
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
from hedgerow.rpc.codes import ProtocolError
from hedgerow.rpc.wire_checks import (
    need_bool,
    need_bytes,
    need_int,
    need_list,
    need_str,
    opt_bytes,
)

__all__ = ["decode_filter", "encode_filter"]


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
        return CompareOperator[need_str(v, "compare operator")]
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
            need_bytes(a[0], "family"),
            need_bytes(a[1], "qualifier"),
            _op(a[2]),
            _node(a[3]),
            need_bool(a[4], "filter_if_missing"),
            need_bool(a[5], "latest_version_only"),
        ),
    )


def _bitwise(v: Any) -> BitwiseOp:
    try:
        return BitwiseOp(need_str(v, "bitwise op"))
    except ValueError:
        raise ProtocolError(f"unknown bitwise op {v!r}") from None


def _list_op(v: Any) -> FilterListOperator:
    try:
        return FilterListOperator(need_str(v, "filter list operator"))
    except ValueError:
        raise ProtocolError(f"unknown filter list operator {v!r}") from None


_FILTERS: dict[type, tuple[str, _Enc, _Dec]] = {}
_BY_NAME: dict[str, tuple[_Dec, int]] = {}


def _reg(cls: type, enc: _Enc, dec: _Dec, arity: int) -> None:
    _FILTERS[cls] = (cls.__name__, enc, dec)
    _BY_NAME[cls.__name__] = (dec, arity)


# comparators
_reg(
    BinaryComparator, lambda c: [c.value], lambda a: BinaryComparator(need_bytes(a[0], "value")), 1
)
_reg(
    BinaryPrefixComparator,
    lambda c: [c.value],
    lambda a: BinaryPrefixComparator(need_bytes(a[0], "value")),
    1,
)
_reg(
    RegexStringComparator,
    lambda c: [c.pattern, c.flags, c.charset],
    lambda a: RegexStringComparator(
        need_str(a[0], "pattern"), need_int(a[1], "flags"), need_str(a[2], "charset")
    ),
    3,
)
_reg(
    SubstringComparator,
    lambda c: [c.value],
    lambda a: SubstringComparator(need_bytes(a[0], "value")),
    1,
)
_reg(LongComparator, lambda c: [c.number], lambda a: LongComparator(need_int(a[0], "number")), 1)
_reg(
    BitComparator,
    lambda c: [c.value, c.op.value],
    lambda a: BitComparator(need_bytes(a[0], "value"), _bitwise(a[1])),
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
        need_bytes(a[0], "family"),
        need_bytes(a[1], "qualifier"),
        need_bool(a[2], "drop_dependent_column"),
        _op(a[3]),
        _opt_node(a[4]),
    ),
    5,
)
# column filters
_reg(
    ColumnPrefixFilter,
    lambda f: [f.prefix],
    lambda a: ColumnPrefixFilter(need_bytes(a[0], "prefix")),
    1,
)
_reg(
    MultipleColumnPrefixFilter,
    lambda f: [list(f.prefixes)],
    lambda a: MultipleColumnPrefixFilter(
        [need_bytes(p, "prefix") for p in need_list(a[0], "prefixes")]
    ),
    1,
)
_reg(
    ColumnCountGetFilter,
    lambda f: [f.limit],
    lambda a: ColumnCountGetFilter(need_int(a[0], "limit")),
    1,
)
_reg(
    ColumnPaginationFilter,
    lambda f: [f.limit, f.offset, f.column_offset],
    lambda a: ColumnPaginationFilter(
        need_int(a[0], "limit"),
        need_int(a[1], "offset"),
        column_offset=opt_bytes(a[2], "column_offset"),
    ),
    3,
)
_reg(
    ColumnRangeFilter,
    lambda f: [f.min_column, f.min_inclusive, f.max_column, f.max_inclusive],
    lambda a: ColumnRangeFilter(
        opt_bytes(a[0], "min_column"),
        need_bool(a[1], "min_inclusive"),
        opt_bytes(a[2], "max_column"),
        need_bool(a[3], "max_inclusive"),
    ),
    4,
)
_reg(
    TimestampsFilter,
    lambda f: [list(f.timestamps)],
    lambda a: TimestampsFilter([need_int(t, "timestamp") for t in need_list(a[0], "timestamps")]),
    1,
)
# key filters
_reg(
    KeyOnlyFilter,
    lambda f: [f.len_as_val],
    lambda a: KeyOnlyFilter(need_bool(a[0], "len_as_val")),
    1,
)
_reg(FirstKeyOnlyFilter, lambda f: [], lambda a: FirstKeyOnlyFilter(), 0)
_reg(PrefixFilter, lambda f: [f.prefix], lambda a: PrefixFilter(need_bytes(a[0], "prefix")), 1)
_reg(
    InclusiveStopFilter,
    lambda f: [f.stop_row],
    lambda a: InclusiveStopFilter(need_bytes(a[0], "stop_row")),
    1,
)
_reg(PageFilter, lambda f: [f.page_size], lambda a: PageFilter(need_int(a[0], "page_size")), 1)
# list filters
_reg(
    FilterList,
    lambda f: [f.operator.value, [_encode_node(x) for x in f.filters]],
    lambda a: FilterList(_list_op(a[0]), [_node(x) for x in need_list(a[1], "filters")]),
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
            (need_bytes(p[0], "fuzzy key"), need_bytes(p[1], "fuzzy mask"))
            for p in (need_list(x, "fuzzy pair", 2) for x in need_list(a[0], "fuzzy keys"))
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
                need_bytes(r[0], "start_row"),
                need_bool(r[1], "start_inclusive"),
                need_bytes(r[2], "stop_row"),
                need_bool(r[3], "stop_inclusive"),
            )
            for r in (need_list(x, "row range", 4) for x in need_list(a[0], "ranges"))
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
        need_bytes(a[0], "family"), need_bytes(a[1], "qualifier"), _op(a[2]), _node(a[3])
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
    v = need_list(v, "filter node")
    if not v:
        raise ProtocolError("empty filter node")
    name = need_str(v[0], "filter class name")
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
    v = need_list(v, "filter", 2)
    kind = v[0]
    if kind == "s":
        return parse_filter(need_str(v[1], "filter string"))
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
