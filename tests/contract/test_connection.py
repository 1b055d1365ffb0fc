"""Contract: the Connection API (tables, DDL, enable/disable, table_prefix, flush, compact).

Role: run on every connection kind by the ``conn``/``make_conn`` fixtures (conftest.py);
moved from tests/unit/client/test_table_api.py and test_aio.py.
"""

from __future__ import annotations

import pytest

import hedgerow

from .conftest import MakeConn


def test_families_shape(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {"max_versions": 3, "time_to_live": 86400}, "cf2:": None})
    fams = conn.table("f").families()
    assert set(fams) == {b"cf", b"cf2"}
    assert fams[b"cf"]["max_versions"] == 3
    assert fams[b"cf"]["time_to_live"] == 86400


@pytest.mark.needs("hedgerow_shapes")
def test_families_names_and_defaults(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {"max_versions": 3, "time_to_live": 86400}, "cf2:": None})
    fams = conn.table("f").families()
    assert fams[b"cf"]["name"] == b"cf"  # happybase: b"cf:"
    # happybase sends Thrift's ColumnDescriptor defaults (max_versions=3) for a bare family
    assert fams[b"cf2"]["max_versions"] == 1
    assert fams[b"cf2"]["time_to_live"] == 2**31 - 1


@pytest.mark.needs("split_keys")
def test_regions_with_split_keys(conn: hedgerow.Connection) -> None:
    conn.create_table("s", {"cf": {}}, split_keys=[b"m", "g"])
    regs = conn.table("s").regions()
    assert [(r["start_key"], r["end_key"]) for r in regs] == [
        (b"", b"g"),
        (b"g", b"m"),
        (b"m", b""),
    ]
    assert all(isinstance(r["name"], bytes) for r in regs)
    # the id is the region's number (HBase: its region id), the name ends with it
    assert [r["id"] for r in regs] == [int(r["name"].rsplit(b",", 1)[1]) for r in regs]
    assert len({r["id"] for r in regs}) == 3
    assert all(isinstance(r["server_name"], bytes) and isinstance(r["port"], int) for r in regs)


def test_tables_returns_bytes(conn: hedgerow.Connection) -> None:
    assert conn.tables() == []
    conn.create_table("b", {"cf": {}})
    conn.create_table(b"a", {"cf": {}})
    assert sorted(conn.tables()) == [b"a", b"b"]


@pytest.mark.needs("hedgerow_shapes")
def test_create_table_bytes_family_names(conn: hedgerow.Connection) -> None:
    conn.create_table(b"a", {b"cf": {}, b"cf2:": None})  # happybase: str names only
    assert set(conn.table("a").families()) == {b"cf", b"cf2"}


def test_enable_disable_is_table_enabled(conn: hedgerow.Connection) -> None:
    conn.create_table("e", {"cf": {}})
    conn.table("e").put(b"r", {b"cf:a": b"1"})
    assert conn.is_table_enabled("e") is True
    conn.disable_table("e")
    assert conn.is_table_enabled("e") is False
    conn.enable_table("e")
    assert conn.is_table_enabled("e") is True
    assert conn.table("e").row(b"r") == {b"cf:a": b"1"}


@pytest.mark.needs("hedgerow_errors")
def test_disabled_table_refuses_reads_and_writes(conn: hedgerow.Connection) -> None:
    conn.create_table("e", {"cf": {}})
    conn.disable_table("e")
    with pytest.raises(hedgerow.TableDisabled, match="'e'"):
        conn.table("e").row(b"r")
    with pytest.raises(hedgerow.TableDisabled):
        conn.table("e").put(b"r", {b"cf:a": b"2"})


@pytest.mark.needs("hedgerow_errors")
def test_delete_enabled_table_raises(conn: hedgerow.Connection) -> None:
    conn.create_table("d", {"cf": {}})
    with pytest.raises(hedgerow.TableEnabled, match="'d'"):
        conn.delete_table("d")
    assert conn.tables() == [b"d"]


def test_delete_table_with_disable(conn: hedgerow.Connection) -> None:
    conn.create_table("d", {"cf": {}})
    conn.delete_table("d", disable=True)
    assert conn.tables() == []


def test_delete_disabled_table(conn: hedgerow.Connection) -> None:
    conn.create_table("d", {"cf": {}})
    conn.disable_table("d")
    conn.delete_table("d")
    assert conn.tables() == []
    # the name can be reused, and the new table starts empty
    conn.create_table("d", {"cf": {}})
    assert list(conn.table("d").scan()) == []


