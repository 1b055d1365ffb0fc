"""Acceptance 3 of issue 4: a filter string sent by happybase's ``scan(filter=...)`` returns the
same rows as the same filter through the Python API, for many filters."""

from __future__ import annotations

from typing import Any

import pytest

FILTERS = [
    "PrefixFilter('user1')",
    "KeyOnlyFilter()",
    "FirstKeyOnlyFilter()",
    "ColumnPrefixFilter('na')",
    "MultipleColumnPrefixFilter('age', 'city')",
    "ColumnCountGetFilter(2)",
    "PageFilter(3)",
    "ColumnPaginationFilter(1, 1)",
    "InclusiveStopFilter('user12')",
    "TimestampsFilter(1000, 1002)",
    "RowFilter(>=, 'binary:user15')",
    "FamilyFilter(=, 'binary:meta')",
    "QualifierFilter(!=, 'binary:age')",
    "ValueFilter(=, 'substring:ON')",
    "ValueFilter(=, 'regexstring:^[0-9]+$')",
    "ColumnRangeFilter('age', true, 'name', false)",
    "SingleColumnValueFilter('info', 'city', =, 'binary:Oslo')",
    "SingleColumnValueFilter('info', 'city', =, 'binary:Oslo', true, true)",
    "SingleColumnValueExcludeFilter('info', 'city', =, 'binary:Lima')",
    "DependentColumnFilter('info', 'age')",
    "PrefixFilter('user1') AND ValueFilter(=, 'binaryprefix:L')",
    "RowFilter(=, 'binary:user03') OR RowFilter(=, 'binary:user17')",
    "SKIP ValueFilter(!=, 'binary:Oslo')",
    "WHILE RowFilter(<, 'binary:user05')",
    "(QualifierFilter(=, 'binary:city') OR QualifierFilter(=, 'binary:tag')) AND KeyOnlyFilter(true)",
]

CITIES = [b"Oslo", b"Lima", b"London", b"Oslo", b"Paris"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: Any) -> Any:
    import happybase

    import hedgerow
    from hedgerow.gateways.thrift import ThriftServer

    conn = hedgerow.connect(str(tmp_path_factory.mktemp("filters")))
    server = ThriftServer(conn, host="127.0.0.1", port=0).start()
    hb = happybase.Connection("127.0.0.1", server.address[1])
    hb.create_table("people", {"info": dict(max_versions=3), "meta": dict()})
    t = hb.table("people")
    with t.batch() as b:
        for i in range(20):
            row = b"user%02d" % i
            data = {
                b"info:name": b"name-%d" % i,
                b"info:age": b"%d" % (20 + i),
                b"meta:tag": b"ON" if i % 3 == 0 else b"off",
            }
            if i % 4 != 3:  # some rows lack the city column
                data[b"info:city"] = CITIES[i % 5]
            b.put(row, data)
    for i in range(3):  # explicit timestamps for TimestampsFilter
        t.put(b"user%02d" % (5 + i), {b"meta:ts": b"t%d" % i}, timestamp=1000 + i)
    yield hb, conn.table("people")
    hb.close()
    server.stop()
    conn.close()


@pytest.mark.parametrize("flt", FILTERS)
def test_happybase_filter_matches_python_api(loaded: Any, flt: str) -> None:
    hb, native = loaded
    through_gateway = list(hb.table("people").scan(filter=flt))
    embedded = list(native.scan(filter=flt))
    assert through_gateway == embedded
    assert len(FILTERS) >= 10


def test_filters_are_not_trivial(loaded: Any) -> None:
    """Guard against a gateway that ignores filters: results differ from an unfiltered scan."""
    hb, _ = loaded
    everything = list(hb.table("people").scan())
    differing = sum(list(hb.table("people").scan(filter=f)) != everything for f in FILTERS)
    assert differing == len(FILTERS)
