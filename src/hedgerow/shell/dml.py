"""DML shell commands: put, get, scan, count, delete, deleteall, incr, get_counter,
append, get_splits.

Role: registered in the command table at import; called by ``Shell``.
Facts (hbase-shell hbase/table.rb and shell/commands/<name>.rb):
- a cell prints as ``timestamp=TS, value=V``; a delete marker (RAW scans) as
  ``timestamp=TS, type=DeleteColumn`` (``KeyValue.Type`` names); scan lines are
  `` ROW column=CF:Q, timestamp=..., value=...``; rows, qualifiers and values
  go through ``Bytes.toStringBinary``;
- get and scan end with ``N row(s)``: scan counts rows, get counts cells;
- ``TIMESTAMP => ts`` on reads is one exact timestamp (``Get.setTimeStamp`` =
  range [ts, ts+1)), ``TIMERANGE => [a, b]`` is [a, b);
- ``delete`` removes one version (``Delete.addColumn``; a family-only column
  with a timestamp is ``addFamilyVersion``), ``deleteall`` all versions;
- count prints ``Current count: N, row: R`` every INTERVAL rows (default 1000);
- incr and get_counter print ``COUNTER VALUE = N``; append ``CURRENT VALUE = V``;
  get_counter on a missing cell prints ``No counter found at specified coordinates``;
- get_splits prints ``Total number of splits = N`` (regions) and the split keys.
Get is run as a one-row scan so that VERSIONS, TIMERANGE and FILTER work together.
Concurrency: as ``Shell``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from hedgerow import Cell, KeyType
from hedgerow.shell.formatter import to_string_binary
from hedgerow.shell.registry import (
    ShellArgumentError,
    as_bytes,
    as_hash,
    as_int,
    as_name,
    as_str_list,
    command,
)

if TYPE_CHECKING:
    from hedgerow.client import Table
    from hedgerow.shell.session import Shell

__all__: list[str] = []

_TYPE_NAMES = {
    KeyType.DELETE: "Delete",
    KeyType.DELETE_COLUMN: "DeleteColumn",
    KeyType.DELETE_FAMILY: "DeleteFamily",
    KeyType.DELETE_FAMILY_VERSION: "DeleteFamilyVersion",
}

_SCAN_KEYS = (
    "STARTROW",
    "STOPROW",
    "ROWPREFIXFILTER",
    "COLUMN",
    "COLUMNS",
    "LIMIT",
    "FILTER",
    "VERSIONS",
    "TIMERANGE",
    "TIMESTAMP",
    "REVERSED",
    "RAW",
    "CACHE",
    "CACHE_BLOCKS",
)
_GET_KEYS = ("COLUMN", "COLUMNS", "FILTER", "VERSIONS", "TIMERANGE", "TIMESTAMP")


def _table(sh: Shell, arg: Any) -> Table:
    return sh.connection.table(as_name(arg))


def _read_columns(v: Any) -> list[bytes]:
    """COLUMNS for reads: 'cf' and 'cf:' select the whole family, 'cf:q' one column."""
    cols = as_str_list(v, "column")
    return [c[:-1] if c.endswith(b":") and c.count(b":") == 1 else c for c in cols]


def _cell_text(c: Cell) -> tuple[str, str]:
    col = to_string_binary(c.family) + ":" + to_string_binary(c.qualifier)
    if c.type != KeyType.PUT:
        return col, f"timestamp={c.timestamp}, type={_TYPE_NAMES.get(KeyType(c.type), c.type)}"
    return col, f"timestamp={c.timestamp}, value={to_string_binary(c.value)}"


def _as_cells(row: bytes, data: Any) -> list[Cell]:
    """A scan result (dict with timestamps, or list of Cells) as Cells."""
    if isinstance(data, list):
        return data
    out = []
    for col, (value, ts) in data.items():
        fam, _, qual = col.partition(b":")
        out.append(Cell(row, fam, qual, ts, KeyType.PUT, value))
    return out


def _read_kwargs(h: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for k, v in h.items():
        if k not in allowed:
            raise ShellArgumentError(f"unknown option {k}; use one of {', '.join(allowed)}")
        if k == "STARTROW":
            kw["row_start"] = as_bytes(v, "STARTROW")
        elif k == "STOPROW":
            kw["row_stop"] = as_bytes(v, "STOPROW")
        elif k == "ROWPREFIXFILTER":
            kw["row_prefix"] = as_bytes(v, "ROWPREFIXFILTER")
        elif k in ("COLUMN", "COLUMNS"):
            kw["columns"] = _read_columns(v)
        elif k == "LIMIT":
            kw["limit"] = as_int(v, "LIMIT", 1)
        elif k == "FILTER":
            if not isinstance(v, bytes | str):
                raise ShellArgumentError("FILTER must be a filter string: \"PrefixFilter('a')\"")
            kw["filter"] = v.decode("utf-8") if isinstance(v, bytes) else v
        elif k == "VERSIONS":
            kw["max_versions"] = as_int(v, "VERSIONS", 1)
        elif k == "TIMERANGE":
            if not isinstance(v, list) or len(v) != 2:
                raise ShellArgumentError("TIMERANGE must be [min_ts, max_ts]")
            kw["time_range"] = (as_int(v[0], "TIMERANGE", 0), as_int(v[1], "TIMERANGE", 0))
        elif k == "TIMESTAMP":
            ts = as_int(v, "TIMESTAMP", 0)
            kw["time_range"] = (ts, ts + 1)
        elif k == "REVERSED":
            kw["reverse"] = bool(v)
        elif k == "RAW":
            kw["raw"] = bool(v)
        elif k == "CACHE":
            kw["batch_size"] = as_int(v, "CACHE", 1)
        # CACHE_BLOCKS is a cache hint; the embedded engine decides itself
    if "TIMESTAMP" in h and "TIMERANGE" in h:
        raise ShellArgumentError("give TIMESTAMP or TIMERANGE, not both")
    return kw


def _scan(t: Table, kw: dict[str, Any]) -> Iterator[tuple[bytes, list[Cell]]]:
    for row, data in t.scan(include_timestamp=True, **kw):
        yield row, _as_cells(row, data)


@command(
    "put",
    "dml",
    """Put a cell value at table/row/column, optionally at a timestamp (ms).
  hbase> put 't1', 'r1', 'c1:q', 'value'
  hbase> put 't1', 'r1', 'c1:q', 'value', 1700000000000
  hbase> put 't1', "r\\x00", 'c1:q', "\\x01\\x02\"""",
    4,
    5,
)
def _put(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    ts = None
    if len(args) == 5:
        if isinstance(args[4], Mapping):
            if args[4]:
                raise ShellArgumentError(
                    "ATTRIBUTES, TTL and VISIBILITY on put are not supported yet"
                )
        else:
            ts = as_int(args[4], "timestamp", 0)
    col = as_bytes(args[2], "column")
    t.put(as_bytes(args[1], "row"), {col: as_bytes(args[3], "value")}, timestamp=ts)


@command(
    "get",
    "dml",
    """Get a row's cells; options: COLUMN/COLUMNS, TIMESTAMP, TIMERANGE, VERSIONS, FILTER.
  hbase> get 't1', 'r1'
  hbase> get 't1', 'r1', {COLUMN => 'c1:a'}
  hbase> get 't1', 'r1', {COLUMNS => ['c1', 'c2:b'], VERSIONS => 3}
  hbase> get 't1', 'r1', {TIMERANGE => [ts1, ts2]}
  hbase> get 't1', 'r1', {COLUMN => 'c1:a', TIMESTAMP => ts1}
  hbase> get 't1', 'r1', {FILTER => "ValueFilter(=, 'binary:abc')"}
  hbase> get 't1', 'r1', 'c1:a', 'c2:b'
  hbase> get 't1', 'r1', ['c1:a', 'c2:b']""",
    2,
)
def _get(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    row = as_bytes(args[1], "row")
    rest = args[2:]
    if len(rest) == 1 and isinstance(rest[0], Mapping):
        kw = _read_kwargs(as_hash(rest[0], "options"), _GET_KEYS)
    elif rest:
        if any(isinstance(x, Mapping) for x in rest):
            raise ShellArgumentError("give columns or one options hash, not both")
        cols: list[Any] = []
        for x in rest:
            cols.extend(x if isinstance(x, list) else [x])
        kw = {"columns": _read_columns(cols)}
    else:
        kw = {}
    kw.update(row_start=row, row_stop=row, stop_inclusive=True)
    found = [c for _, cells in _scan(t, kw) for c in cells]  # errors before the header
    f = sh.fmt
    f.header("COLUMN", "CELL")
    for c in found:
        f.row(*_cell_text(c))
    f.rows_footer()


@command(
    "scan",
    "dml",
    """Scan a table; options: STARTROW, STOPROW, ROWPREFIXFILTER, COLUMNS, LIMIT, FILTER,
VERSIONS, TIMERANGE, TIMESTAMP, REVERSED, RAW, CACHE (rows per batch).
  hbase> scan 't1'
  hbase> scan 't1', {COLUMNS => ['c1', 'c2:q'], LIMIT => 10, STARTROW => 'xyz'}
  hbase> scan 't1', {ROWPREFIXFILTER => 'row2', VERSIONS => 3}
  hbase> scan 't1', {TIMERANGE => [1303668804000, 1303668904000]}
  hbase> scan 't1', {REVERSED => true}
  hbase> scan 't1', {RAW => true, VERSIONS => 10}
  hbase> scan 't1', {FILTER => "(PrefixFilter ('row2') AND (QualifierFilter (>=, 'binary:xyz'))) AND (TimestampsFilter ( 123, 456))"}
'c1' or 'c1:' in COLUMNS selects a whole family; RAW shows delete markers too.""",
    1,
    2,
)
def _scan_cmd(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    kw = _read_kwargs(as_hash(args[1], "scan options"), _SCAN_KEYS) if len(args) > 1 else {}
    rows = _scan(t, kw)
    f = sh.fmt
    first = next(rows, None)  # errors (unknown table, bad filter) before the header
    f.header("ROW", "COLUMN+CELL")
    if first is not None:
        _print_row(sh, *first)
        for row, cells in rows:
            _print_row(sh, row, cells)
    f.rows_footer()


def _print_row(sh: Shell, row: bytes, cells: list[Cell]) -> None:
    r = to_string_binary(row)
    for c in cells:
        col, text = _cell_text(c)
        sh.fmt.line(f" {r} column={col}, {text}")
    sh.fmt.row_count += 1


@command(
    "count",
    "dml",
    """Count a table's rows, printing progress every INTERVAL rows (default 1000).
  hbase> count 't1'
  hbase> count 't1', INTERVAL => 100000
  hbase> count 't1', CACHE => 1000
  hbase> count 't1', INTERVAL => 10, CACHE => 1000, FILTER => "PrefixFilter('a')\"""",
    1,
    2,
)
def _count(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    h = as_hash(args[1], "count options") if len(args) > 1 else {}
    interval, cache, flt = 1000, 10, "FirstKeyOnlyFilter()"
    for k, v in h.items():
        if k == "INTERVAL":
            interval = as_int(v, "INTERVAL", 1)
        elif k == "CACHE":
            cache = as_int(v, "CACHE", 1)
        elif k == "FILTER":
            kw = _read_kwargs({"FILTER": v}, ("FILTER",))
            flt = kw["filter"]
        elif k != "CACHE_BLOCKS":
            raise ShellArgumentError(f"unknown option {k}; use INTERVAL, CACHE or FILTER")
    n = 0
    for row, _ in t.scan(filter=flt, batch_size=cache):
        n += 1
        if n % interval == 0:
            sh.fmt.line(f"Current count: {n}, row: {to_string_binary(row)}")
    sh.fmt.rows_footer(n)
    sh.fmt.result(n)


@command(
    "delete",
    "dml",
    """Delete one version of a cell: the latest, or the one at the given timestamp.
  hbase> delete 't1', 'r1', 'c1:q'
  hbase> delete 't1', 'r1', 'c1:q', 1700000000000
  hbase> delete 't1', 'r1', 'c1', 1700000000000   (every column of family c1 at that timestamp)""",
    3,
    4,
)
def _delete(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    row = as_bytes(args[1], "row")
    col = as_bytes(args[2], "column")
    ts = as_int(args[3], "timestamp", 0) if len(args) > 3 else None
    if b":" in col:
        t.delete_cell(row, col, ts)
    elif ts is None:
        raise ShellArgumentError(
            f"delete of family '{col.decode('utf-8', 'replace')}' needs a timestamp; "
            "use deleteall to delete all its versions"
        )
    else:
        t.delete_family_version(row, col, ts)


@command(
    "deleteall",
    "dml",
    """Delete all versions of a row, a family or a column (at or below a timestamp).
  hbase> deleteall 't1', 'r1'
  hbase> deleteall 't1', 'r1', 'c1'
  hbase> deleteall 't1', 'r1', 'c1:q', 1700000000000
  hbase> deleteall 't1', {ROWPREFIXFILTER => 'prefix'}""",
    2,
    4,
)
def _deleteall(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    col = None if len(args) < 3 or args[2] is None else as_bytes(args[2], "column")
    ts = as_int(args[3], "timestamp", 0) if len(args) > 3 else None
    if isinstance(args[1], Mapping):
        h = as_hash(args[1], "deleteall options")
        if "ROWPREFIXFILTER" not in h or set(h) - {"ROWPREFIXFILTER", "CACHE"}:
            raise ShellArgumentError("deleteall takes a row or {ROWPREFIXFILTER => 'prefix'}")
        prefix = as_bytes(h["ROWPREFIXFILTER"], "ROWPREFIXFILTER")
        keys = [r for r, _ in t.scan(row_prefix=prefix, filter="KeyOnlyFilter()")]
    else:
        keys = [as_bytes(args[1], "row")]
    for r in keys:
        t.delete(r, None if col is None else [col], timestamp=ts)


def _full_column(v: Any) -> bytes:
    col = as_bytes(v, "column")
    if b":" not in col:
        raise ShellArgumentError(
            f"column '{col.decode('utf-8', 'replace')}' needs a family and a qualifier: 'cf:q'"
        )
    return col


@command(
    "incr",
    "dml",
    """Increment a counter cell (8-byte big-endian long) by 1 or the given amount.
  hbase> incr 't1', 'r1', 'c1:q'
  hbase> incr 't1', 'r1', 'c1:q', 10""",
    3,
    4,
)
def _incr(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    col = _full_column(args[2])
    by = 1 if len(args) < 4 or isinstance(args[3], Mapping) else as_int(args[3], "increment")
    new = t.increment(as_bytes(args[1], "row"), {col: by})
    sh.fmt.line(f"COUNTER VALUE = {next(iter(new.values()))}")


@command(
    "get_counter",
    "dml",
    """Show a counter cell's value.
  hbase> get_counter 't1', 'r1', 'c1:q'""",
    3,
    3,
)
def _get_counter(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    col = _full_column(args[2])
    fam, _, qual = col.partition(b":")
    data = t.row(as_bytes(args[1], "row"), columns=[col])
    value = data.get(fam + b":" + qual)
    if value is None:
        sh.fmt.line("No counter found at specified coordinates")
        return
    if len(value) != 8:
        raise ShellArgumentError(
            f"cell {to_string_binary(col)} is not a counter: it is {len(value)} bytes wide, a counter is 8"
        )
    sh.fmt.line(f"COUNTER VALUE = {int.from_bytes(value, 'big', signed=True)}")


@command(
    "append",
    "dml",
    """Append a value to a cell atomically.
  hbase> append 't1', 'r1', 'c1:q', 'value'""",
    4,
    5,
)
def _append(sh: Shell, args: list[Any]) -> None:
    t = _table(sh, args[0])
    col = _full_column(args[2])
    new = t.append(as_bytes(args[1], "row"), {col: as_bytes(args[3], "value")})
    sh.fmt.line(f"CURRENT VALUE = {to_string_binary(next(iter(new.values())))}")


@command(
    "get_splits",
    "dml",
    """Show the table's split keys (the start keys of its regions after the first).
  hbase> get_splits 't1'""",
    1,
    1,
)
def _get_splits(sh: Shell, args: list[Any]) -> None:
    regions = _table(sh, args[0]).regions()
    keys = [r["start_key"] for r in regions[1:]]
    sh.fmt.line(f"Total number of splits = {len(regions)}")
    for k in keys:
        sh.fmt.line(to_string_binary(k))
    sh.fmt.result([to_string_binary(k) for k in keys])
