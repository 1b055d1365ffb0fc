"""The client API's behaviour that only the embedded store can show: injected clocks, reopening.

Everything the public Connection/Table/Batch API does on every kind of connection is in
tests/contract/ (run there over embedded, in-memory RPC, standalone server, asyncio and
Thrift). What stays here needs the embedded engine itself: ``ManualClock`` for TTLs and
same-millisecond writes, reopening a data directory, and the region's server name.
"""

from __future__ import annotations

from pathlib import Path

import hedgerow
from hedgerow._internal.clock import ManualClock

T0 = 1_700_000_000_000  # a fixed "now" for ManualClock tests


def test_embedded_regions_are_served_by_local(tmp_path: Path) -> None:
    with hedgerow.connect(str(tmp_path / "db"), background=False) as c:
        c.create_table("s", {"cf": {}}, split_keys=[b"m", "g"])
        regs = c.table("s").regions()
        # embedded: meta names the serving process "local"
        assert {(r["server_name"], r["port"]) for r in regs} == {(b"local", 0)}


def test_data_survives_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path, background=False) as c:
        c.create_table("t", {"cf": {"max_versions": 2}})
        c.table("t").put(b"r", {b"cf:a": b"1"}, timestamp=1)
        c.table("t").put(b"r", {b"cf:a": b"2"}, timestamp=2)
    with hedgerow.connect(path, background=False) as c:
        assert c.tables() == [b"t"]
        assert c.table("t").cells(b"r", b"cf:a") == [b"2", b"1"]
        assert c.table("t").families()[b"cf"]["max_versions"] == 2


def test_counter_set_then_inc_after_increments_same_ms(tmp_path: Path) -> None:
    """happybase's test_atomic_counters sequence, with every call in the same millisecond.

    Needs increments to take ts = max(current.ts, now), not HBase's max(current.ts + 1,
    now): otherwise a put right after two increments in the same ms is shadowed
    (reference section 2.7).
    """
    clock = ManualClock(T0)
    c = hedgerow.connect(str(tmp_path / "db"), clock=clock, background=False)
    try:
        c.create_table("t", {"cf": {}})
        t = c.table("t")
        assert t.counter_inc(b"r", b"cf:n", 10) == 10
        assert t.counter_get(b"r", b"cf:n") == 10
        t.counter_set(b"r", b"cf:n", 0)
        assert t.counter_inc(b"r", b"cf:n") == 1
        assert t.counter_inc(b"r", b"cf:n", 3) == 4
        t.counter_set(b"r", b"cf:n", 3)
        assert t.counter_get(b"r", b"cf:n") == 3
    finally:
        c.close()


def test_ttl_expires_cells(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    c = hedgerow.connect(str(tmp_path / "db"), clock=clock, background=False)
    try:
        c.create_table("t", {"cf": {"time_to_live": 10}, "keep": {}})
        t = c.table("t")
        t.put(b"r", {b"cf:a": b"1", b"keep:a": b"k"})
        clock.advance_ms(9_999)
        assert t.row(b"r") == {b"cf:a": b"1", b"keep:a": b"k"}
        clock.advance_ms(2)
        assert t.row(b"r") == {b"keep:a": b"k"}
        c.compact_table("t", major=True)
        assert t.row(b"r") == {b"keep:a": b"k"}
        assert list(t.scan(raw=True, columns=[b"cf"])) == []
    finally:
        c.close()


def test_ttl_min_versions_keeps_newest(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    c = hedgerow.connect(str(tmp_path / "db"), clock=clock, background=False)
    try:
        c.create_table("t", {"cf": {"time_to_live": 10, "max_versions": 5, "min_versions": 2}})
        t = c.table("t")
        for i in range(4):
            t.put(b"r", {b"cf:a": b"v%d" % i})
            clock.advance_ms(1)
        clock.advance_ms(60_000)  # every version is past TTL
        assert t.cells(b"r", b"cf:a") == [b"v3", b"v2"]
        c.compact_table("t", major=True)
        assert t.cells(b"r", b"cf:a") == [b"v3", b"v2"]
    finally:
        c.close()


def test_ttl_applies_to_flushed_cells_and_compaction_drops_them(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    c = hedgerow.connect(str(tmp_path / "db"), clock=clock, background=False)
    try:
        c.create_table("t", {"cf": {"time_to_live": 10, "max_versions": 3}})
        t = c.table("t")
        t.put(b"old", {b"cf:a": b"1"})
        c.flush_table("t")  # in a store file
        t.put(b"old2", {b"cf:a": b"2"})  # in the memstore
        clock.advance_ms(10_001)
        t.put(b"new", {b"cf:a": b"3"})
        assert list(t.scan()) == [(b"new", {b"cf:a": b"3"})]
        c.compact_table("t")
        # even a raw scan (nothing masked) has only the live row left
        assert [k for k, _ in t.scan(raw=True)] == [b"new"]
        assert t.row(b"new", include_timestamp=True) == {b"cf:a": (b"3", T0 + 10_001)}
    finally:
        c.close()
