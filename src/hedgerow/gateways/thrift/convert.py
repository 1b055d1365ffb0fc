"""Conversions between HBase Thrift1 structs and Hedgerow's public client API shapes.

Role: used by ``handler.HbaseHandler`` for every call: parses column strings the
way HBase's ``CellUtil.parseColumn`` does, builds ``TCell``/``TRowResult``/
``ColumnDescriptor``/``TRegionInfo`` structs, turns Thrift timestamps into the
client API's arguments, and maps Hedgerow's exception tree onto the IDL's
exceptions (docs/design/thrift-gateway.md#errors).
Invariants: pure functions; nothing here does I/O.
Concurrency: stateless.
Hot path: ``row_result`` (one per row returned); see bench/bench_thrift.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hedgerow.errors import HedgerowError, InvalidArgument, TableExists
from hedgerow.model.cell import MAX_TIMESTAMP

__all__ = [
    "FOREVER_TTL",
    "column_descriptor",
    "family_options",
    "full_column",
    "map_error",
    "parse_column",
    "read_ts",
    "row_result",
    "tcells",
    "text",
    "write_ts",
]

#: HBase's "forever" TTL (Integer.MAX_VALUE seconds), as getColumnDescriptors reports it.
FOREVER_TTL = 2**31 - 1

#: Thrift compression names Hedgerow stores (HBase's Compression.Algorithm names upper-cased).
_COMPRESSIONS = {"NONE": "none", "LZ4": "lz4", "ZSTD": "zstd"}


def text(value: Any, what: str) -> bytes:
    """A Thrift ``Text``/``Bytes`` argument as bytes; ``None`` is a clear error."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if value is None:
        raise InvalidArgument(f"{what} is required")
    raise InvalidArgument(f"{what} must be binary, got {type(value).__name__}")


def parse_column(column: Any) -> tuple[bytes, bytes | None]:
    """``b"cf:q"`` -> (cf, q); ``b"cf:"`` -> (cf, b""); ``b"cf"`` -> (cf, None) (parseColumn)."""
    c = text(column, "column")
    fam, sep, qual = c.partition(b":")
    if not fam:
        raise InvalidArgument(f"column {c!r} has an empty family name")
    return fam, (qual if sep else None)


def full_column(column: Any) -> bytes:
    """A column for increments and appends: a bare family means its empty qualifier."""
    fam, qual = parse_column(column)
    return fam + b":" + (qual or b"")


def columns_arg(columns: Iterable[Any] | None) -> list[bytes] | None:
    """A Thrift ``list<Text> columns``: ``None`` or empty means every column."""
    if not columns:
        return None
    out = []
    for c in columns:
        fam, qual = parse_column(c)
        out.append(fam if qual is None else fam + b":" + qual)
    return out


def read_ts(timestamp: Any) -> int | None:
    """A ``*Ts`` read's timestamp: the exclusive upper bound ``[0, ts)`` (None = latest)."""
    if timestamp is None or timestamp >= MAX_TIMESTAMP:
        return None
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidArgument(f"timestamp must be a non-negative int, got {timestamp!r}")
    return int(timestamp)


def write_ts(timestamp: Any) -> int | None:
    """A ``*Ts`` write's timestamp; HBase's LATEST_TIMESTAMP (2**63-1) means "now"."""
    if timestamp is None or timestamp == MAX_TIMESTAMP:
        return None
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidArgument(f"timestamp must be a non-negative int, got {timestamp!r}")
    return int(timestamp)


def tcells(ttypes: Any, items: Iterable[tuple[bytes, int]]) -> list[Any]:
    """``TCell`` structs from ``(value, timestamp)`` pairs."""
    TCell = ttypes.TCell
    return [TCell(value=v, timestamp=ts) for v, ts in items]


def row_result(ttypes: Any, row: bytes, data: Mapping[bytes, Any], sort_columns: bool) -> Any:
    """A ``TRowResult`` from ``Table.row(..., include_timestamp=True)``'s shape.

    ``data`` maps ``b"cf:q"`` to ``(value, ts)`` in column order. As in HBase's
    ``ThriftUtilities.rowResultFromHBase``: ``sortColumns`` fills ``sortedColumns``
    (in order), otherwise ``columns`` (a map).
    """
    TCell = ttypes.TCell  # fast path: hoisted, called once per cell
    if sort_columns:
        TColumn = ttypes.TColumn
        cols = [
            TColumn(columnName=c, cell=TCell(value=v, timestamp=ts)) for c, (v, ts) in data.items()
        ]
        return ttypes.TRowResult(row=row, sortedColumns=cols)
    return ttypes.TRowResult(
        row=row, columns={c: TCell(value=v, timestamp=ts) for c, (v, ts) in data.items()}
    )


