"""The happybase-shaped client API (Connection, Table, Batch), one behaviour per test.

Most tests use explicit timestamps so that results do not depend on the wall
clock; the TTL tests drive time with ``ManualClock``. ``background=False`` runs
flushes and compactions inline so every test is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow._internal.clock import ManualClock
from hedgerow.model.schema import TableDescriptor

T0 = 1_700_000_000_000  # a fixed "now" for ManualClock tests


def be(n: int) -> bytes:
    return n.to_bytes(8, "big", signed=True)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[hedgerow.Connection]:
    c = hedgerow.connect(str(tmp_path / "db"), background=False)
    yield c
    c.close()


@pytest.fixture
def table(conn: hedgerow.Connection) -> hedgerow.Table:
    conn.create_table("t", {"cf": {"max_versions": 3}, "cf2": {}})
    return conn.table("t")


# ---- put / row / rows / cells ---------------------------------------------------------------


def test_put_then_row_returns_latest_value(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1", b"cf2:b": b"2"})
    table.put(b"r1", {b"cf:a": b"1b"})
    assert table.row(b"r1") == {b"cf:a": b"1b", b"cf2:b": b"2"}


def test_row_of_missing_row_is_empty_dict(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1"})
    assert table.row(b"nope") == {}


def test_put_with_empty_qualifier_and_empty_value(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:": b"x", b"cf:e": b""})
    assert table.row(b"r") == {b"cf:": b"x", b"cf:e": b""}


def test_row_timestamp_is_exclusive_upper_bound(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"old"}, timestamp=1234)
    table.put(b"r", {b"cf:a": b"new"}, timestamp=2345)
    assert table.row(b"r") == {b"cf:a": b"new"}
    assert table.row(b"r", timestamp=2345) == {b"cf:a": b"old"}  # 2345 itself excluded
    assert table.row(b"r", timestamp=2346) == {b"cf:a": b"new"}
    assert table.row(b"r", timestamp=1234) == {}
    assert table.row(b"r", timestamp=123) == {}


def test_row_include_timestamp_shape(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"v", b"cf2:b": b"w"}, timestamp=77)
    assert table.row(b"r", include_timestamp=True) == {b"cf:a": (b"v", 77), b"cf2:b": (b"w", 77)}


def test_row_columns_whole_family_and_single_column(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2", b"cf2:c": b"3"})
    assert table.row(b"r", columns=[b"cf"]) == {b"cf:a": b"1", b"cf:b": b"2"}
    assert table.row(b"r", columns=[b"cf:b"]) == {b"cf:b": b"2"}
    assert table.row(b"r", columns=[b"cf:a", b"cf2"]) == {b"cf:a": b"1", b"cf2:c": b"3"}
    assert table.row(b"r", columns=[b"cf:zz"]) == {}


def test_rows_skips_missing_and_keeps_order(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1"})
    table.put(b"c", {b"cf:q": b"3"})
    assert table.rows([b"c", b"b", b"a"]) == [(b"c", {b"cf:q": b"3"}), (b"a", {b"cf:q": b"1"})]
    assert table.rows([]) == []


def test_rows_timestamp_and_include_timestamp(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"a4"}, timestamp=4000)
    table.put(b"a", {b"cf:q": b"a6"}, timestamp=6000)
    table.put(b"b", {b"cf:q": b"b4"}, timestamp=4000)
    assert table.rows([b"a", b"b"], timestamp=5000) == [
        (b"a", {b"cf:q": b"a4"}),
        (b"b", {b"cf:q": b"b4"}),
    ]
    assert table.rows([b"a"], include_timestamp=True) == [(b"a", {b"cf:q": (b"a6", 6000)})]


def test_cells_versions_newest_first(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3, 4):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    # family keeps 3 versions
    assert table.cells(b"r", b"cf:a") == [b"v4", b"v3", b"v2"]
    assert table.cells(b"r", b"cf:a", versions=1) == [b"v4"]
    assert table.cells(b"r", b"cf:a", versions=2, include_timestamp=True) == [
        (b"v4", 4),
        (b"v3", 3),
    ]
    assert table.cells(b"r", b"cf:a", timestamp=3, include_timestamp=True) == [
        (b"v2", 2),
        (b"v1", 1),
    ]
    assert table.cells(b"r", b"cf:missing") == []


def test_cells_versions_validation(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="versions"):
        table.cells(b"r", b"cf:a", versions=0)
    with pytest.raises(hedgerow.InvalidArgument, match="versions"):
        table.cells(b"r", b"cf:a", versions="2")  # type: ignore[arg-type]


def test_equal_timestamp_later_write_wins(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"first"}, timestamp=10)
    table.put(b"r", {b"cf:a": b"second"}, timestamp=10)
    assert table.cells(b"r", b"cf:a") == [b"second"]


def test_str_accepted_wherever_bytes_are(table: hedgerow.Table) -> None:
    table.put("rö", {"cf:ä": "välue"})
    assert table.row("rö") == {"cf:ä".encode(): "välue".encode()}
    assert table.row("rö".encode(), columns=["cf"]) == {"cf:ä".encode(): "välue".encode()}
    assert table.cells("rö", "cf:ä") == ["välue".encode()]
    assert [k for k, _ in table.scan(row_prefix="r")] == ["rö".encode()]
    table.delete("rö", columns=["cf:ä"])
    assert table.row("rö") == {}


# ---- scan -----------------------------------------------------------------------------------


@pytest.fixture
def ten_rows(table: hedgerow.Table) -> hedgerow.Table:
    for i in range(10):
        table.put(b"row%d" % i, {b"cf:a": b"a%d" % i, b"cf2:b": b"b%d" % i}, timestamp=100 + i)
    table.put(b"other", {b"cf:a": b"x"}, timestamp=100)
    return table


def keys(it: Iterator[tuple[bytes, object]]) -> list[bytes]:
    return [k for k, _ in it]


def test_scan_all_in_key_order(ten_rows: hedgerow.Table) -> None:
    got = list(ten_rows.scan())
    assert keys(iter(got)) == [b"other"] + [b"row%d" % i for i in range(10)]
    assert got[1] == (b"row0", {b"cf:a": b"a0", b"cf2:b": b"b0"})


def test_scan_start_inclusive_stop_exclusive(ten_rows: hedgerow.Table) -> None:
    assert keys(ten_rows.scan(row_start=b"row3", row_stop=b"row6")) == [b"row3", b"row4", b"row5"]
    assert keys(ten_rows.scan(row_start=b"row8")) == [b"row8", b"row9"]
    assert keys(ten_rows.scan(row_stop=b"row1")) == [b"other", b"row0"]
    assert keys(ten_rows.scan(row_start=b"row5", row_stop=b"row5")) == []
    assert keys(ten_rows.scan(row_start=b"zzz")) == []


def test_scan_row_prefix(ten_rows: hedgerow.Table) -> None:
    assert keys(ten_rows.scan(row_prefix=b"row")) == [b"row%d" % i for i in range(10)]
    assert keys(ten_rows.scan(row_prefix=b"oth")) == [b"other"]
    assert keys(ten_rows.scan(row_prefix=b"q")) == []
    with pytest.raises(hedgerow.InvalidArgument, match="row_prefix"):
        ten_rows.scan(row_prefix=b"row", row_start=b"row1")


def test_scan_limit(ten_rows: hedgerow.Table) -> None:
    assert keys(ten_rows.scan(row_prefix=b"row", limit=4)) == [b"row0", b"row1", b"row2", b"row3"]
    assert keys(ten_rows.scan(row_prefix=b"row", limit=4, batch_size=1)) == [
        b"row0",
        b"row1",
        b"row2",
        b"row3",
    ]


def test_scan_columns(ten_rows: hedgerow.Table) -> None:
    got = list(ten_rows.scan(row_prefix=b"row", columns=[b"cf2"], limit=2))
    assert got == [(b"row0", {b"cf2:b": b"b0"}), (b"row1", {b"cf2:b": b"b1"})]
    got = list(ten_rows.scan(columns=[b"cf:a"], limit=1))
    assert got == [(b"other", {b"cf:a": b"x"})]
    # rows without any selected column are left out
    assert keys(ten_rows.scan(columns=[b"cf2:b"])) == [b"row%d" % i for i in range(10)]


def test_scan_reverse_row_start_is_high_end(ten_rows: hedgerow.Table) -> None:
    assert keys(ten_rows.scan(reverse=True, limit=3)) == [b"row9", b"row8", b"row7"]
    assert keys(ten_rows.scan(reverse=True, row_start=b"row3")) == [
        b"row3",
        b"row2",
        b"row1",
        b"row0",
        b"other",
    ]
    assert keys(ten_rows.scan(reverse=True, row_start=b"row7", row_stop=b"row4")) == [
        b"row7",
        b"row6",
        b"row5",
    ]
    assert keys(ten_rows.scan(reverse=True, row_prefix=b"row")) == [
        b"row%d" % i for i in range(9, -1, -1)
    ]


def test_scan_reverse_returns_whole_rows(ten_rows: hedgerow.Table) -> None:
    assert next(ten_rows.scan(reverse=True)) == (b"row9", {b"cf:a": b"a9", b"cf2:b": b"b9"})


def test_scan_include_timestamp(ten_rows: hedgerow.Table) -> None:
    assert list(ten_rows.scan(row_start=b"row2", limit=1, include_timestamp=True)) == [
        (b"row2", {b"cf:a": (b"a2", 102), b"cf2:b": (b"b2", 102)})
    ]


def test_scan_timestamp_exclusive(ten_rows: hedgerow.Table) -> None:
    assert keys(ten_rows.scan(row_prefix=b"row", timestamp=103)) == [b"row0", b"row1", b"row2"]
    assert keys(ten_rows.scan(timestamp=100)) == []


@pytest.mark.parametrize("bad", [0, -1, "10", 1.5])
def test_scan_batch_size_validation(ten_rows: hedgerow.Table, bad: object) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="batch_size"):
        ten_rows.scan(batch_size=bad)  # type: ignore[arg-type]


def test_scan_batching_splits_wide_row(table: hedgerow.Table) -> None:
    table.put(b"wide", {b"cf:q%d" % i: b"%d" % i for i in range(5)})
    table.put(b"x", {b"cf:q": b"x"})
    got = list(table.scan(scan_batching=2))
    assert [k for k, _ in got] == [b"wide", b"wide", b"wide", b"x"]
    assert [sorted(d) for _, d in got[:3]] == [
        [b"cf:q0", b"cf:q1"],
        [b"cf:q2", b"cf:q3"],
        [b"cf:q4"],
    ]
    merged: dict[bytes, object] = {}
    for _, d in got[:3]:
        merged.update(d)  # type: ignore[arg-type]
    assert merged == {b"cf:q%d" % i: b"%d" % i for i in range(5)}
    with pytest.raises(hedgerow.InvalidArgument, match="scan_batching"):
        table.scan(scan_batching=0)


def test_scan_sorted_columns_accepted(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:q%03d" % i: b"v" for i in reversed(range(100))})
    ((row, data),) = list(table.scan(sorted_columns=True))
    assert row == b"r"
    assert list(data) == [b"cf:q%03d" % i for i in range(100)]


def test_scan_generator_close(ten_rows: hedgerow.Table) -> None:
    it = ten_rows.scan(row_prefix=b"row")
    assert next(it)[0] == b"row0"
    it.close()
    with pytest.raises(StopIteration):
        next(it)


def test_scan_start_exclusive_stop_inclusive(ten_rows: hedgerow.Table) -> None:
    got = keys(
        ten_rows.scan(
            row_start=b"row3", row_stop=b"row6", start_inclusive=False, stop_inclusive=True
        )
    )
    assert got == [b"row4", b"row5", b"row6"]


def test_scan_time_range(table: hedgerow.Table) -> None:
    for ts in (10, 20, 30):
        table.put(b"r%d" % ts, {b"cf:a": b"%d" % ts}, timestamp=ts)
    table.put(b"r10", {b"cf:a": b"10b"}, timestamp=25)
    got = list(table.scan(time_range=(15, 30)))
    assert got == [(b"r10", {b"cf:a": b"10b"}), (b"r20", {b"cf:a": b"20"})]
    with pytest.raises(hedgerow.InvalidArgument, match="min > max"):
        table.scan(time_range=(30, 15))
    with pytest.raises(hedgerow.InvalidArgument, match="timestamp or time_range"):
        table.scan(time_range=(0, 15), timestamp=10)


def test_scan_max_versions_returns_cells(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    ((row, cells),) = list(table.scan(max_versions=2))
    assert row == b"r"
    assert all(isinstance(c, hedgerow.Cell) for c in cells)
    assert [(c.family, c.qualifier, c.timestamp, c.value) for c in cells] == [
        (b"cf", b"a", 3, b"v3"),
        (b"cf", b"a", 2, b"v2"),
    ]


def test_scan_raw_returns_delete_markers(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"v1"}, timestamp=10)
    table.put(b"r", {b"cf:a": b"v2"}, timestamp=20)
    table.delete(b"r", [b"cf:a"], timestamp=15)
    assert table.row(b"r") == {b"cf:a": b"v2"}
    assert table.cells(b"r", b"cf:a") == [b"v2"]  # v1 masked
    ((row, cells),) = list(table.scan(raw=True, max_versions=3))
    assert row == b"r"
    assert [(c.timestamp, c.type, c.value) for c in cells] == [
        (20, hedgerow.KeyType.PUT, b"v2"),
        (15, hedgerow.KeyType.DELETE_COLUMN, b""),
        (10, hedgerow.KeyType.PUT, b"v1"),
    ]


# ---- delete -----------------------------------------------------------------------------------


def test_delete_whole_row(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf2:b": b"2"})
    table.put(b"s", {b"cf:a": b"1"})
    table.delete(b"r")
    assert table.row(b"r") == {}
    assert table.row(b"s") == {b"cf:a": b"1"}


def test_delete_columns(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2", b"cf2:c": b"3"})
    table.delete(b"r", columns=[b"cf:a", b"cf2:c"])
    assert table.row(b"r") == {b"cf:b": b"2"}


def test_delete_family(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2", b"cf2:c": b"3"})
    table.delete(b"r", columns=[b"cf"])
    assert table.row(b"r") == {b"cf2:c": b"3"}


def test_delete_column_with_timestamp_removes_versions_at_or_below(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1"}, timestamp=1234)
    table.put(b"r", {b"cf:a": b"2"}, timestamp=2345)
    table.put(b"r", {b"cf:a": b"3"}, timestamp=3456)
    table.delete(b"r", columns=[b"cf:a"], timestamp=2345)
    assert table.cells(b"r", b"cf:a", include_timestamp=True) == [(b"3", 3456)]


def test_delete_row_with_timestamp_keeps_newer_cells(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"old", b"cf2:b": b"old"}, timestamp=100)
    table.put(b"r", {b"cf:a": b"new"}, timestamp=20000)
    table.delete(b"r", timestamp=12345)
    assert table.row(b"r") == {b"cf:a": b"new"}


def test_delete_cell_removes_exactly_one_version(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    table.delete_cell(b"r", b"cf:a", timestamp=2)
    assert table.cells(b"r", b"cf:a") == [b"v3", b"v1"]


def test_delete_cell_without_timestamp_removes_latest(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    table.delete_cell(b"r", b"cf:a")
    assert table.cells(b"r", b"cf:a") == [b"v2", b"v1"]
    table.delete_cell(b"r", b"cf:missing")  # nothing to delete: no error, nothing changes
    assert table.cells(b"r", b"cf:a") == [b"v2", b"v1"]


def test_delete_family_version(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"a10", b"cf:b": b"b10", b"cf2:c": b"c10"}, timestamp=10)
    table.put(b"r", {b"cf:a": b"a20"}, timestamp=20)
    table.delete_family_version(b"r", b"cf", 10)
    assert table.cells(b"r", b"cf:a") == [b"a20"]
    assert table.cells(b"r", b"cf:b") == []
    assert table.row(b"r") == {b"cf:a": b"a20", b"cf2:c": b"c10"}


def test_mutate_row_put_and_delete_atomically(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2"})
    table.mutate_row(b"r", put={b"cf:c": b"3"}, delete=[b"cf:a"])
    assert table.row(b"r") == {b"cf:b": b"2", b"cf:c": b"3"}


def test_mutate_row_with_bad_family_changes_nothing(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1"})
    with pytest.raises(hedgerow.FamilyNotFound, match="nope"):
        table.mutate_row(b"r", put={b"nope:x": b"3"}, delete=[b"cf:a"])
    assert table.row(b"r") == {b"cf:a": b"1"}


# ---- batch ------------------------------------------------------------------------------------


def test_batch_context_manager_sends_on_exit(table: hedgerow.Table) -> None:
    with table.batch() as b:
        b.put(b"r1", {b"cf:a": b"1"})
        b.put(b"r2", {b"cf:a": b"2"})
        b.delete(b"r0")
        assert table.row(b"r1") == {}  # not sent yet
    assert table.rows([b"r1", b"r2"]) == [(b"r1", {b"cf:a": b"1"}), (b"r2", {b"cf:a": b"2"})]


def test_batch_send_explicitly(table: hedgerow.Table) -> None:
    b = table.batch()
    b.put(b"r1", {b"cf:a": b"1"})
    assert table.row(b"r1") == {}
    b.send()
    assert table.row(b"r1") == {b"cf:a": b"1"}


def test_batch_with_timestamp(table: hedgerow.Table) -> None:
    with table.batch(timestamp=555) as b:
        b.put(b"r", {b"cf:a": b"1"})
    assert table.row(b"r", include_timestamp=True) == {b"cf:a": (b"1", 555)}


def test_batch_transaction_discards_on_exception(table: hedgerow.Table) -> None:
    with pytest.raises(RuntimeError), table.batch(transaction=True) as b:
        b.put(b"r1", {b"cf:a": b"1"})
        raise RuntimeError("boom")
    assert table.row(b"r1") == {}


def test_batch_without_transaction_sends_on_exception(table: hedgerow.Table) -> None:
    with pytest.raises(RuntimeError), table.batch() as b:
        b.put(b"r1", {b"cf:a": b"1"})
        raise RuntimeError("boom")
    assert table.row(b"r1") == {b"cf:a": b"1"}


def test_batch_size_auto_sends(table: hedgerow.Table) -> None:
    b = table.batch(batch_size=10)
    for i in range(25):
        b.put(b"r%02d" % i, {b"cf:a": b"%d" % i})
    assert len(list(table.scan())) == 20  # two automatic sends so far
    b.send()
    assert len(list(table.scan())) == 25


def test_batch_context_manager_95_rows_put_then_deleted(table: hedgerow.Table) -> None:
    with table.batch(batch_size=20) as b:
        for i in range(95):
            b.put(b"row-%04d" % i, {b"cf:a": b"v"})
    assert len(list(table.scan(row_prefix=b"row-"))) == 95
    with table.batch(batch_size=20) as b:
        for i in range(95):
            b.delete(b"row-%04d" % i)
    assert list(table.scan(row_prefix=b"row-")) == []


def test_batch_argument_errors(table: hedgerow.Table) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        table.batch(batch_size=0)
    with pytest.raises(hedgerow.InvalidArgument, match="transaction"):
        table.batch(transaction=True, batch_size=10)


# ---- counters, increment, append ----------------------------------------------------------------


def test_counter_get_missing_is_zero(table: hedgerow.Table) -> None:
    assert table.counter_get(b"r", b"cf:n") == 0


def test_counter_set_stores_8_byte_big_endian(table: hedgerow.Table) -> None:
    table.counter_set(b"r", b"cf:n", 258)
    assert table.row(b"r") == {b"cf:n": b"\x00\x00\x00\x00\x00\x00\x01\x02"}
    table.counter_set(b"r", b"cf:m", -1)
    assert table.row(b"r", columns=[b"cf:m"]) == {b"cf:m": b"\xff" * 8}
    assert table.counter_get(b"r", b"cf:m") == -1


def test_counter_inc_and_dec(table: hedgerow.Table) -> None:
    assert table.counter_inc(b"r", b"cf:n") == 1
    assert table.counter_inc(b"r", b"cf:n", 10) == 11
    assert table.counter_dec(b"r", b"cf:n") == 10
    assert table.counter_dec(b"r", b"cf:n", 3) == 7
    assert table.counter_dec(b"r", b"cf:n", -7) == 14
    assert table.counter_get(b"r", b"cf:n") == 14
    assert table.row(b"r") == {b"cf:n": be(14)}


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


def test_increment_returns_new_values(table: hedgerow.Table) -> None:
    table.counter_set(b"r", b"cf:a", 5)
    assert table.increment(b"r", {b"cf:a": 2, b"cf2:b": -3}) == {b"cf:a": 7, b"cf2:b": -3}
    assert table.row(b"r") == {b"cf:a": be(7), b"cf2:b": be(-3)}


def test_increment_wraps_like_a_java_long(table: hedgerow.Table) -> None:
    table.counter_set(b"r", b"cf:a", 2**63 - 1)
    assert table.counter_inc(b"r", b"cf:a") == -(2**63)


def test_increment_non_counter_raises_and_changes_nothing(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:s": b"abc"}, timestamp=5)
    table.counter_set(b"r", b"cf:n", 1)
    before = table.row(b"r", include_timestamp=True)
    with pytest.raises(hedgerow.NotACounter, match=r"cf:s") as ei:
        table.increment(b"r", {b"cf:n": 1, b"cf:s": 1})
    assert "3 bytes" in str(ei.value)
    assert table.row(b"r", include_timestamp=True) == before
    assert table.counter_get(b"r", b"cf:n") == 1


def test_append_returns_new_values(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"abc"})
    assert table.append(b"r", {b"cf:a": b"def", b"cf:new": b"x"}) == {
        b"cf:a": b"abcdef",
        b"cf:new": b"x",
    }
    assert table.row(b"r") == {b"cf:a": b"abcdef", b"cf:new": b"x"}


# ---- check_and_mutate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "op", "applies"),
    [
        (b"5", "=", True),
        (b"4", "=", False),
        (b"5", "!=", False),
        (b"4", "!=", True),
        # HBase: the given value is on the LEFT: "<" applies when given < stored
        (b"4", "<", True),
        (b"5", "<", False),
        (b"6", "<", False),
        (b"5", "<=", True),
        (b"4", "<=", True),
        (b"6", "<=", False),
        (b"6", ">", True),
        (b"5", ">", False),
        (b"4", ">", False),
        (b"5", ">=", True),
        (b"6", ">=", True),
        (b"4", ">=", False),
    ],
)
def test_check_and_mutate_ops(table: hedgerow.Table, given: bytes, op: str, applies: bool) -> None:
    table.put(b"r", {b"cf:c": b"5"})
    assert table.check_and_mutate(b"r", b"cf:c", given, op, put={b"cf:out": b"yes"}) is applies
    assert table.row(b"r").get(b"cf:out") == (b"yes" if applies else None)


def test_check_and_mutate_unsigned_byte_order(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:c": b"\x80"})
    assert table.check_and_mutate(b"r", b"cf:c", b"\x7f", "<", put={b"cf:out": b"1"}) is True


def test_check_and_mutate_none_means_absent(table: hedgerow.Table) -> None:
    assert table.check_and_mutate(b"r", b"cf:c", None, put={b"cf:c": b"first"}) is True
    assert table.check_and_mutate(b"r", b"cf:c", None, put={b"cf:c": b"second"}) is False
    assert table.row(b"r") == {b"cf:c": b"first"}
    assert table.check_and_mutate(b"r", b"cf:c", None, "!=", delete=[b"cf:c"]) is True
    assert table.row(b"r") == {}
    assert table.check_and_mutate(b"r", b"cf:c", None, "!=", put={b"cf:x": b"1"}) is False
    assert table.row(b"r") == {}


def test_check_and_mutate_against_missing_cell_with_value_fails(table: hedgerow.Table) -> None:
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert table.check_and_mutate(b"r", b"cf:c", b"x", op, put={b"cf:o": b"1"}) is False
    assert table.row(b"r") == {}


def test_check_and_mutate_put_and_delete(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:c": b"go", b"cf:old": b"1"})
    assert table.check_and_mutate(b"r", b"cf:c", b"go", put={b"cf:new": b"2"}, delete=[b"cf:old"])
    assert table.row(b"r") == {b"cf:c": b"go", b"cf:new": b"2"}


def test_check_and_mutate_bad_op(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="~"):
        table.check_and_mutate(b"r", b"cf:c", b"x", "~", put={b"cf:o": b"1"})
    with pytest.raises(hedgerow.InvalidArgument, match="put or delete"):
        table.check_and_mutate(b"r", b"cf:c", b"x")


# ---- describing, connection, DDL ----------------------------------------------------------------


def test_families_shape(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {"max_versions": 3, "time_to_live": 86400}, "cf2:": None})
    fams = conn.table("f").families()
    assert set(fams) == {b"cf", b"cf2"}
    assert fams[b"cf"]["name"] == b"cf"
    assert fams[b"cf"]["max_versions"] == 3
    assert fams[b"cf"]["time_to_live"] == 86400
    assert fams[b"cf2"]["max_versions"] == 1
    assert fams[b"cf2"]["time_to_live"] == 2**31 - 1


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
    # embedded: meta names the serving process "local"
    assert {(r["server_name"], r["port"]) for r in regs} == {(b"local", 0)}


def test_tables_returns_bytes(conn: hedgerow.Connection) -> None:
    assert conn.tables() == []
    conn.create_table("b", {"cf": {}})
    conn.create_table(b"a", {b"cf": {}})
    assert sorted(conn.tables()) == [b"a", b"b"]


def test_table_prefix(tmp_path: Path) -> None:
    c = hedgerow.connect(str(tmp_path / "db"), table_prefix="app", background=False)
    try:
        c.create_table("t", {"cf": {}})
        assert c.tables() == [b"t"]
        assert c.backend.table_names() == ["app_t"]
        c.table("t").put(b"r", {b"cf:a": b"1"})
        assert c.table("app_t", use_prefix=False).row(b"r") == {b"cf:a": b"1"}
        # a table outside the prefix (created below the client API)
        c.backend.create_table(TableDescriptor("other", c.backend.descriptor("app_t").families))
        assert c.tables() == [b"t"]  # tables outside the prefix are not listed
    finally:
        c.close()


def test_table_prefix_custom_separator(tmp_path: Path) -> None:
    c = hedgerow.connect(
        str(tmp_path / "db"), table_prefix="app", table_prefix_separator=".", background=False
    )
    try:
        c.create_table("t", {"cf": {}})
        assert c.backend.table_names() == ["app.t"]
        assert c.tables() == [b"t"]
    finally:
        c.close()


def test_enable_disable_is_table_enabled(conn: hedgerow.Connection) -> None:
    conn.create_table("e", {"cf": {}})
    conn.table("e").put(b"r", {b"cf:a": b"1"})
    assert conn.is_table_enabled("e") is True
    conn.disable_table("e")
    assert conn.is_table_enabled("e") is False
    with pytest.raises(hedgerow.TableDisabled, match="'e'"):
        conn.table("e").row(b"r")
    with pytest.raises(hedgerow.TableDisabled):
        conn.table("e").put(b"r", {b"cf:a": b"2"})
    conn.enable_table("e")
    assert conn.is_table_enabled("e") is True
    assert conn.table("e").row(b"r") == {b"cf:a": b"1"}


def test_delete_table_enabled_raises_unless_disable(conn: hedgerow.Connection) -> None:
    conn.create_table("d", {"cf": {}})
    with pytest.raises(hedgerow.TableEnabled, match="'d'"):
        conn.delete_table("d")
    assert conn.tables() == [b"d"]
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


def test_table_exists(conn: hedgerow.Connection) -> None:
    conn.create_table("x", {"cf": {}})
    with pytest.raises(hedgerow.TableExists, match="'x'"):
        conn.create_table("x", {"other": {}})
    assert set(conn.table("x").families()) == {b"cf"}


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


# ---- HBase data-model semantics (reference section 6) ----------------------------------------


def test_delete_masks_later_put_with_older_timestamp(
    conn: hedgerow.Connection, table: hedgerow.Table
) -> None:
    table.put(b"r", {b"cf:a": b"v100"}, timestamp=100)
    table.delete(b"r", columns=[b"cf:a"], timestamp=200)
    # written AFTER the delete, but with an older timestamp: masked (HBASE-2256)
    table.put(b"r", {b"cf:a": b"v150"}, timestamp=150)
    assert table.row(b"r") == {}
    conn.flush_table("t")
    assert table.row(b"r") == {}
    # A put newer than the marker is visible.
    table.put(b"r", {b"cf:a": b"v300"}, timestamp=300)
    assert table.cells(b"r", b"cf:a") == [b"v300"]
    # Major compaction drops the marker together with the puts it masks (v100 and
    # v150 are gone for good, as in HBase), so the result does not change ...
    conn.compact_table("t", major=True)
    assert table.cells(b"r", b"cf:a") == [b"v300"]
    assert [c.type for _, cells in table.scan(raw=True, max_versions=3) for c in cells] == [
        hedgerow.KeyType.PUT
    ]
    # ... but a put with an old timestamp written AFTER the compaction is no longer
    # masked: the marker that would have hidden it is gone.
    table.put(b"r", {b"cf:a": b"v150-again"}, timestamp=150)
    assert table.cells(b"r", b"cf:a") == [b"v300", b"v150-again"]


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
