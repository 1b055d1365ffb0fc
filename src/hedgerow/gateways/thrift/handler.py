"""HBase Thrift1 ``Hbase`` service implemented on Hedgerow's public client API.

Role: the handler object the Thrift processor (``server.py``) calls, one method
per IDL method (``hbase.thrift``); each translates its arguments into calls on
``hedgerow.Connection``/``hedgerow.Table`` and the results back into Thrift
structs. The method-by-method mapping, the HBase behaviours reproduced and the
limits are in docs/design/thrift-gateway.md.
Invariants: imports only the public API, ``model`` and ``errors`` (never the
engine: docs/design/overview.md#the-layer-rule); every error a method raises is a
Hedgerow error or an IDL exception, and ``server.SafeProcessor`` turns it into
an exception the method declares.
Concurrency: thread-safe; one handler serves every connection (as HBase's
handler is shared), scanner state lives in a ``ScannerRegistry``.
Hot path: ``scannerGetList``, ``getRowWithColumns``, ``mutateRows``; see
bench/bench_thrift.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hedgerow import Connection, Durability, Table
from hedgerow._internal.clock import SystemClock
from hedgerow.errors import HedgerowError, InvalidArgument, TableNotFound
from hedgerow.gateways.thrift import convert as cv
from hedgerow.gateways.thrift.scanners import ScannerRegistry

__all__ = ["HbaseHandler"]

log = logging.getLogger("hedgerow.gateways.thrift")

_END: Any = object()

#: HBase's Thrift server type answer (TThriftServerType.ONE).
_THRIFT_SERVER_TYPE_ONE = 1


class _Prefetched:
    """A row iterator whose first row was read at open, so open reports errors.

    HBase fails ``scannerOpen*`` on a missing table or family; Hedgerow's scan
    is lazy, so the handler pulls the first row when the scanner opens.
    """

    def __init__(self, rows: Iterator[tuple[bytes, Any]]) -> None:
        self._rows = rows
        self._head: Any = next(rows, _END)

    def __iter__(self) -> _Prefetched:
        return self

    def __next__(self) -> tuple[bytes, Any]:
        head = self._head
        if head is not _END:
            self._head = _END
            return head  # type: ignore[no-any-return]
        return next(self._rows)

    def close(self) -> None:
        self._head = _END
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


def _wal(mutations: Any) -> bool:
    return all(m.writeToWAL is not False for m in mutations)


class HbaseHandler:
    """The ``Hbase`` service. Methods by purpose (all named as in the IDL):

    - admin: ``enableTable``, ``disableTable``, ``isTableEnabled``, ``compact``,
      ``majorCompact``, ``getTableNames``, ``getTableNamesWithIsTableEnabled``,
      ``getColumnDescriptors``, ``getTableRegions``, ``createTable``, ``deleteTable``
    - reading: ``get``, ``getVer``, ``getVerTs``, ``getRow*``, ``getRows*``,
      ``getRowOrBefore``, ``getRegionInfo``
    - writing: ``mutateRow(s)(Ts)``, ``deleteAll*``, ``atomicIncrement``,
      ``increment(Rows)``, ``append``, ``checkAndPut``
    - scanning: ``scannerOpen*``, ``scannerGet(List)``, ``scannerClose``
    - server: ``getThriftServerType``, ``getClusterId``, ``grant``, ``revoke``
    """

    def __init__(
        self,
        connection: Connection,
        ttypes: Any,
        *,
        scanner_lease_s: float = 60.0,
        clock: Callable[[], float] | None = None,
        cluster_id: str = "hedgerow",
    ) -> None:
        # constant after __init__
        self._conn = connection
        self._t = ttypes
        self._cluster_id = cluster_id
        self.scanners = ScannerRegistry(scanner_lease_s, clock or SystemClock().monotonic_s)

    # ---- helpers ---------------------------------------------------------------------
    def _table(self, name: Any) -> Table:
        return self._conn.table(cv.text(name, "table name"))

    def _row_results(
        self, pairs: list[tuple[bytes, dict[bytes, Any]]], sort_columns: bool = False
    ) -> list[Any]:
        t = self._t
        return [cv.row_result(t, r, d, sort_columns) for r, d in pairs if d]

    def _get_rows(self, table: Any, rows: Any, columns: Any, ts: int | None) -> list[Any]:
        t = self._table(table)
        if rows is None:
            raise InvalidArgument("rows is required")
        keys = [cv.text(r, "row") for r in rows]
        if not keys:
            return []
        data = t.rows(keys, columns=cv.columns_arg(columns), timestamp=ts, include_timestamp=True)
        return self._row_results(data)

    def _get_row(self, table: Any, row: Any, columns: Any, ts: int | None) -> list[Any]:
        t = self._table(table)
        r = cv.text(row, "row")
        data = t.row(r, columns=cv.columns_arg(columns), timestamp=ts, include_timestamp=True)
        return self._row_results([(r, data)])

    def _versions(
        self, table: Any, row: Any, column: Any, ts: int | None, versions: Any
    ) -> list[Any]:
        if isinstance(versions, bool) or not isinstance(versions, int) or versions < 1:
            raise InvalidArgument(f"numVersions must be >= 1, got {versions!r}")
        t = self._table(table)
        r = cv.text(row, "row")
        fam, qual = cv.parse_column(column)
        if qual is not None:
            pairs = t.cells(r, fam + b":" + qual, versions, ts, include_timestamp=True)
            return cv.tcells(self._t, pairs)
        if versions == 1:
            data = t.row(r, columns=[fam], timestamp=ts, include_timestamp=True)
            return cv.tcells(self._t, data.values())
        out: list[tuple[bytes, int]] = []
        for _, cells in t.scan(
            row_start=r,
            row_stop=r,
            stop_inclusive=True,
            columns=[fam],
            timestamp=ts,
            max_versions=versions,
        ):
            out.extend((c.value, c.timestamp) for c in cells)  # type: ignore[union-attr]
        return cv.tcells(self._t, out)

    def _open(
        self,
        table: Any,
        *,
        start: Any = None,
        stop: Any = None,
        prefix: Any = None,
        columns: Any = None,
        ts: int | None = None,
        filter: Any = None,
        batch: Any = None,
        reverse: bool = False,
        sort_columns: bool = False,
    ) -> int:
        t = self._table(table)
        kw: dict[str, Any] = {}
        if prefix:
            kw["row_prefix"] = cv.text(prefix, "prefix")
        else:
            if start:
                kw["row_start"] = cv.text(start, "startRow")
            if stop:
                kw["row_stop"] = cv.text(stop, "stopRow")
        if filter:
            kw["filter"] = cv.text(filter, "filterString")
        if batch is not None and batch > 0:
            kw["scan_batching"] = batch
        rows = t.scan(
            columns=cv.columns_arg(columns),
            timestamp=ts,
            include_timestamp=True,
            reverse=bool(reverse),
            **kw,
        )
        return self.scanners.add(_Prefetched(rows), bool(sort_columns))

    # ---- admin -----------------------------------------------------------------------
    def enableTable(self, tableName: Any) -> None:
        self._conn.enable_table(cv.text(tableName, "table name"))

    def disableTable(self, tableName: Any) -> None:
        self._conn.disable_table(cv.text(tableName, "table name"))

    def isTableEnabled(self, tableName: Any) -> bool:
        return self._conn.is_table_enabled(cv.text(tableName, "table name"))

    def _compact(self, name: Any, major: bool) -> None:
        n = cv.text(name, "table or region name")
        # a region name is "table,startKey,id": Hedgerow compacts the whole table
        table = n.split(b",", 1)[0]
        self._conn.compact_table(table, major=major)

    def compact(self, tableNameOrRegionName: Any) -> None:
        self._compact(tableNameOrRegionName, False)

    def majorCompact(self, tableNameOrRegionName: Any) -> None:
        self._compact(tableNameOrRegionName, True)

    def getTableNames(self) -> list[bytes]:
        return self._conn.tables()

    def getTableNamesWithIsTableEnabled(self) -> dict[bytes, bool]:
        out = {}
        for n in self._conn.tables():
            try:
                out[n] = self._conn.is_table_enabled(n)
            except TableNotFound:  # deleted meanwhile
                continue
        return out

    def getColumnDescriptors(self, tableName: Any) -> dict[bytes, Any]:
        fams = self._table(tableName).families()
        return {
            name + b":": cv.column_descriptor(self._t, name, d) for name, d in sorted(fams.items())
        }

    def _region(self, r: dict[str, Any]) -> Any:
        return self._t.TRegionInfo(
            startKey=r["start_key"],
            endKey=r["end_key"],
            id=r["id"],
            name=r["name"],
            version=r["version"],
            serverName=r["server_name"],
            port=r["port"],
        )

    def getTableRegions(self, tableName: Any) -> list[Any]:
        try:
            regions = self._table(tableName).regions()
        except TableNotFound:
            return []  # HBase: empty list for a missing table
        return [self._region(r) for r in regions]

    def createTable(self, tableName: Any, columnFamilies: Any) -> None:
        name = cv.text(tableName, "table name")
        fams: dict[bytes | str, Mapping[str, Any] | None] = {}
        for cd in columnFamilies or ():
            fname, opts = cv.family_options(cd)
            fams[fname] = opts
        if not fams:
            raise InvalidArgument("a table needs at least one column family")
        self._conn.create_table(name, fams)

    def deleteTable(self, tableName: Any) -> None:
        self._conn.delete_table(cv.text(tableName, "table name"))

    # ---- reading ---------------------------------------------------------------------
    def get(self, tableName: Any, row: Any, column: Any, attributes: Any) -> list[Any]:
        t = self._table(tableName)
        fam, qual = cv.parse_column(column)
        col = fam if qual is None else fam + b":" + qual
        data = t.row(cv.text(row, "row"), columns=[col], include_timestamp=True)
        return cv.tcells(self._t, data.values())

    def getVer(
        self, tableName: Any, row: Any, column: Any, numVersions: Any, attributes: Any
    ) -> list[Any]:
        return self._versions(tableName, row, column, None, numVersions)

    def getVerTs(
        self,
        tableName: Any,
        row: Any,
        column: Any,
        timestamp: Any,
        numVersions: Any,
        attributes: Any,
    ) -> list[Any]:
        return self._versions(tableName, row, column, cv.read_ts(timestamp), numVersions)

    def getRow(self, tableName: Any, row: Any, attributes: Any) -> list[Any]:
        return self._get_row(tableName, row, None, None)

    def getRowWithColumns(
        self, tableName: Any, row: Any, columns: Any, attributes: Any
    ) -> list[Any]:
        return self._get_row(tableName, row, columns, None)

    def getRowTs(self, tableName: Any, row: Any, timestamp: Any, attributes: Any) -> list[Any]:
        return self._get_row(tableName, row, None, cv.read_ts(timestamp))

    def getRowWithColumnsTs(
        self, tableName: Any, row: Any, columns: Any, timestamp: Any, attributes: Any
    ) -> list[Any]:
        return self._get_row(tableName, row, columns, cv.read_ts(timestamp))

    def getRows(self, tableName: Any, rows: Any, attributes: Any) -> list[Any]:
        return self._get_rows(tableName, rows, None, None)

    def getRowsWithColumns(
        self, tableName: Any, rows: Any, columns: Any, attributes: Any
    ) -> list[Any]:
        return self._get_rows(tableName, rows, columns, None)

    def getRowsTs(self, tableName: Any, rows: Any, timestamp: Any, attributes: Any) -> list[Any]:
        return self._get_rows(tableName, rows, None, cv.read_ts(timestamp))

    def getRowsWithColumnsTs(
        self, tableName: Any, rows: Any, columns: Any, timestamp: Any, attributes: Any
    ) -> list[Any]:
        return self._get_rows(tableName, rows, columns, cv.read_ts(timestamp))

    def getRowOrBefore(self, tableName: Any, row: Any, family: Any) -> list[Any]:
        t = self._table(tableName)
        fam, _ = cv.parse_column(family)
        for _, data in t.scan(
            row_start=cv.text(row, "row"),
            reverse=True,
            columns=[fam],
            include_timestamp=True,
            limit=1,
        ):
            return cv.tcells(self._t, data.values())  # type: ignore[union-attr]
        return []

    def getRegionInfo(self, row: Any) -> Any:
        """Region of a meta row key ``table,row,99999999999999`` (what HBase clients send)."""
        key = cv.text(row, "row")
        table, sep, rest = key.partition(b",")
        if not sep or not table:
            raise InvalidArgument(
                f"cannot find row in hbase:meta, row={key!r}: expected 'table,row,suffix'"
            )
        user_row, sep2, suffix = rest.rpartition(b",")
        if not sep2:
            user_row = rest
        regions = self._table(table).regions()
        chosen = None
        for r in regions:  # in key order: the last region starting at or before the row
            if r["start_key"] <= user_row:
                chosen = r
        if chosen is None:
            raise InvalidArgument(f"cannot find row in hbase:meta, row={key!r}")
        return self._region(chosen)

    # ---- writing ---------------------------------------------------------------------
    def mutateRow(self, tableName: Any, row: Any, mutations: Any, attributes: Any) -> None:
        self.mutateRowTs(tableName, row, mutations, None, attributes)

    def mutateRowTs(
        self, tableName: Any, row: Any, mutations: Any, timestamp: Any, attributes: Any
    ) -> None:
        """Deletes, then puts, at ``timestamp`` (HBase's order; a put with a bare family is
        ignored, as HBase does with a warning)."""
        t = self._table(tableName)
        r = cv.text(row, "row")
        ts = cv.write_ts(timestamp)
        deletes: list[bytes] = []
        puts: dict[bytes | str, bytes | str] = {}
        dels_m, puts_m = [], []
        for m in mutations or ():
            fam, qual = cv.parse_column(m.column)
            if m.isDelete:
                deletes.append(fam if qual is None else fam + b":" + qual)
                dels_m.append(m)
            elif qual is not None:
                puts[fam + b":" + qual] = b"" if m.value is None else cv.text(m.value, "value")
                puts_m.append(m)
        if deletes:
            t.delete(r, deletes, timestamp=ts, wal=_wal(dels_m))
        if puts:
            t.put(r, puts, timestamp=ts, wal=_wal(puts_m))

    def mutateRows(self, tableName: Any, rowBatches: Any, attributes: Any) -> None:
        self.mutateRowsTs(tableName, rowBatches, None, attributes)

    def mutateRowsTs(
        self, tableName: Any, rowBatches: Any, timestamp: Any, attributes: Any
    ) -> None:
        """All rows' puts as one batch, then all deletes (HBase's order)."""
        t = self._table(tableName)
        ts = cv.write_ts(timestamp)
        puts: list[tuple[bytes, dict[bytes | str, bytes | str], bool]] = []
        deletes: list[tuple[bytes, list[bytes], bool]] = []
        for bm in rowBatches or ():
            r = cv.text(bm.row, "row")
            p: dict[bytes | str, bytes | str] = {}
            d: list[bytes] = []
            pw = dw = True
            for m in bm.mutations or ():
                fam, qual = cv.parse_column(m.column)
                if m.isDelete:
                    d.append(fam if qual is None else fam + b":" + qual)
                    dw = dw and m.writeToWAL is not False
                else:
                    if qual is None:
                        raise InvalidArgument(
                            f"Invalid famAndQf provided: put to {fam!r} needs 'family:qualifier'"
                        )
                    p[fam + b":" + qual] = b"" if m.value is None else cv.text(m.value, "value")
                    pw = pw and m.writeToWAL is not False
            if p:
                puts.append((r, p, pw))
            if d:
                deletes.append((r, d, dw))
        if puts:
            with t.batch(timestamp=ts, wal=all(w for _, _, w in puts)) as b:
                for r, p, _ in puts:
                    b.put(r, p)
        if deletes:
            with t.batch(timestamp=ts, wal=all(w for _, _, w in deletes)) as b:
                for r, d, _ in deletes:
                    b.delete(r, d)

    def atomicIncrement(self, tableName: Any, row: Any, column: Any, value: Any) -> int:
        col = cv.full_column(column)
        return self._table(tableName).increment(cv.text(row, "row"), {col: value})[col]

    def deleteAll(self, tableName: Any, row: Any, column: Any, attributes: Any) -> None:
        self.deleteAllTs(tableName, row, column, None, attributes)

    def deleteAllTs(
        self, tableName: Any, row: Any, column: Any, timestamp: Any, attributes: Any
    ) -> None:
        fam, qual = cv.parse_column(column)
        col = fam if qual is None else fam + b":" + qual
        self._table(tableName).delete(cv.text(row, "row"), [col], timestamp=cv.write_ts(timestamp))

    def deleteAllRow(self, tableName: Any, row: Any, attributes: Any) -> None:
        self.deleteAllRowTs(tableName, row, None, attributes)

    def deleteAllRowTs(self, tableName: Any, row: Any, timestamp: Any, attributes: Any) -> None:
        self._table(tableName).delete(cv.text(row, "row"), timestamp=cv.write_ts(timestamp))

    def increment(self, increment: Any) -> None:
        if increment is None or not increment.table or not increment.row:
            raise InvalidArgument("Must supply a table and a row key; can't increment")
        col = cv.full_column(increment.column)
        amount = 0 if increment.ammount is None else increment.ammount
        self._table(increment.table).increment(cv.text(increment.row, "row"), {col: amount})

    def incrementRows(self, increments: Any) -> None:
        for inc in increments or ():
            self.increment(inc)

    def append(self, append: Any) -> list[Any]:
        """Append; the returned cells' timestamps are read back right after (see docs)."""
        if append is None or not append.table or not append.row:
            raise InvalidArgument("Must supply a table and a row key; can't append")
        cols, vals = list(append.columns or ()), list(append.values or ())
        if len(cols) != len(vals):
            raise InvalidArgument(f"append has {len(cols)} columns but {len(vals)} values")
        t = self._table(append.table)
        r = cv.text(append.row, "row")
        suffixes: dict[bytes | str, bytes | str] = {
            cv.full_column(c): cv.text(v, "value") for c, v in zip(cols, vals, strict=True)
        }
        if not suffixes:
            return []
        new = t.append(r, suffixes)
        now = t.row(r, columns=sorted(new), include_timestamp=True)
        out = []
        for col in sorted(new):
            cur = now.get(col)
            ts = cur[1] if cur is not None and cur[0] == new[col] else 0
            out.append((new[col], ts))
        return cv.tcells(self._t, out)

    def checkAndPut(
        self,
        tableName: Any,
        row: Any,
        column: Any,
        value: Any,
        mput: Any,
        attributes: Any,
    ) -> bool:
        if mput is None:
            raise InvalidArgument("checkAndPut needs a mutation (mput)")
        pfam, pqual = cv.parse_column(mput.column)
        if pqual is None:
            raise InvalidArgument(
                f"Invalid famAndQf provided: put to {pfam!r} needs 'family:qualifier'"
            )
        pval = b"" if mput.value is None else cv.text(mput.value, "value")
        t = self._table(tableName)
        return t.check_and_mutate(
            cv.text(row, "row"),
            cv.full_column(column),
            None if value is None else cv.text(value, "value"),
            "=",
            put={pfam + b":" + pqual: pval},
            durability=None if mput.writeToWAL is not False else Durability.SKIP_WAL,
        )

    # ---- scanning --------------------------------------------------------------------
    def scannerOpenWithScan(self, tableName: Any, scan: Any, attributes: Any) -> int:
        s = scan if scan is not None else self._t.TScan()
        return self._open(
            tableName,
            start=s.startRow,
            stop=s.stopRow,
            columns=s.columns,
            ts=cv.read_ts(s.timestamp),
            filter=s.filterString,
            batch=s.batchSize,
            reverse=bool(s.reversed),
            sort_columns=bool(s.sortColumns),
        )

    def scannerOpen(self, tableName: Any, startRow: Any, columns: Any, attributes: Any) -> int:
        return self._open(tableName, start=startRow, columns=columns)

    def scannerOpenWithStop(
        self, tableName: Any, startRow: Any, stopRow: Any, columns: Any, attributes: Any
    ) -> int:
        return self._open(tableName, start=startRow, stop=stopRow, columns=columns)

    def scannerOpenWithPrefix(
        self, tableName: Any, startAndPrefix: Any, columns: Any, attributes: Any
    ) -> int:
        return self._open(tableName, prefix=startAndPrefix, columns=columns)

    def scannerOpenTs(
        self, tableName: Any, startRow: Any, columns: Any, timestamp: Any, attributes: Any
    ) -> int:
        return self._open(tableName, start=startRow, columns=columns, ts=cv.read_ts(timestamp))

    def scannerOpenWithStopTs(
        self,
        tableName: Any,
        startRow: Any,
        stopRow: Any,
        columns: Any,
        timestamp: Any,
        attributes: Any,
    ) -> int:
        return self._open(
            tableName, start=startRow, stop=stopRow, columns=columns, ts=cv.read_ts(timestamp)
        )

    def scannerGetList(self, id: Any, nbRows: Any) -> list[Any]:
        if not isinstance(id, int):
            raise InvalidArgument("scanner ID is invalid")
        s = self.scanners.get(id)
        out: list[Any] = []
        if nbRows is None or nbRows < 1:
            return out
        t = self._t
        with s.lock:
            if s.closed:
                raise InvalidArgument("scanner ID is invalid")
            rows, sort = s.rows, s.sort_columns
            row_result = cv.row_result  # fast path: hoisted out of the loop
            for _ in range(nbRows):
                nxt = next(rows, _END)
                if nxt is _END:
                    break
                out.append(row_result(t, nxt[0], nxt[1], sort))
        self.scanners.touch(s)
        return out

    def scannerGet(self, id: Any) -> list[Any]:
        return self.scannerGetList(id, 1)

    def scannerClose(self, id: Any) -> None:
        if not isinstance(id, int):
            raise InvalidArgument("scanner ID is invalid")
        self.scanners.remove(id)

    # ---- server ----------------------------------------------------------------------
    def getThriftServerType(self) -> int:
        return _THRIFT_SERVER_TYPE_ONE

    def getClusterId(self) -> str:
        return self._cluster_id

    def grant(self, info: Any) -> bool:
        raise HedgerowError("access control (grant) is not supported by Hedgerow")

    def revoke(self, info: Any) -> bool:
        raise HedgerowError("access control (revoke) is not supported by Hedgerow")


_ = log