@pytest.mark.needs("hedgerow_errors")
def test_table_not_found(conn: hedgerow.Connection) -> None:
    with pytest.raises(hedgerow.TableNotFound, match="nope"):
        conn.table("nope").row(b"r")
    with pytest.raises(hedgerow.TableNotFound, match="nope"):
        conn.table("nope").put(b"r", {b"cf:a": b"1"})
    with pytest.raises(hedgerow.TableNotFound, match="nope"):
        conn.delete_table("nope", disable=True)
    with pytest.raises(hedgerow.TableNotFound, match="nope"):
        conn.is_table_enabled("nope")
    with pytest.raises(hedgerow.TableNotFound, match="nope"):
        conn.table("nope").families()


@pytest.mark.needs("hedgerow_errors")
def test_table_exists(conn: hedgerow.Connection) -> None:
    conn.create_table("x", {"cf": {}})
    with pytest.raises(hedgerow.TableExists, match="'x'"):
        conn.create_table("x", {"other": {}})
    assert set(conn.table("x").families()) == {b"cf"}


@pytest.mark.needs("hedgerow_errors", "increment")
def test_family_not_found(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.FamilyNotFound, match="zz"):
        table.put(b"r", {b"zz:a": b"1"})
    with pytest.raises(hedgerow.FamilyNotFound, match="zz"):
        table.row(b"r", columns=[b"zz"])
    with pytest.raises(hedgerow.FamilyNotFound, match="zz"):
        list(table.scan(columns=[b"zz:q"]))
    with pytest.raises(hedgerow.FamilyNotFound, match="zz"):
        table.increment(b"r", {b"zz:n": 1})
    assert list(table.scan()) == []


@pytest.mark.needs("flush")
def test_compact_and_flush_keep_data(conn: hedgerow.Connection, table: hedgerow.Table) -> None:
    for i in range(20):
        table.put(b"r%02d" % i, {b"cf:a": b"%d" % i}, timestamp=10)
        table.put(b"r%02d" % i, {b"cf:a": b"%d-new" % i}, timestamp=20)
        if i % 5 == 4:
            conn.flush_table("t")
    expected = {b"r%02d" % i: {b"cf:a": b"%d-new" % i} for i in range(20)}
    conn.compact_table("t")
    assert dict(table.scan()) == expected
    conn.compact_table("t", major=True)
    assert dict(table.scan()) == expected
    assert table.cells(b"r07", b"cf:a") == [b"7-new", b"7"]
    conn.flush_table("t")
    assert dict(table.scan()) == expected


def test_table_prefix(make_conn: MakeConn) -> None:
    c = make_conn(table_prefix="app")
    c.create_table("t", {"cf": {}})
    assert c.tables() == [b"t"]
    c.table("t").put(b"r", {b"cf:a": b"1"})
    assert c.table("app_t", use_prefix=False).row(b"r") == {b"cf:a": b"1"}
    c.close()  # an embedded store takes one connection at a time
    plain = make_conn()
    plain.create_table("other", {"cf": {}})
    assert sorted(plain.tables()) == [b"app_t", b"other"]
    assert plain.table("app_t").row(b"r") == {b"cf:a": b"1"}
    plain.close()
    c = make_conn(table_prefix="app")
    assert c.tables() == [b"t"]  # tables outside the prefix are not listed


def test_table_prefix_custom_separator(make_conn: MakeConn) -> None:
    c = make_conn(table_prefix="app", table_prefix_separator=".")
    c.create_table("t", {"cf": {}})
    assert c.tables() == [b"t"]
    c.close()
    assert make_conn().tables() == [b"app.t"]


@pytest.mark.needs("hedgerow_shapes")
def test_table_name_has_the_prefix(make_conn: MakeConn) -> None:
    c = make_conn(table_prefix="app")
    assert c.table("t").name == "app_t"  # happybase: b"app_t"
    assert c.table("app_x", use_prefix=False).name == "app_x"


@pytest.mark.needs("hedgerow_errors")
def test_create_table_without_families_raises(conn: hedgerow.Connection) -> None:
    with pytest.raises(hedgerow.InvalidArgument):
        conn.create_table("u", {})
    assert conn.tables() == []


def test_families_of_every_happybase_option(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {"max_versions": 7, "in_memory": True, "time_to_live": 60}})
    f = conn.table("f").families()[b"cf"]
    assert (f["max_versions"], f["in_memory"], f["time_to_live"]) == (7, True, 60)


@pytest.mark.known_bug("families_str_values")
def test_families_string_values_are_bytes(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {"compression": "NONE", "bloom_filter_type": "ROW"}})
    f = conn.table("f").families()[b"cf"]
    # happybase's families() gives every string setting as bytes (Thrift strings)
    assert (f["compression"], f["bloom_filter_type"]) == (b"NONE", b"ROW")
