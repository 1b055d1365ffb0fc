"""Pure helpers of the client API: arguments -> requests, answers -> results.

Role: the validation and shaping every client plan (client/table.py,
connection.py, admin.py, batch.py) shares: row keys, column names, filters,
timestamps and durability checked; mutations, ReadSpecs and ScanRanges built;
cells turned into happybase's return shapes.  No I/O and no backend here.
Invariants: every argument is validated before anything is sent, so a bad call
changes nothing; column names are ``b"family:qualifier"`` (or ``b"family"`` for
a whole family where happybase allows it); ``str`` is accepted wherever bytes
are and encoded as UTF-8.
Concurrency: pure functions.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from hedgerow.errors import InvalidArgument
from hedgerow.model.cell import MAX_TIMESTAMP, Cell
from hedgerow.model.compare import ValueComparison, value_comparison
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import (
    DeleteColumn,
    DeleteFamily,
    DeleteFamilyVersion,
    DeleteRow,
    DeleteVersion,
    Op,
    Put,
    RowMutation,
    check_row,
    check_timestamp,
    decode_counter,
)
from hedgerow.model.read_spec import Columns, ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc.operations import RegionLike

RowData = dict[bytes, Any]
_V = TypeVar("_V")

_OPS = ("<", "<=", "=", "==", "!=", ">=", ">")
#: the spec of a plain ``row(key)``: latest version, every column (immutable, shared)
_LATEST = ReadSpec(max_versions=1)


def _b(x: bytes | str, what: str) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, bytearray | memoryview):
        return bytes(x)
    raise InvalidArgument(f"{what} must be bytes or str, got {type(x).__name__}")


def _split_column(column: bytes | str) -> tuple[bytes, bytes | None]:
    """``b"cf:q"`` -> (b"cf", b"q"); ``b"cf"`` -> (b"cf", None)."""
    c = _b(column, "column")
    fam, sep, qual = c.partition(b":")
    if not fam:
        raise InvalidArgument(f"column {c!r} has an empty family name")
    return fam, (qual if sep else None)


def _full_column(column: bytes | str) -> tuple[bytes, bytes]:
    fam, qual = _split_column(column)
    if qual is None:
        raise InvalidArgument(
            f"column {_b(column, 'column')!r} must be 'family:qualifier' (the qualifier may be empty)"
        )
    return fam, qual


def _columns(columns: Iterable[bytes | str] | None) -> Columns | None:
    if columns is None:
        return None
    if isinstance(columns, bytes | str):
        raise InvalidArgument("columns must be a list of column names, not a single string")
    out: dict[bytes, set[bytes] | None] = {}
    for c in columns:
        fam, qual = _split_column(c)
        if qual is None:
            out[fam] = None
        elif fam not in out:
            out[fam] = {qual}
        else:
            cur = out[fam]
            if cur is not None:
                cur.add(qual)
    if not out:
        raise InvalidArgument("columns must not be empty (pass None for all columns)")
    return {f: (None if q is None else frozenset(q)) for f, q in out.items()}


def _durability(wal: bool, durability: Durability | None) -> Durability:
    if durability is not None:
        if not isinstance(durability, Durability):
            raise InvalidArgument(f"durability must be a hedgerow.Durability, got {durability!r}")
        return durability
    return Durability.SYNC_WAL if wal else Durability.SKIP_WAL


def _opt_ts(timestamp: int | None) -> int | None:
    return None if timestamp is None else check_timestamp(timestamp)


def _read_max_ts(timestamp: int | None) -> int:
    if timestamp is None:
        return MAX_TIMESTAMP
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidArgument(f"timestamp must be a non-negative int, got {timestamp!r}")
    return timestamp


def _put_ops(data: Mapping[bytes | str, bytes | str], ts: int | None) -> list[Op]:
    if not isinstance(data, Mapping):
        raise InvalidArgument(
            f"data must be a mapping of column to value, got {type(data).__name__}"
        )
    ops: list[Op] = []
    for col, value in data.items():
        fam, qual = _full_column(col)
        v = value if isinstance(value, bytes) else _b(value, f"value of {col!r}")
        ops.append(Put(fam, qual, v, ts))
    return ops


def _delete_ops(columns: Iterable[bytes | str] | None, ts: int | None) -> list[Op]:
    if columns is None:
        return [DeleteRow(ts)]
    if isinstance(columns, bytes | str):
        raise InvalidArgument("columns must be a list of column names, not a single string")
    ops: list[Op] = []
    for c in columns:
        fam, qual = _split_column(c)
        ops.append(DeleteFamily(fam, ts) if qual is None else DeleteColumn(fam, qual, ts))
    return ops


def _make_filter(filter: Any) -> Any:
    if filter is None:
        return None
    from hedgerow.model.filters import Filter, parse_filter

    if isinstance(filter, bytes | str):
        return parse_filter(filter)
    if isinstance(filter, Filter):
        return copy.deepcopy(filter)  # filters keep per-scan state (PageFilter counts rows)
    raise InvalidArgument(
        f"filter must be a filter string or a Filter, got {type(filter).__name__}"
    )


def _row_dict(cells: list[Cell], include_timestamp: bool) -> RowData:
    out: RowData = {}
    if include_timestamp:
        for c in cells:
            col = c.family + b":" + c.qualifier
            if col not in out:
                out[col] = (c.value, c.timestamp)
    else:
        for c in cells:
            col = c.family + b":" + c.qualifier
            if col not in out:
                out[col] = c.value
    return out


def families_dict(desc: TableDescriptor) -> dict[bytes, dict[str, Any]]:
    """``families()``'s answer for a table descriptor."""
    out: dict[bytes, dict[str, Any]] = {}
    for name, cf in desc.families.items():
        d = cf.to_dict()
        d["name"] = name
        d["compression"] = cf.compression.upper()
        d["time_to_live"] = 2**31 - 1 if cf.time_to_live is None else cf.time_to_live
        out[name] = d
    return out