def _s(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def family_options(cd: Any) -> tuple[bytes, dict[str, Any]]:
    """A Thrift ``ColumnDescriptor`` -> (family name, ``create_table`` options).

    Follows HBase's ``ThriftUtilities.colDescFromThrift``: the name may end in
    ``:``; ``timeToLive <= 0`` or Integer.MAX_VALUE means forever.
    """
    name = text(cd.name, "column family name")
    if name.endswith(b":"):
        name = name[:-1]
    if not name:
        raise InvalidArgument("column name is empty")
    comp = _s(cd.compression, "NONE").upper()
    if comp not in _COMPRESSIONS:
        raise InvalidArgument(
            f"compression {comp!r} of family {name!r} is not supported; "
            f"use one of {', '.join(_COMPRESSIONS)}"
        )
    ttl = cd.timeToLive
    opts: dict[str, Any] = {
        "max_versions": 3 if cd.maxVersions is None else cd.maxVersions,
        "compression": _COMPRESSIONS[comp],
        "in_memory": bool(cd.inMemory),
        "bloom_filter_type": _s(cd.bloomFilterType, "NONE").upper(),
        "bloom_filter_vector_size": max(0, cd.bloomFilterVectorSize or 0),
        "bloom_filter_nb_hashes": max(0, cd.bloomFilterNbHashes or 0),
        "block_cache_enabled": bool(cd.blockCacheEnabled),
        "time_to_live": None if ttl is None or ttl <= 0 or ttl >= FOREVER_TTL else ttl,
    }
    return name, opts


def column_descriptor(ttypes: Any, name: bytes, fam: Mapping[str, Any]) -> Any:
    """A Thrift ``ColumnDescriptor`` from ``Table.families()``'s entry (name gets ``:``)."""
    ttl = fam.get("time_to_live")
    return ttypes.ColumnDescriptor(
        name=name + b":",
        maxVersions=fam["max_versions"],
        compression=str(fam["compression"]).upper(),
        inMemory=bool(fam["in_memory"]),
        bloomFilterType=str(fam["bloom_filter_type"]).upper(),
        bloomFilterVectorSize=fam.get("bloom_filter_vector_size", 0),
        bloomFilterNbHashes=fam.get("bloom_filter_nb_hashes", 0),
        blockCacheEnabled=bool(fam["block_cache_enabled"]),
        timeToLive=FOREVER_TTL if ttl is None else min(int(ttl), FOREVER_TTL),
    )


def describe(exc: BaseException) -> str:
    """``"ClassName: message"``: the Hedgerow class tells the client what went wrong."""
    msg = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {msg}"


def map_error(ttypes: Any, exc: BaseException, declared: frozenset[str]) -> Exception:
    """The IDL exception a Hedgerow error becomes, among those the method ``declared``.

    - ``TableExists`` -> ``AlreadyExists`` (createTable), else IOError;
    - ``InvalidArgument`` and its subclasses -> ``IllegalArgument`` where the
      method declares it, else IOError (HBase reports bad columns, non-counters
      and bad filters as IOError);
    - every other error, Hedgerow's or not -> IOError. A non-Hedgerow error is a
      gateway bug; its message says so.
    """
    if isinstance(exc, TableExists) and "AlreadyExists" in declared:
        return ttypes.AlreadyExists(message=describe(exc))  # type: ignore[no-any-return]
    if isinstance(exc, InvalidArgument) and "IllegalArgument" in declared:
        return ttypes.IllegalArgument(message=describe(exc))  # type: ignore[no-any-return]
    if isinstance(exc, HedgerowError | ValueError | TypeError | KeyError):
        return ttypes.IOError(message=describe(exc), canRetry=False)  # type: ignore[no-any-return]
    return ttypes.IOError(  # type: ignore[no-any-return]
        message=f"internal gateway error: {describe(exc)}", canRetry=False
    )
