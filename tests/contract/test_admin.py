"""Contract: schema changes and region administration, on every connection kind that has them.

Role: the DDL and ``admin()`` behaviour that tests/unit/client/test_aio.py's
``test_ddl_and_admin`` used to check for the asyncio client only. Fixtures: conftest.py.
"""

from __future__ import annotations

import pytest

import hedgerow


@pytest.mark.needs("alter_table", "hedgerow_errors")
def test_alter_table_adds_changes_and_deletes_families(conn: hedgerow.Connection) -> None:
    conn.create_table(b"t", {"cf:": None})
    conn.table("t").put(b"r", {b"cf:a": b"1"})
    conn.alter_table("t", {"cf": {"max_versions": 5}, "cf2": {}})
    fams = conn.table("t").families()
    assert sorted(fams) == [b"cf", b"cf2"]
    assert fams[b"cf"]["max_versions"] == 5
    conn.table("t").put(b"r", {b"cf2:b": b"2"})
    assert conn.table("t").row(b"r") == {b"cf:a": b"1", b"cf2:b": b"2"}
    conn.alter_table("t", delete=["cf2"])
    assert conn.table("t").row(b"r") == {b"cf:a": b"1"}
    with pytest.raises(hedgerow.FamilyNotFound):
        conn.alter_table("t", delete=["cf2"])


@pytest.mark.needs("alter_table", "split_keys")
def test_truncate_table_keeps_families_and_splits(conn: hedgerow.Connection) -> None:
    conn.create_table("t", {"cf": {"max_versions": 2}}, split_keys=[b"m"])
    t = conn.table("t")
    for k in (b"a", b"x"):
        t.put(k, {b"cf:q": k})
    conn.truncate_table("t")
    assert list(t.scan()) == []
    assert [r["start_key"] for r in t.regions()] == [b"", b"m"]
    assert t.families()[b"cf"]["max_versions"] == 2
    t.put(b"b", {b"cf:q": b"b"})
    assert list(t.scan()) == [(b"b", {b"cf:q": b"b"})]


@pytest.mark.needs("admin", "split_keys")
def test_admin_split_and_merge_keep_data(conn: hedgerow.Connection) -> None:
    conn.create_table("t", {"cf": {}}, split_keys=["m"])
    t = conn.table("t")
    for k in (b"a", b"g", b"p", b"x"):
        t.put(k, {b"cf:q": k})
    admin = conn.admin()
    regions = admin.list_regions("t")
    assert [(r["start_key"], r["end_key"]) for r in regions] == [(b"", b"m"), (b"m", b"")]
    left, right = admin.split("t", b"g")
    assert [r["start_key"] for r in admin.list_regions("t")] == [b"", b"g", b"m"]
    assert [k for k, _ in t.scan()] == [b"a", b"g", b"p", b"x"]
    merged = admin.merge("t", left, right)
    regions = admin.list_regions("t")
    assert merged in [r["name"] for r in regions]
    assert [(r["start_key"], r["end_key"]) for r in regions] == [(b"", b"m"), (b"m", b"")]
    assert [k for k, _ in t.scan()] == [b"a", b"g", b"p", b"x"]


@pytest.mark.needs("admin")
def test_admin_describe_status_flush_compact(conn: hedgerow.Connection) -> None:
    conn.create_table("t", {"cf": {"max_versions": 2}})
    t = conn.table("t")
    t.put(b"r", {b"cf:q": b"1"}, timestamp=1)
    t.put(b"r", {b"cf:q": b"2"}, timestamp=2)
    admin = conn.admin()
    desc = admin.describe("t")
    assert desc.name == "t"
    assert desc.families[b"cf"].max_versions == 2
    assert "regions" in admin.status()
    admin.flush("t")
    admin.compact("t")
    admin.major_compact("t")
    assert t.cells(b"r", b"cf:q") == [b"2", b"1"]


def test_compact_table_keeps_data(conn: hedgerow.Connection) -> None:
    conn.create_table("t", {"cf": {"max_versions": 2}})
    t = conn.table("t")
    for ts in (1, 2, 3):
        t.put(b"r", {b"cf:q": b"%d" % ts}, timestamp=ts)
    conn.compact_table("t")
    conn.compact_table("t", major=True)
    assert t.cells(b"r", b"cf:q") == [b"3", b"2"]
    assert list(t.scan()) == [(b"r", {b"cf:q": b"3"})]