def region_dicts(table: str, located: Sequence[tuple[RegionLike, str]]) -> list[dict[str, Any]]:
    """``regions()``'s answer in happybase's shape: ``id`` is the region's number,
    ``server_name``/``port`` the hosting server as ``hbase:meta`` records it ("host:port"
    behind hedgerow standalone, b"local" with port 0 when embedded, b"" with port 0
    while the table is disabled)."""
    out = []
    for r, server in located:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit():
            host, port = server, "0"
        out.append(
            {
                "start_key": r.start_key,
                "end_key": r.end_key,
                "id": int(r.name) if r.name.isdigit() else 0,
                "name": f"{table},{r.start_key.decode('latin-1')},{r.name}".encode("latin-1"),
                "version": 1,
                "server_name": host.encode(),
                "port": int(port),
            }
        )
    return out


def row_spec(columns: Iterable[bytes | str] | None, timestamp: int | None, filter: Any) -> ReadSpec:
    """The ReadSpec of ``row(...)``."""
    if columns is None and timestamp is None and filter is None:
        return _LATEST
    return ReadSpec(
        columns=_columns(columns),
        max_ts=_read_max_ts(timestamp),
        max_versions=1,
        filter=_make_filter(filter),
    )


def rows_request(
    rows: Iterable[bytes | str],
    columns: Iterable[bytes | str] | None,
    timestamp: int | None,
    filter: Any,
) -> tuple[list[bytes], ReadSpec, Any]:
    """``rows(...)``: the keys, the spec, and the filter each row's Get gets a copy of."""
    if isinstance(rows, bytes | str):
        raise InvalidArgument("rows must be a list of row keys, not a single key")
    keys = [check_row(_b(r, "row")) for r in rows]
    spec = ReadSpec(columns=_columns(columns), max_ts=_read_max_ts(timestamp), max_versions=1)
    proto = _make_filter(filter)  # validated (and parsed) once, before any read
    return keys, spec, proto


def cells_request(
    row: bytes | str, column: bytes | str, versions: int | None, timestamp: int | None
) -> tuple[bytes, ReadSpec]:
    """``cells(...)``: the row key and spec."""
    r = check_row(_b(row, "row"))
    fam, qual = _full_column(column)
    if versions is None:
        versions = 2**31 - 1
    elif isinstance(versions, bool) or not isinstance(versions, int) or versions < 1:
        raise InvalidArgument(f"versions must be an int >= 1, got {versions!r}")
    spec = ReadSpec(
        columns={fam: frozenset([qual])},
        max_ts=_read_max_ts(timestamp),
        max_versions=versions,
    )
    return r, spec


