"""Bad input gets a clear hedgerow error that names the problem, and changes nothing.

Each test checks the exception class, that the message names the offending
thing, and that the table's full contents (raw, every version) are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow

MAX_CELL = 1000


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[hedgerow.Connection]:
    c = hedgerow.connect(str(tmp_path / "db"), background=False, max_cell_bytes=MAX_CELL)
    yield c
    c.close()


@pytest.fixture
def table(conn: hedgerow.Connection) -> hedgerow.Table:
    conn.create_table("t", {"cf": {"max_versions": 3}, "cf2": {}}, split_keys=[b"m"])
    t = conn.table("t")
    t.put(b"a", {b"cf:q": b"1", b"cf2:q": b"2"}, timestamp=10)
    t.put(b"z", {b"cf:q": b"3"}, timestamp=10)
    return t


def everything(t: hedgerow.Table) -> list[Any]:
    """Every cell and marker of the table, every version (raw scan)."""
    return [
        (row, [(c.family, c.qualifier, c.timestamp, c.type, c.value) for c in cells])
        for row, cells in t.scan(raw=True, max_versions=100)
    ]


@pytest.fixture
def unchanged(table: hedgerow.Table) -> Iterator[None]:
    before = everything(table)
    assert len(before) == 2
    yield
    assert everything(table) == before


# ---- row keys -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_empty_row_key(table: hedgerow.Table) -> None:
    for call in (
        lambda: table.put(b"", {b"cf:q": b"v"}),
        lambda: table.put("", {b"cf:q": b"v"}),
        lambda: table.delete(b""),
        lambda: table.row(b""),
        lambda: table.cells(b"", b"cf:q"),
        lambda: table.rows([b"a", b""]),
        lambda: table.increment(b"", {b"cf:n": 1}),
        lambda: table.append(b"", {b"cf:q": b"x"}),
        lambda: table.check_and_mutate(b"", b"cf:q", None, put={b"cf:q": b"v"}),
        lambda: table.batch().put(b"", {b"cf:q": b"v"}),
    ):
        with pytest.raises(hedgerow.KeyTooLarge, match="empty"):
            call()


@pytest.mark.usefixtures("unchanged")
def test_row_key_over_limit(table: hedgerow.Table) -> None:
    big = b"k" * 32768
    with pytest.raises(hedgerow.KeyTooLarge, match="32768 bytes.*32767"):
        table.put(big, {b"cf:q": b"v"})
    with pytest.raises(hedgerow.KeyTooLarge, match="32768"):
        table.row(big)
    # a batch rejects the key when it is added, before anything is sent
    with pytest.raises(hedgerow.KeyTooLarge, match="32768"), table.batch(transaction=True) as b:
        b.put(b"b", {b"cf:q": b"v"})
        b.put(big, {b"cf:q": b"v"})


def test_row_key_at_limit_works(table: hedgerow.Table) -> None:
    key = b"k" * 32767
    table.put(key, {b"cf:q": b"v"})
    assert table.row(key) == {b"cf:q": b"v"}
    assert [k for k, _ in table.scan(row_prefix=b"k")] == [key]


@pytest.mark.usefixtures("unchanged")
def test_row_key_wrong_type(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="row must be bytes or str, got int"):
        table.put(5, {b"cf:q": b"v"})  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument, match="got NoneType"):
        table.row(None)  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument, match="single key"):
        table.rows(b"ab")


# ---- values -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_value_over_max_cell_bytes(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.CellTooLarge, match=r"cf:big.*1001 bytes.*1000 bytes"):
        table.put(b"b", {b"cf:ok": b"x", b"cf:big": b"x" * (MAX_CELL + 1)})
    with pytest.raises(hedgerow.CellTooLarge, match="cf:big"), table.batch() as b:
        b.put(b"b", {b"cf:ok": b"x"})
        b.put(b"y", {b"cf:big": b"x" * (MAX_CELL + 1)})


@pytest.mark.usefixtures("unchanged")
def test_append_over_max_cell_bytes(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.CellTooLarge, match="cf:q"):
        table.append(b"a", {b"cf:q": b"x" * MAX_CELL})  # b"1" + 1000 bytes


def test_value_at_max_cell_bytes_works(table: hedgerow.Table) -> None:
    table.put(b"b", {b"cf:q": b"x" * MAX_CELL})
    assert table.row(b"b") == {b"cf:q": b"x" * MAX_CELL}


@pytest.mark.usefixtures("unchanged")
def test_non_bytes_values(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match=r"value of b'cf:q'.*int"):
        table.put(b"b", {b"cf:ok": b"1", b"cf:q": 5})  # type: ignore[dict-item]
    with pytest.raises(hedgerow.InvalidArgument, match="NoneType"):
        table.put(b"b", {b"cf:q": None})  # type: ignore[dict-item]
    with pytest.raises(hedgerow.InvalidArgument, match="mapping"):
        table.put(b"b", [(b"cf:q", b"v")])  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument, match="value of b'cf:q'"):
        table.append(b"a", {b"cf:q": 3})  # type: ignore[dict-item]
    with pytest.raises(hedgerow.InvalidArgument, match="must be an int"):
        table.increment(b"a", {b"cf:n": b"1"})  # type: ignore[dict-item]
    with pytest.raises(hedgerow.InvalidArgument, match="must be an int"):
        table.increment(b"a", {b"cf:n": True})
    with pytest.raises(hedgerow.InvalidArgument, match="64 bits"):
        table.increment(b"a", {b"cf:n": 2**63})
    with pytest.raises(hedgerow.InvalidArgument, match="64-bit"):
        table.counter_set(b"a", b"cf:n", 1.5)  # type: ignore[arg-type]


@pytest.mark.usefixtures("unchanged")
def test_increment_of_non_counter(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.NotACounter, match=r"cf:q.*b'a'.*1 bytes"):
        table.counter_inc(b"a", b"cf:q")


# ---- timestamps ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("ts", [-1, True, 1.5, "10", 2**63])
def test_bad_write_timestamps(table: hedgerow.Table, ts: Any) -> None:
    for call in (
        lambda: table.put(b"b", {b"cf:q": b"v"}, timestamp=ts),
        lambda: table.delete(b"a", timestamp=ts),
        lambda: table.delete_cell(b"a", b"cf:q", timestamp=ts),
        lambda: table.delete_family_version(b"a", b"cf", ts),
        lambda: table.mutate_row(b"a", put={b"cf:q": b"v"}, timestamp=ts),
        lambda: table.batch(timestamp=ts),
        lambda: table.scan(time_range=(ts, 100)),
    ):
        with pytest.raises(hedgerow.InvalidArgument, match="timestamp"):
            call()


@pytest.mark.parametrize("ts", [-1, True, 1.5, "10"])
def test_bad_read_timestamps(table: hedgerow.Table, ts: Any) -> None:
    for call in (
        lambda: table.row(b"a", timestamp=ts),
        lambda: table.rows([b"a"], timestamp=ts),
        lambda: table.cells(b"a", b"cf:q", timestamp=ts),
        lambda: table.scan(timestamp=ts),
        lambda: table.scan(time_range=(0, ts)),
    ):
        with pytest.raises(hedgerow.InvalidArgument, match="timestamp"):
            call()


# ---- columns and families -----------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_bad_column_names(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match=r"b'cf'.*family:qualifier"):
        table.put(b"b", {b"cf": b"v"})
    with pytest.raises(hedgerow.InvalidArgument, match="empty family"):
        table.put(b"b", {b":q": b"v"})
    with pytest.raises(hedgerow.InvalidArgument, match="empty family"):
        table.row(b"a", columns=[b":q"])
    with pytest.raises(hedgerow.InvalidArgument, match="family:qualifier"):
        table.cells(b"a", b"cf")
    with pytest.raises(hedgerow.InvalidArgument, match="family:qualifier"):
        table.increment(b"a", {b"cf": 1})
    with pytest.raises(hedgerow.InvalidArgument, match="column must be bytes or str, got int"):
        table.put(b"b", {7: b"v"})  # type: ignore[dict-item]
    with pytest.raises(hedgerow.InvalidArgument, match="list of column names"):
        table.row(b"a", columns=b"cf:q")
    with pytest.raises(hedgerow.InvalidArgument, match="list of column names"):
        table.delete(b"a", columns="cf")
    with pytest.raises(hedgerow.InvalidArgument, match="not be empty"):
        table.row(b"a", columns=[])


@pytest.mark.usefixtures("unchanged")
def test_unknown_family(table: hedgerow.Table) -> None:
    for call in (
        lambda: table.put(b"b", {b"cf:q": b"v", b"nope:q": b"v"}),
        lambda: table.delete(b"a", columns=[b"nope"]),
        lambda: table.delete(b"a", columns=[b"cf:q", b"nope:q"]),
        lambda: table.delete_cell(b"a", b"nope:q"),
        lambda: table.delete_family_version(b"a", b"nope", 10),
        lambda: table.mutate_row(b"a", put={b"nope:q": b"v"}, delete=[b"cf:q"]),
        lambda: table.increment(b"a", {b"cf:n": 1, b"nope:n": 1}),
        lambda: table.append(b"a", {b"nope:q": b"x"}),
        lambda: table.check_and_mutate(b"a", b"nope:q", None, put={b"cf:q": b"v"}),
        lambda: table.check_and_mutate(b"a", b"cf:q", b"1", put={b"nope:q": b"v"}),
        lambda: table.row(b"a", columns=[b"nope"]),
        lambda: table.cells(b"a", b"nope:q"),
        lambda: list(table.scan(columns=[b"nope:q"])),
    ):
        with pytest.raises(hedgerow.FamilyNotFound, match="'nope'.*'t'"):
            call()


@pytest.mark.usefixtures("unchanged")
def test_batch_with_one_bad_family_writes_nothing(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.FamilyNotFound, match="nope"), table.batch() as b:
        b.put(b"b", {b"cf:q": b"ok"})  # region 1 (< b"m")
        b.put(b"c", {b"cf2:q": b"ok"})
        b.delete(b"a")
        b.put(b"x", {b"nope:q": b"bad"})  # region 2
        b.put(b"y", {b"cf:q": b"ok"})
    # the same with the bad row in the first region
    with pytest.raises(hedgerow.FamilyNotFound, match="nope"), table.batch() as b:
        b.put(b"b", {b"nope:q": b"bad"})
        b.put(b"y", {b"cf:q": b"ok"})
        b.delete(b"z")


# ---- DDL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("families", "pattern"),
    [
        ({"cf": {"max_verisons": 3}}, "unknown column family option 'max_verisons'"),
        ({"cf": {"max_versions": 2, "min_versions": 3}}, r"min_versions \(3\).*max_versions \(2\)"),
        ({"cf": {"compression": "gzip"}}, "unknown compression 'gzip'"),
        ({"cf": {"compression": 5}}, "compression must be a string"),
        ({"cf": {"max_versions": 0}}, "max_versions must be >= 1"),
        ({"cf": {"max_versions": "many"}}, "max_versions must be an integer"),
        ({"cf": {"time_to_live": 0}}, "time_to_live must be positive"),
        ({"cf": {"bloom_filter_type": "HUGE"}}, "unknown bloom_filter_type 'HUGE'"),
        ({"cf": {"in_memory": "maybe"}}, "in_memory must be a boolean"),
        ({"cf": {"block_size": 10}}, "block_size"),
        ({"cf": []}, "options of family 'cf' must be a mapping"),
        ({"c:f": {}}, "illegal column family name"),
        ({".cf": {}}, "illegal column family name"),
        ({"": {}}, "non-empty"),
        ({}, "non-empty mapping"),
        ({5: {}}, "column family name must be str or bytes"),
    ],
)
def test_bad_family_options(conn: hedgerow.Connection, families: Any, pattern: str) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match=pattern):
        conn.create_table("bad", families)
    assert conn.tables() == []


@pytest.mark.parametrize("name", ["", "a b", "x/y", "-x", "a" * 256, "tbl\n", b"\xff\xfe"])
def test_bad_table_names(conn: hedgerow.Connection, name: Any) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="table name"):
        conn.create_table(name, {"cf": {}})
    assert conn.tables() == []
    with pytest.raises(hedgerow.InvalidArgument, match="table name"):
        conn.table(name)


def test_table_name_wrong_type(conn: hedgerow.Connection) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="table name must be str or bytes, got int"):
        conn.table(5)  # type: ignore[arg-type]


def test_bad_split_keys(conn: hedgerow.Connection) -> None:
    with pytest.raises(hedgerow.KeyTooLarge, match="empty"):
        conn.create_table("s", {"cf": {}}, split_keys=[b"m", b""])
    assert conn.tables() == []


# ---- connect ------------------------------------------------------------------------------------


def test_unknown_engine_option(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with pytest.raises(hedgerow.InvalidArgument, match="unknown engine option 'flush_sise_bytes'"):
        hedgerow.connect(path, flush_sise_bytes=1 << 20)
    with pytest.raises(hedgerow.InvalidArgument, match="flush_size_bytes must be >= 1024"):
        hedgerow.connect(path, flush_size_bytes=10)
    # nothing was left locked
    hedgerow.connect(path).close()


@pytest.mark.parametrize(
    ("url", "options", "match"),
    [
        ("hedgerow://", {}, "hedgerow://HOST:PORT"),
        ("hedgerow://host/path", {}, "hedgerow://HOST:PORT"),
        ("hedgerow://host:notaport", {}, "bad port"),
        ("hedgerow://localhost:1", {"flush_size_bytes": 1 << 20}, "flush_size_bytes"),
    ],
)
def test_bad_network_urls(url: str, options: dict[str, Any], match: str) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match=match):
        hedgerow.connect(url, **options)


# ---- filters and scan options -------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_malformed_filter_string(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.FilterSyntaxError, match="position"):
        table.scan(filter="ValueFilter(=, 'binary:1'")
    with pytest.raises(hedgerow.FilterSyntaxError):
        table.scan(filter="NoSuchFilter()")
    with pytest.raises(hedgerow.FilterSyntaxError):
        table.scan(filter=b"ValueFilter(=, 'binary:1') AND")


@pytest.mark.usefixtures("unchanged")
def test_filter_of_wrong_type(table: hedgerow.Table) -> None:
    with pytest.raises(
        hedgerow.InvalidArgument, match="filter must be a filter string or a Filter"
    ):
        table.scan(filter=42)
    with pytest.raises(hedgerow.InvalidArgument, match="got dict"):
        table.scan(filter={"type": "ValueFilter"})


@pytest.mark.usefixtures("unchanged")
def test_bad_scan_options(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="limit"):
        table.scan(limit=0)
    with pytest.raises(hedgerow.InvalidArgument, match="max_versions"):
        table.scan(max_versions=0)
    with pytest.raises(hedgerow.InvalidArgument, match="row_start must be bytes or str"):
        table.scan(row_start=5)  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument, match="durability"):
        table.put(b"b", {b"cf:q": b"v"}, durability="SYNC")  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument, match="only be checked with"):
        table.check_and_mutate(b"a", b"cf:q", None, "<", put={b"cf:q": b"v"})


# ---- closed -------------------------------------------------------------------------------------


def test_every_call_after_close_raises_closed(tmp_path: Path) -> None:
    c = hedgerow.connect(str(tmp_path / "db"), background=False)
    c.create_table("t", {"cf": {}})
    t = c.table("t")
    t.put(b"a", {b"cf:q": b"1"})
    b = t.batch()
    b.put(b"b", {b"cf:q": b"2"})
    c.close()
    c.close()  # idempotent
    calls = [
        lambda: c.tables(),
        lambda: c.table("t"),
        lambda: c.create_table("u", {"cf": {}}),
        lambda: c.delete_table("t", disable=True),
        lambda: c.enable_table("t"),
        lambda: c.disable_table("t"),
        lambda: c.is_table_enabled("t"),
        lambda: c.compact_table("t"),
        lambda: c.flush_table("t"),
        lambda: c.open(),
        lambda: t.row(b"a"),
        lambda: t.rows([b"a"]),
        lambda: t.cells(b"a", b"cf:q"),
        lambda: list(t.scan()),
        lambda: t.put(b"a", {b"cf:q": b"x"}),
        lambda: t.delete(b"a"),
        lambda: t.delete_cell(b"a", b"cf:q"),
        lambda: t.delete_family_version(b"a", b"cf", 1),
        lambda: t.mutate_row(b"a", put={b"cf:q": b"x"}),
        lambda: t.increment(b"a", {b"cf:n": 1}),
        lambda: t.append(b"a", {b"cf:q": b"x"}),
        lambda: t.check_and_mutate(b"a", b"cf:q", None, put={b"cf:q": b"x"}),
        lambda: t.counter_get(b"a", b"cf:n"),
        lambda: t.families(),
        lambda: t.regions(),
        lambda: b.send(),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(hedgerow.ClosedError):
            call()
            pytest.fail(f"call #{i} did not raise")
    assert "closed" in repr(c)
    # and the data written before close is there
    with hedgerow.connect(str(tmp_path / "db")) as c2:
        assert list(c2.table("t").scan()) == [(b"a", {b"cf:q": b"1"})]
