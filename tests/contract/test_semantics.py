"""Contract: HBase data-model semantics (delete markers, versions, KEEP_DELETED_CELLS).

Role: the reference's section 6 cases, over flushes and major compactions, on every
connection kind that can express them (conftest.py); moved from
tests/unit/client/test_table_api.py. TTL cases need an injected clock and stay there.
"""

from __future__ import annotations

import pytest

import hedgerow


def test_delete_masks_later_put_with_older_timestamp_until_major_compaction(
    conn: hedgerow.Connection, table: hedgerow.Table
) -> None:
    table.put(b"r", {b"cf:a": b"v100"}, timestamp=100)
    table.delete(b"r", columns=[b"cf:a"], timestamp=200)
    # written AFTER the delete, but with an older timestamp: masked (HBASE-2256)
    table.put(b"r", {b"cf:a": b"v150"}, timestamp=150)
    assert table.row(b"r") == {}
    # A put newer than the marker is visible.
    table.put(b"r", {b"cf:a": b"v300"}, timestamp=300)
    assert table.cells(b"r", b"cf:a") == [b"v300"]
    # Major compaction drops the marker together with the puts it masks (v100 and
    # v150 are gone for good, as in HBase), so the result does not change ...
    conn.compact_table("t", major=True)
    assert table.cells(b"r", b"cf:a") == [b"v300"]
    # ... but a put with an old timestamp written AFTER the compaction is no longer
    # masked: the marker that would have hidden it is gone.
    table.put(b"r", {b"cf:a": b"v150-again"}, timestamp=150)
    assert table.cells(b"r", b"cf:a") == [b"v300", b"v150-again"]


@pytest.mark.needs("flush", "scan_extras")
def test_delete_marker_masks_from_store_files_and_major_compaction_drops_it(
    conn: hedgerow.Connection, table: hedgerow.Table
) -> None:
    table.put(b"r", {b"cf:a": b"v100"}, timestamp=100)
    table.delete(b"r", columns=[b"cf:a"], timestamp=200)
    table.put(b"r", {b"cf:a": b"v150"}, timestamp=150)
    conn.flush_table("t")
    assert table.row(b"r") == {}
    table.put(b"r", {b"cf:a": b"v300"}, timestamp=300)
    conn.compact_table("t", major=True)
    assert table.cells(b"r", b"cf:a") == [b"v300"]
    assert [c.type for _, cells in table.scan(raw=True, max_versions=3) for c in cells] == [
        hedgerow.KeyType.PUT
    ]


@pytest.mark.needs("flush", "delete_cell")
def test_versions_beyond_max_reappear_after_delete_until_major_compaction(
    conn: hedgerow.Connection,
) -> None:
    conn.create_table("v", {"cf": {"max_versions": 1}})
    t = conn.table("v")
    for ts in (1, 2, 3):
        t.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    conn.flush_table("v")
    assert t.cells(b"r", b"cf:a") == [b"v3"]
    t.delete_cell(b"r", b"cf:a", timestamp=3)
    # before a major compaction, the older version (beyond VERSIONS=1) reappears
    assert t.row(b"r") == {b"cf:a": b"v2"}


@pytest.mark.needs("delete_cell")
def test_versions_beyond_max_do_not_reappear_after_major_compaction(
    conn: hedgerow.Connection,
) -> None:
    conn.create_table("v", {"cf": {"max_versions": 1}})
    t = conn.table("v")
    for ts in (1, 2, 3):
        t.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    conn.compact_table("v", major=True)
    t.delete_cell(b"r", b"cf:a", timestamp=3)
    assert t.row(b"r") == {}


@pytest.mark.needs("family_options", "scan_extras")
def test_keep_deleted_cells_time_range_read_before_delete(conn: hedgerow.Connection) -> None:
    conn.create_table("k", {"cf": {"keep_deleted_cells": True, "max_versions": 3}, "n": {}})
    t = conn.table("k")
    t.put(b"r", {b"cf:a": b"v10", b"n:a": b"n10"}, timestamp=10)
    t.delete(b"r", timestamp=20)
    assert t.row(b"r") == {}
    # time range ending before the delete sees the deleted cell, only with KEEP_DELETED_CELLS
    assert t.row(b"r", timestamp=15) == {b"cf:a": b"v10"}
    assert list(t.scan(time_range=(0, 15))) == [(b"r", {b"cf:a": b"v10"})]
    # a range that includes the delete does not
    assert list(t.scan(time_range=(0, 21))) == []
    conn.compact_table("k", major=True)
    assert t.row(b"r", timestamp=15) == {b"cf:a": b"v10"}
    assert t.row(b"r") == {}


@pytest.mark.needs("family_options", "scan_extras", "delete_cell")
def test_keep_deleted_cells_with_version_and_column_deletes(conn: hedgerow.Connection) -> None:
    conn.create_table("k", {"cf": {"keep_deleted_cells": True, "max_versions": 3}})
    t = conn.table("k")
    t.put(b"x", {b"cf:a": b"v10"}, timestamp=10)
    t.put(b"x", {b"cf:a": b"v20"}, timestamp=20)
    t.delete_cell(b"x", b"cf:a", timestamp=20)
    t.delete(b"x", [b"cf:a"], timestamp=30)
    assert t.cells(b"x", b"cf:a") == []
    # [0, 25) holds the version delete at 20 (masks v20) but not the column delete at 30
    assert t.row(b"x", timestamp=25) == {b"cf:a": b"v10"}
    # [0, 20) holds neither marker: v10 is the newest visible version
    assert t.cells(b"x", b"cf:a", timestamp=20) == [b"v10"]
    conn.compact_table("k", major=True)
    assert t.cells(b"x", b"cf:a") == []
    assert t.row(b"x", timestamp=25) == {b"cf:a": b"v10"}
    raw = [(c.timestamp, c.type) for _, cells in t.scan(raw=True, max_versions=5) for c in cells]
    assert (30, hedgerow.KeyType.DELETE_COLUMN) in raw
    assert (20, hedgerow.KeyType.DELETE) in raw