def cell_values(cells: list[Cell], include_timestamp: bool) -> list[Any]:
    """``cells(...)``'s answer."""
    if include_timestamp:
        return [(c.value, c.timestamp) for c in cells]
    return [c.value for c in cells]


def scan_request(
    row_start: bytes | str | None,
    row_stop: bytes | str | None,
    row_prefix: bytes | str | None,
    columns: Iterable[bytes | str] | None,
    filter: Any,
    timestamp: int | None,
    batch_size: int,
    scan_batching: int | None,
    limit: int | None,
    reverse: bool,
    start_inclusive: bool,
    stop_inclusive: bool,
    time_range: tuple[int, int] | None,
    max_versions: int,
    raw: bool,
) -> tuple[ScanRange, ReadSpec, bool]:
    """``scan(...)``'s arguments, validated -> range, spec, and whether rows are Cell lists."""
    if row_prefix is not None:
        if row_start is not None or row_stop is not None:
            raise InvalidArgument("row_prefix cannot be combined with row_start or row_stop")
        p = _b(row_prefix, "row_prefix")
        start: bytes | None = p
        stop = _prefix_end(p)
        start_inclusive, stop_inclusive = True, False
        if reverse:
            start, stop = stop, p
            # high end exclusive (the prefix's successor), low end inclusive
            start_inclusive, stop_inclusive = False, True
            if start is None:
                start_inclusive = True
    else:
        start = None if row_start is None else _b(row_start, "row_start")
        # an empty stop row means no stop, as in HBase (and happybase over Thrift)
        stop = None if row_stop is None or row_stop in (b"", "") else _b(row_stop, "row_stop")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise InvalidArgument("batch_size must be an int >= 1")
    if scan_batching is not None and (not isinstance(scan_batching, int) or scan_batching < 1):
        raise InvalidArgument("scan_batching must be an int >= 1")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgument("limit must be an int >= 1")
    if isinstance(max_versions, bool) or not isinstance(max_versions, int) or max_versions < 1:
        raise InvalidArgument("max_versions must be an int >= 1")
    min_ts, max_ts = 0, _read_max_ts(timestamp)
    if time_range is not None:
        if timestamp is not None:
            raise InvalidArgument("pass either timestamp or time_range, not both")
        lo, hi = time_range
        min_ts, max_ts = check_timestamp(lo), _read_max_ts(hi)
        if min_ts > max_ts:
            raise InvalidArgument(f"time_range {time_range!r} has min > max")
    spec = ReadSpec(
        columns=_columns(columns),
        min_ts=min_ts,
        max_ts=max_ts,
        max_versions=max_versions,
        filter=_make_filter(filter),
        raw=bool(raw),
    )
    rng = ScanRange(start, start_inclusive, stop, stop_inclusive, bool(reverse))
    cells_out = max_versions > 1 or raw
    return rng, spec, cells_out


def scan_chunks(
    cells: list[Cell], scan_batching: int | None, cells_out: bool, include_timestamp: bool
) -> list[RowData | list[Cell]]:
    """What ``scan`` yields for one row: one value, or ``scan_batching``-sized pieces."""
    chunks = (
        [cells]
        if scan_batching is None or len(cells) <= scan_batching
        else [cells[i : i + scan_batching] for i in range(0, len(cells), scan_batching)]
    )
    if cells_out:
        return list(chunks)
    return [_row_dict(chunk, include_timestamp) for chunk in chunks]


def put_mutation(
    row: bytes | str, data: Mapping[bytes | str, bytes | str], timestamp: int | None
) -> RowMutation | None:
    """``put(...)``'s mutation (None: nothing to write)."""
    r = check_row(_b(row, "row"))
    ops = _put_ops(data, _opt_ts(timestamp))
    return RowMutation(r, tuple(ops)) if ops else None


def delete_mutation(
    row: bytes | str, columns: Iterable[bytes | str] | None, timestamp: int | None
) -> RowMutation | None:
    """``delete(...)``'s mutation (None: nothing to delete)."""
    r = check_row(_b(row, "row"))
    ops = _delete_ops(columns, _opt_ts(timestamp))
    return RowMutation(r, tuple(ops)) if ops else None


