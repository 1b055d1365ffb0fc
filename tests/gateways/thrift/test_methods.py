"""Acceptance 2 of issue 4: every Thrift1 method happybase does not call, through a thriftpy2
client, over buffered+binary, framed+compact and buffered+compact; plus errors."""

from __future__ import annotations

import struct
from typing import Any

import pytest

LATEST = 2**63 - 1


def _setup(gw: Any, T: Any) -> Any:
    c = gw.client()
    c.createTable(
        b"t", [T.ColumnDescriptor(name=b"cf:", maxVersions=5), T.ColumnDescriptor(name=b"cg")]
    )
    return c


def _put(c: Any, T: Any, row: bytes, cols: dict[bytes, bytes], ts: int | None = None) -> None:
    muts = [T.Mutation(column=k, value=v) for k, v in cols.items()]
    if ts is None:
        c.mutateRow(b"t", row, muts, {})
    else:
        c.mutateRowTs(b"t", row, muts, ts, {})


def _cols(results: list[Any]) -> list[tuple[bytes, dict[bytes, bytes]]]:
    return [(r.row, {k: v.value for k, v in r.columns.items()}) for r in results]


def test_get_and_versions(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    for ts in (10, 20, 30):
        _put(c, T, b"r", {b"cf:a": b"v%d" % ts, b"cf:b": b"w%d" % ts}, ts)
    assert [(x.value, x.timestamp) for x in c.get(b"t", b"r", b"cf:a", {})] == [(b"v30", 30)]
    assert [x.value for x in c.get(b"t", b"r", b"cf", {})] == [b"v30", b"w30"]
    assert c.get(b"t", b"missing", b"cf:a", {}) == []
    assert [x.timestamp for x in c.getVer(b"t", b"r", b"cf:a", 2, {})] == [30, 20]
    # a bare family: every column, up to n versions each
    assert [x.value for x in c.getVer(b"t", b"r", b"cf", 2, {})] == [b"v30", b"v20", b"w30", b"w20"]
    # getVerTs: [0, ts) as HBase's code does
    assert [x.timestamp for x in c.getVerTs(b"t", b"r", b"cf:a", 30, 5, {})] == [20, 10]
    assert [x.timestamp for x in c.getVerTs(b"t", b"r", b"cf", 20, 1, {})] == [10, 10]
    with pytest.raises(T.IOError):
        c.getVer(b"t", b"r", b"cf:a", 0, {})


def test_row_reads(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    _put(c, T, b"r1", {b"cf:a": b"old", b"cg:x": b"x"}, 5)
    _put(c, T, b"r1", {b"cf:a": b"new"}, 50)
    _put(c, T, b"r2", {b"cf:a": b"2"}, 7)
    assert _cols(c.getRow(b"t", b"r1", {})) == [(b"r1", {b"cf:a": b"new", b"cg:x": b"x"})]
    assert c.getRow(b"t", b"nope", {}) == []
    assert _cols(c.getRowTs(b"t", b"r1", 50, {})) == [(b"r1", {b"cf:a": b"old", b"cg:x": b"x"})]
    assert _cols(c.getRowWithColumns(b"t", b"r1", [b"cg"], {})) == [(b"r1", {b"cg:x": b"x"})]
    got = c.getRows(b"t", [b"r2", b"nope", b"r1"], {})
    assert [r.row for r in got] == [b"r2", b"r1"]
    assert _cols(c.getRowsTs(b"t", [b"r1", b"r2"], 6, {})) == [
        (b"r1", {b"cf:a": b"old", b"cg:x": b"x"})
    ]


def test_mutate_and_delete(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    _put(c, T, b"r", {b"cf:a": b"1", b"cf:b": b"2", b"cg:x": b"3"}, 100)
    # mutateRowTs: deletes first, then puts, all at the timestamp
    c.mutateRowTs(
        b"t",
        b"r",
        [T.Mutation(isDelete=True, column=b"cf:b"), T.Mutation(column=b"cf:c", value=b"9")],
        200,
        {},
    )
    assert _cols(c.getRow(b"t", b"r", {})) == [
        (b"r", {b"cf:a": b"1", b"cf:c": b"9", b"cg:x": b"3"})
    ]
    # a put with a bare family is ignored by mutateRow (HBase warns) ...
    c.mutateRow(b"t", b"r", [T.Mutation(column=b"cf", value=b"zz")], {})
    # ... and rejected by mutateRows
    with pytest.raises(T.IllegalArgument):
        c.mutateRows(
            b"t", [T.BatchMutation(row=b"r", mutations=[T.Mutation(column=b"cf", value=b"z")])], {}
        )
    c.deleteAllTs(b"t", b"r", b"cf:a", 99, {})  # older than the cell: no effect
    assert c.get(b"t", b"r", b"cf:a", {})[0].value == b"1"
    c.deleteAll(b"t", b"r", b"cf:a", {})
    assert c.get(b"t", b"r", b"cf:a", {}) == []
    c.deleteAll(b"t", b"r", b"cg", {})  # a whole family
    assert _cols(c.getRow(b"t", b"r", {})) == [(b"r", {b"cf:c": b"9"})]
    _put(c, T, b"r", {b"cf:d": b"late"}, 500)
    c.deleteAllRowTs(b"t", b"r", 300, {})  # keeps the cell at 500
    assert _cols(c.getRow(b"t", b"r", {})) == [(b"r", {b"cf:d": b"late"})]
    c.deleteAllRow(b"t", b"r", {})
    assert c.getRow(b"t", b"r", {}) == []
    with pytest.raises(T.IllegalArgument):  # empty row key
        c.mutateRow(b"t", b"", [T.Mutation(column=b"cf:a", value=b"1")], {})


def test_increment_append_check_and_put(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    c.increment(T.TIncrement(table=b"t", row=b"r", column=b"cf:n", ammount=5))
    c.incrementRows([T.TIncrement(table=b"t", row=b"r", column=b"cf:n", ammount=2)] * 3)
    assert c.get(b"t", b"r", b"cf:n", {})[0].value == struct.pack(">q", 11)
    assert c.atomicIncrement(b"t", b"r", b"cf", 3) == 3  # bare family: empty qualifier
    assert c.get(b"t", b"r", b"cf:", {})[0].value == struct.pack(">q", 3)
    with pytest.raises(T.IOError, match="Must supply a table and a row key"):
        c.increment(T.TIncrement(table=b"t", row=b"", column=b"cf:n", ammount=1))
    _put(c, T, b"r", {b"cf:s": b"ab"})
    cells = c.append(
        T.TAppend(table=b"t", row=b"r", columns=[b"cf:s", b"cf:u"], values=[b"cd", b"x"])
    )
    assert [x.value for x in cells] == [b"abcd", b"x"] and all(x.timestamp > 0 for x in cells)
    put = T.Mutation(column=b"cf:s", value=b"new")
    assert c.checkAndPut(b"t", b"r", b"cf:s", b"nope", put, {}) is False
    assert c.checkAndPut(b"t", b"r", b"cf:s", b"abcd", put, {}) is True
    assert c.get(b"t", b"r", b"cf:s", {})[0].value == b"new"
    # value omitted: "the column does not exist"
    assert c.checkAndPut(b"t", b"r", b"cf:z", None, T.Mutation(column=b"cf:z", value=b"1"), {})
    assert not c.checkAndPut(b"t", b"r", b"cf:z", None, T.Mutation(column=b"cf:z", value=b"2"), {})
    with pytest.raises(T.IllegalArgument):
        c.checkAndPut(b"t", b"r", b"cf:z", None, T.Mutation(column=b"cf", value=b"2"), {})


def _drain(c: Any, sid: int, n: int = 100) -> list[Any]:
    out = []
    while True:
        got = c.scannerGetList(sid, n)
        if not got:
            break
        out.extend(got)
    c.scannerClose(sid)
    return out


def test_scanner_variants(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    for i in range(10):
        _put(c, T, b"row%d" % i, {b"cf:a": b"%d" % i, b"cg:b": b"b"}, 10 + i)
    sid = c.scannerOpen(b"t", b"row7", [b"cg"], {})
    assert [r.row for r in _drain(c, sid)] == [b"row7", b"row8", b"row9"]
    sid = c.scannerOpenWithStop(b"t", b"row2", b"row4", [], {})
    assert _cols(_drain(c, sid)) == [
        (b"row2", {b"cf:a": b"2", b"cg:b": b"b"}),
        (b"row3", {b"cf:a": b"3", b"cg:b": b"b"}),
    ]
    _put(c, T, b"other", {b"cf:a": b"o"})
    sid = c.scannerOpenWithPrefix(b"t", b"row", [b"cf:a"], {})
    assert len(_drain(c, sid)) == 10
    sid = c.scannerOpenTs(b"t", b"", [], 13, {})  # cells with ts < 13: row0..row2
    assert [r.row for r in _drain(c, sid)] == [b"row0", b"row1", b"row2"]
    sid = c.scannerOpenWithStopTs(b"t", b"row1", b"row5", [b"cf"], 13, {})
    assert [r.row for r in _drain(c, sid)] == [b"row1", b"row2"]
    sid = c.scannerOpen(b"t", b"", None, {})
    first = c.scannerGet(sid)
    assert [r.row for r in first] == [b"other"]
    assert [r.row for r in c.scannerGet(sid)] == [b"row0"]
    c.scannerClose(sid)
    with pytest.raises(T.IllegalArgument, match="scanner ID is invalid"):
        c.scannerGet(sid)
    with pytest.raises(T.IllegalArgument):
        c.scannerClose(12345)


def test_scanner_open_with_scan_options(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    for i in range(5):
        _put(c, T, b"r%d" % i, {b"cf:b": b"2", b"cf:a": b"1", b"cg:z": b"%d" % i}, 100)
    # reversed, from the table end
    sid = c.scannerOpenWithScan(b"t", T.TScan(startRow=b"", reversed=True, caching=2), {})
    assert [r.row for r in _drain(c, sid, 2)] == [b"r4", b"r3", b"r2", b"r1", b"r0"]
    # reversed with start (high, inclusive) and stop (low, exclusive)
    sid = c.scannerOpenWithScan(b"t", T.TScan(startRow=b"r3", stopRow=b"r1", reversed=True), {})
    assert [r.row for r in _drain(c, sid)] == [b"r3", b"r2"]
    # sortColumns: sortedColumns in column order, columns map unset
    sid = c.scannerOpenWithScan(b"t", T.TScan(startRow=b"r0", stopRow=b"r1", sortColumns=True), {})
    (res,) = _drain(c, sid)
    assert res.columns is None
    assert [x.columnName for x in res.sortedColumns] == [b"cf:a", b"cf:b", b"cg:z"]
    # batchSize: a row comes in chunks of at most that many cells
    sid = c.scannerOpenWithScan(b"t", T.TScan(startRow=b"r0", stopRow=b"r1", batchSize=2), {})
    assert [len(r.columns) for r in _drain(c, sid)] == [2, 1]
    # columns, timestamp and a filter string
    sid = c.scannerOpenWithScan(
        b"t",
        T.TScan(columns=[b"cg:z"], timestamp=101, filterString=b"ValueFilter(>=, 'binary:3')"),
        {},
    )
    assert _cols(_drain(c, sid)) == [(b"r3", {b"cg:z": b"3"}), (b"r4", {b"cg:z": b"4"})]
    sid = c.scannerOpenWithScan(b"t", T.TScan(timestamp=100), {})
    assert _drain(c, sid) == []
    with pytest.raises(T.IOError, match="FilterSyntaxError"):
        c.scannerOpenWithScan(b"t", T.TScan(filterString=b"NoSuchFilter()"), {})
    with pytest.raises(T.IOError, match="FamilyNotFound|does not exist"):
        c.scannerOpenWithScan(b"t", T.TScan(columns=[b"nofam"]), {})


def test_row_or_before_and_region_info(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    _put(c, T, b"b", {b"cf:a": b"B"}, 5)
    _put(c, T, b"d", {b"cg:x": b"D"}, 6)
    assert [(x.value, x.timestamp) for x in c.getRowOrBefore(b"t", b"c", b"cf")] == [(b"B", 5)]
    assert [x.value for x in c.getRowOrBefore(b"t", b"d", b"cf")] == [b"B"]  # d has no cf
    assert [x.value for x in c.getRowOrBefore(b"t", b"zzz", b"cg")] == [b"D"]
    assert c.getRowOrBefore(b"t", b"a", b"cf") == []
    info = c.getRegionInfo(b"t,c,99999999999999")
    (region,) = c.getTableRegions(b"t")
    assert (info.startKey, info.endKey, info.name, info.version) == (
        region.startKey,
        region.endKey,
        region.name,
        1,
    )
    with pytest.raises(T.IOError):
        c.getRegionInfo(b"no-comma")
    with pytest.raises(T.IOError, match="TableNotFound"):
        c.getRegionInfo(b"missing,r,99999999999999")


def test_admin_and_server_methods(gw: Any, T: Any) -> None:
    c = _setup(gw, T)
    assert c.getTableNamesWithIsTableEnabled() == {b"t": True}
    c.disableTable(b"t")
    assert c.getTableNamesWithIsTableEnabled() == {b"t": False}
    with pytest.raises(T.IOError, match="TableDisabled"):
        c.getRow(b"t", b"r", {})
    with pytest.raises(T.IllegalArgument, match="at least one column family"):
        c.createTable(b"t2", [])
    with pytest.raises(T.IllegalArgument):
        c.createTable(b"t2", [T.ColumnDescriptor(name=b":")])
    with pytest.raises(T.IllegalArgument, match="compression"):
        c.createTable(b"t2", [T.ColumnDescriptor(name=b"cf", compression="SNAPPY")])
    with pytest.raises(T.AlreadyExists):
        c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    c.enableTable(b"t")
    with pytest.raises(T.IOError, match="TableEnabled"):
        c.deleteTable(b"t")
    c.compact(b"t")
    c.majorCompact(c.getTableRegions(b"t")[0].name)  # a region name compacts its table
    c.createTable(
        b"t3", [T.ColumnDescriptor(name=b"f", maxVersions=2, timeToLive=3600, compression="LZ4")]
    )
    d = c.getColumnDescriptors(b"t3")[b"f:"]
    assert (d.maxVersions, d.timeToLive, d.compression) == (2, 3600, b"LZ4")
    assert c.getTableRegions(b"missing") == []
    with pytest.raises(T.IOError, match="does not exist"):
        c.deleteTable(b"missing")
    assert c.getThriftServerType() == 1
    assert c.getClusterId() == b"hedgerow"
    entity = T.TAccessControlEntity(username="u", scope=0, actions="R", tableName=b"t")
    with pytest.raises(T.IOError, match="not supported"):
        c.grant(entity)
    with pytest.raises(T.IOError, match="not supported"):
        c.revoke(entity)