def delete_cell_mutation(
    row: bytes | str, column: bytes | str, timestamp: int | None
) -> RowMutation:
    r = check_row(_b(row, "row"))
    fam, qual = _full_column(column)
    return RowMutation(r, (DeleteVersion(fam, qual, _opt_ts(timestamp)),))


def delete_family_version_mutation(
    row: bytes | str, family: bytes | str, timestamp: int
) -> RowMutation:
    r = check_row(_b(row, "row"))
    fam = _b(family, "family")
    return RowMutation(r, (DeleteFamilyVersion(fam, check_timestamp(timestamp)),))


def row_mutation(
    row: bytes | str,
    put: Mapping[bytes | str, bytes | str] | None,
    delete: Iterable[bytes | str] | None,
    timestamp: int | None,
) -> RowMutation | None:
    """``mutate_row(...)``'s mutation: deletes, then puts (None: nothing to do)."""
    r = check_row(_b(row, "row"))
    ts = _opt_ts(timestamp)
    ops: list[Op] = []
    if delete is not None:
        ops.extend(_delete_ops(delete, ts))
    if put is not None:
        ops.extend(_put_ops(put, ts))
    return RowMutation(r, tuple(ops)) if ops else None


def increment_request(
    row: bytes | str, amounts: Mapping[bytes | str, int]
) -> tuple[bytes, dict[tuple[bytes, bytes], int]]:
    r = check_row(_b(row, "row"))
    parsed: dict[tuple[bytes, bytes], int] = {}
    for col, amount in amounts.items():
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidArgument(f"increment of {col!r} must be an int, got {amount!r}")
        if not -(2**63) <= amount < 2**63:
            raise InvalidArgument(f"increment of {col!r} does not fit in 64 bits")
        parsed[_full_column(col)] = amount
    return r, parsed


def append_request(
    row: bytes | str, suffixes: Mapping[bytes | str, bytes | str]
) -> tuple[bytes, dict[tuple[bytes, bytes], bytes]]:
    r = check_row(_b(row, "row"))
    parsed = {_full_column(c): _b(v, f"value of {c!r}") for c, v in suffixes.items()}
    return r, parsed


def by_column(new: Mapping[tuple[bytes, bytes], _V]) -> dict[bytes, _V]:
    """``{(family, qualifier): v}`` -> ``{b"family:qualifier": v}``."""
    return {f + b":" + q: v for (f, q), v in new.items()}


def check_and_mutate_request(
    row: bytes | str,
    column: bytes | str,
    value: bytes | str | None,
    op: str,
    put: Mapping[bytes | str, bytes | str] | None,
    delete: Iterable[bytes | str] | None,
) -> tuple[bytes, bytes, bytes, ValueComparison, RowMutation]:
    """``check_and_mutate(...)``: row, family, qualifier, comparison and mutation."""
    r = check_row(_b(row, "row"))
    fam, qual = _full_column(column)
    if op not in _OPS:
        raise InvalidArgument(f"unknown compare operator {op!r}; use one of {', '.join(_OPS)}")
    expected = None if value is None else _b(value, "value")
    compare = value_comparison(expected, op)
    ops: list[Op] = []
    if delete is not None:
        ops.extend(_delete_ops(delete, None))
    if put is not None:
        ops.extend(_put_ops(put, None))
    if not ops:
        raise InvalidArgument("check_and_mutate needs put or delete")
    return r, fam, qual, compare, RowMutation(r, tuple(ops))


def counter_value(column: bytes, value: bytes | None) -> int:
    """A counter cell's value as ``counter_get`` returns it (``column`` is ``b"f:q"``)."""
    fam, _, qual = column.partition(b":")
    return decode_counter(value, fam, qual)


def counter_bytes(value: int) -> bytes:
    """``counter_set``'s value, validated and encoded."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise InvalidArgument(f"counter value must be a 64-bit int, got {value!r}")
    return value.to_bytes(8, "big", signed=True)


def _canonical(col: bytes) -> bytes:
    fam, qual = _full_column(col)
    return fam + b":" + qual


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)
