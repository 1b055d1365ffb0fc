"""Contract: the Table and Batch API (read, scan, write, delete, batch, counters, check-and-mutate).

Role: one behaviour per test, run on every connection kind by the ``conn``/``table``
fixtures (conftest.py); moved from tests/unit/client/test_table_api.py and test_aio.py.
Tests use explicit timestamps so that results do not depend on the wall clock. A test
that uses a feature some kind cannot express says so with ``@pytest.mark.needs``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hedgerow


def be(n: int) -> bytes:
    return n.to_bytes(8, "big", signed=True)


# ---- put / row / rows / cells --------------------------------------------------------------


def test_put_then_row_returns_latest_value(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1", b"cf2:b": b"2"})
    table.put(b"r1", {b"cf:a": b"1b"})
    assert table.row(b"r1") == {b"cf:a": b"1b", b"cf2:b": b"2"}


def test_put_and_delete_without_wal(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2"}, wal=False)
    table.delete(b"r", columns=[b"cf:b"], wal=False)
    assert table.row(b"r") == {b"cf:a": b"1"}


@pytest.mark.needs("durability")
@pytest.mark.parametrize("durability", list(hedgerow.Durability))
def test_every_durability_writes(table: hedgerow.Table, durability: hedgerow.Durability) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2"}, durability=durability)
    table.delete(b"r", columns=[b"cf:b"], durability=durability)
    assert table.increment(b"r", {b"cf:n": 2}, durability=durability) == {b"cf:n": 2}
    assert table.row(b"r") == {b"cf:a": b"1", b"cf:n": be(2)}


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


@pytest.mark.needs("hedgerow_shapes")
def test_rows_of_no_keys_is_empty_list(table: hedgerow.Table) -> None:
    assert table.rows([]) == []  # happybase answers {}


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


@pytest.mark.needs("hedgerow_errors")
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
    assert [k for k, _ in table.scan(row_prefix=b"r")] == ["rö".encode()]
    table.delete("rö", columns=["cf:ä"])
    assert table.row("rö") == {}


@pytest.mark.needs("hedgerow_shapes")
def test_str_accepted_as_scan_bounds(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1"})
    table.put(b"s1", {b"cf:a": b"2"})
    assert [k for k, _ in table.scan(row_prefix="r")] == [b"r1"]  # happybase: bytes only
    assert [k for k, _ in table.scan(row_start="s")] == [b"s1"]


# ---- scan ----------------------------------------------------------------------------------


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


@pytest.mark.needs("hedgerow_errors")
def test_scan_row_prefix_excludes_start_and_stop(ten_rows: hedgerow.Table) -> None:
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
@pytest.mark.needs("hedgerow_errors")
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


@pytest.mark.needs("hedgerow_errors")
def test_scan_batching_validation(table: hedgerow.Table) -> None:
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


@pytest.mark.needs("scan_extras")
def test_scan_start_exclusive_stop_inclusive(ten_rows: hedgerow.Table) -> None:
    got = keys(
        ten_rows.scan(
            row_start=b"row3", row_stop=b"row6", start_inclusive=False, stop_inclusive=True
        )
    )
    assert got == [b"row4", b"row5", b"row6"]


@pytest.mark.needs("scan_extras", "hedgerow_errors")
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


@pytest.mark.needs("scan_extras")
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


@pytest.mark.needs("scan_extras")
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


# ---- delete --------------------------------------------------------------------------------


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


@pytest.mark.needs("delete_cell")
def test_delete_cell_removes_exactly_one_version(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    table.delete_cell(b"r", b"cf:a", timestamp=2)
    assert table.cells(b"r", b"cf:a") == [b"v3", b"v1"]


@pytest.mark.needs("delete_cell")
def test_delete_cell_without_timestamp_removes_latest(table: hedgerow.Table) -> None:
    for ts in (1, 2, 3):
        table.put(b"r", {b"cf:a": b"v%d" % ts}, timestamp=ts)
    table.delete_cell(b"r", b"cf:a")
    assert table.cells(b"r", b"cf:a") == [b"v2", b"v1"]
    table.delete_cell(b"r", b"cf:missing")  # nothing to delete: no error, nothing changes
    assert table.cells(b"r", b"cf:a") == [b"v2", b"v1"]


@pytest.mark.needs("delete_cell")
def test_delete_family_version(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"a10", b"cf:b": b"b10", b"cf2:c": b"c10"}, timestamp=10)
    table.put(b"r", {b"cf:a": b"a20"}, timestamp=20)
    table.delete_family_version(b"r", b"cf", 10)
    assert table.cells(b"r", b"cf:a") == [b"a20"]
    assert table.cells(b"r", b"cf:b") == []
    assert table.row(b"r") == {b"cf:a": b"a20", b"cf2:c": b"c10"}


@pytest.mark.needs("mutate_row")
def test_mutate_row_put_and_delete_atomically(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1", b"cf:b": b"2"})
    table.mutate_row(b"r", put={b"cf:c": b"3"}, delete=[b"cf:a"])
    assert table.row(b"r") == {b"cf:b": b"2", b"cf:c": b"3"}


@pytest.mark.needs("mutate_row", "hedgerow_errors")
def test_mutate_row_with_bad_family_changes_nothing(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"1"})
    with pytest.raises(hedgerow.FamilyNotFound, match="nope"):
        table.mutate_row(b"r", put={b"nope:x": b"3"}, delete=[b"cf:a"])
    assert table.row(b"r") == {b"cf:a": b"1"}


# ---- batch ---------------------------------------------------------------------------------


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


@pytest.mark.needs("hedgerow_errors")
def test_batch_argument_errors(table: hedgerow.Table) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        table.batch(batch_size=0)
    with pytest.raises(hedgerow.InvalidArgument, match="transaction"):
        table.batch(transaction=True, batch_size=10)


# ---- counters, increment, append -----------------------------------------------------------


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


@pytest.mark.needs("increment")
def test_increment_returns_new_values(table: hedgerow.Table) -> None:
    table.counter_set(b"r", b"cf:a", 5)
    assert table.increment(b"r", {b"cf:a": 2, b"cf2:b": -3}) == {b"cf:a": 7, b"cf2:b": -3}
    assert table.row(b"r") == {b"cf:a": be(7), b"cf2:b": be(-3)}


def test_increment_wraps_like_a_java_long(table: hedgerow.Table) -> None:
    table.counter_set(b"r", b"cf:a", 2**63 - 1)
    assert table.counter_inc(b"r", b"cf:a") == -(2**63)


@pytest.mark.needs("increment", "hedgerow_errors")
def test_increment_non_counter_raises_and_changes_nothing(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:s": b"abc"}, timestamp=5)
    table.counter_set(b"r", b"cf:n", 1)
    before = table.row(b"r", include_timestamp=True)
    with pytest.raises(hedgerow.NotACounter, match=r"cf:s") as ei:
        table.increment(b"r", {b"cf:n": 1, b"cf:s": 1})
    assert "3 bytes" in str(ei.value)
    assert table.row(b"r", include_timestamp=True) == before
    assert table.counter_get(b"r", b"cf:n") == 1


@pytest.mark.needs("increment")
def test_append_returns_new_values(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:a": b"abc"})
    assert table.append(b"r", {b"cf:a": b"def", b"cf:new": b"x"}) == {
        b"cf:a": b"abcdef",
        b"cf:new": b"x",
    }
    assert table.row(b"r") == {b"cf:a": b"abcdef", b"cf:new": b"x"}


# ---- check_and_mutate ----------------------------------------------------------------------


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
@pytest.mark.needs("check_and_mutate")
def test_check_and_mutate_ops(table: hedgerow.Table, given: bytes, op: str, applies: bool) -> None:
    table.put(b"r", {b"cf:c": b"5"})
    assert table.check_and_mutate(b"r", b"cf:c", given, op, put={b"cf:out": b"yes"}) is applies
    assert table.row(b"r").get(b"cf:out") == (b"yes" if applies else None)


@pytest.mark.needs("check_and_mutate")
def test_check_and_mutate_unsigned_byte_order(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:c": b"\x80"})
    assert table.check_and_mutate(b"r", b"cf:c", b"\x7f", "<", put={b"cf:out": b"1"}) is True


@pytest.mark.needs("check_and_mutate")
def test_check_and_mutate_none_means_absent(table: hedgerow.Table) -> None:
    assert table.check_and_mutate(b"r", b"cf:c", None, put={b"cf:c": b"first"}) is True
    assert table.check_and_mutate(b"r", b"cf:c", None, put={b"cf:c": b"second"}) is False
    assert table.row(b"r") == {b"cf:c": b"first"}
    assert table.check_and_mutate(b"r", b"cf:c", None, "!=", delete=[b"cf:c"]) is True
    assert table.row(b"r") == {}
    assert table.check_and_mutate(b"r", b"cf:c", None, "!=", put={b"cf:x": b"1"}) is False
    assert table.row(b"r") == {}


@pytest.mark.needs("check_and_mutate")
def test_check_and_mutate_against_missing_cell_with_value_fails(table: hedgerow.Table) -> None:
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert table.check_and_mutate(b"r", b"cf:c", b"x", op, put={b"cf:o": b"1"}) is False
    assert table.row(b"r") == {}


@pytest.mark.needs("check_and_mutate")
def test_check_and_mutate_put_and_delete(table: hedgerow.Table) -> None:
    table.put(b"r", {b"cf:c": b"go", b"cf:old": b"1"})
    assert table.check_and_mutate(b"r", b"cf:c", b"go", put={b"cf:new": b"2"}, delete=[b"cf:old"])
    assert table.row(b"r") == {b"cf:c": b"go", b"cf:new": b"2"}


@pytest.mark.needs("check_and_mutate", "hedgerow_errors")
def test_check_and_mutate_bad_op(table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.InvalidArgument, match="~"):
        table.check_and_mutate(b"r", b"cf:c", b"x", "~", put={b"cf:o": b"1"})
    with pytest.raises(hedgerow.InvalidArgument, match="put or delete"):
        table.check_and_mutate(b"r", b"cf:c", b"x")


# ---- filters, multi-region scans, errors (from tests/unit/client/test_aio.py) ------------------


@pytest.mark.needs("get_filter")
def test_row_and_rows_with_filter(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1", b"cf2:x": b"x"})
    table.put(b"r2", {b"cf:a": b"x"})
    assert table.row(b"r1", filter="ValueFilter(=, 'binary:x')") == {b"cf2:x": b"x"}
    assert table.rows([b"r1", b"r2"], filter="ValueFilter(=, 'binary:x')") == [
        (b"r1", {b"cf2:x": b"x"}),
        (b"r2", {b"cf:a": b"x"}),
    ]


def test_rows_columns(table: hedgerow.Table) -> None:
    table.put(b"r1", {b"cf:a": b"1", b"cf2:x": b"x"})
    table.put(b"r2", {b"cf:a": b"x"})
    assert table.rows([b"r2", b"nope", b"r1"], columns=[b"cf"]) == [
        (b"r2", {b"cf:a": b"x"}),
        (b"r1", {b"cf:a": b"1"}),
    ]


def test_scan_filter(ten_rows: hedgerow.Table) -> None:
    got = list(ten_rows.scan(filter="ValueFilter(=, 'binary:a7')"))
    assert got == [(b"row7", {b"cf:a": b"a7"})]
    got = list(ten_rows.scan(filter="PrefixFilter('row1')"))
    assert got == [(b"row1", {b"cf:a": b"a1", b"cf2:b": b"b1"})]
    assert keys(ten_rows.scan(filter="KeyOnlyFilter() AND FirstKeyOnlyFilter()", limit=2)) == [
        b"other",
        b"row0",
    ]


@pytest.mark.needs("hedgerow_shapes")
def test_scan_batching_with_limit_counts_rows(ten_rows: hedgerow.Table) -> None:
    chunks = [d for _, d in ten_rows.scan(row_start=b"row1", limit=2, scan_batching=1)]
    assert chunks == [{b"cf:a": b"a1"}, {b"cf2:b": b"b1"}, {b"cf:a": b"a2"}, {b"cf2:b": b"b2"}]


@pytest.mark.needs("split_keys")
def test_scan_across_regions(conn: hedgerow.Connection) -> None:
    conn.create_table("s", {"cf": {"max_versions": 3}}, split_keys=[b"k05"])
    t = conn.table("s")
    for i in range(10):
        t.put(b"k%02d" % i, {b"cf:a": b"%d" % i, b"cf:b": b"b"})
    assert keys(t.scan()) == [b"k%02d" % i for i in range(10)]
    assert keys(t.scan(row_start=b"k03", row_stop=b"k06")) == [b"k03", b"k04", b"k05"]
    assert keys(t.scan(reverse=True, limit=3)) == [b"k09", b"k08", b"k07"]
    assert keys(t.scan(row_prefix=b"k0", reverse=True, limit=2)) == [b"k09", b"k08"]
    assert keys(t.scan(row_start=b"k06", reverse=True, limit=3)) == [b"k06", b"k05", b"k04"]
    assert list(t.scan(filter="ValueFilter(=, 'binary:7')")) == [(b"k07", {b"cf:a": b"7"})]
    assert t.rows([b"k09", b"k01"], columns=[b"cf:a"]) == [
        (b"k09", {b"cf:a": b"9"}),
        (b"k01", {b"cf:a": b"1"}),
    ]


@pytest.mark.needs("mutate_row", "delete_cell")
def test_mutate_row_timestamp_then_delete_family_version(table: hedgerow.Table) -> None:
    table.put(b"v", {b"cf:a": b"1"}, timestamp=1)
    table.mutate_row(b"v", put={b"cf:b": b"b"}, delete=[b"cf:a"], timestamp=5)
    assert table.row(b"v", include_timestamp=True) == {b"cf:b": (b"b", 5)}
    table.delete_family_version(b"v", b"cf", 5)
    assert table.row(b"v") == {}


@pytest.mark.needs("increment")
def test_increment_of_nothing_is_empty(table: hedgerow.Table) -> None:
    assert table.increment(b"c", {}) == {}
    assert table.row(b"c") == {}


@pytest.mark.needs("hedgerow_errors")
def test_counter_get_of_non_counter_raises(table: hedgerow.Table) -> None:
    table.put(b"c", {b"cf:s": b"abc"})
    with pytest.raises(hedgerow.NotACounter):
        table.counter_get(b"c", b"cf:s")


@pytest.mark.needs("hedgerow_errors")
def test_errors_map_to_the_same_classes(conn: hedgerow.Connection, table: hedgerow.Table) -> None:
    with pytest.raises(hedgerow.TableNotFound):
        list(conn.table("missing").scan())
    with pytest.raises(hedgerow.FilterSyntaxError):
        table.scan(filter="NoSuchFilter(")  # raised by the call, before any row is read
    with pytest.raises(hedgerow.InvalidArgument, match="limit"):
        table.scan(limit=0)
    with pytest.raises(hedgerow.InvalidArgument, match="family:qualifier"):
        table.put(b"r", {b"cf": b"v"})
    with pytest.raises(hedgerow.InvalidArgument, match="single key"):
        table.rows(b"r")  # type: ignore[arg-type]
    with pytest.raises(hedgerow.InvalidArgument):
        table.row(b"")
    assert list(table.scan()) == []


# ---- paging, binary data, sizes: where transports cut answers into pieces ----------------------


def test_scan_pages_through_many_rows(table: hedgerow.Table) -> None:
    with table.batch(batch_size=100) as b:
        for i in range(700):
            b.put(b"k%04d" % i, {b"cf:a": b"%d" % i})
    want = [b"k%04d" % i for i in range(700)]
    assert keys(table.scan()) == want
    assert keys(table.scan(batch_size=7)) == want
    assert keys(table.scan(reverse=True, batch_size=13)) == want[::-1]
    assert keys(table.scan(row_start=b"k0100", limit=250, batch_size=100)) == want[100:350]
    assert keys(table.scan(row_prefix=b"k06", batch_size=9)) == want[600:700]
    it = table.scan(batch_size=5)
    assert [next(it)[0] for _ in range(12)] == want[:12]
    it.close()
    assert len(table.rows(want[::3])) == len(want[::3])


def test_scan_batching_wide_row_over_pages(table: hedgerow.Table) -> None:
    cols = {b"cf:q%04d" % i: b"%d" % i for i in range(450)}
    table.put(b"wide", cols)
    table.put(b"z", {b"cf:a": b"z"})
    got = list(table.scan(scan_batching=100, batch_size=2))
    assert [k for k, _ in got] == [b"wide"] * 5 + [b"z"]
    assert [len(d) for _, d in got] == [100, 100, 100, 100, 50, 1]
    merged: dict[bytes, object] = {}
    for _, d in got[:5]:
        merged.update(d)  # type: ignore[arg-type]
    assert merged == cols
    assert table.row(b"wide") == cols


def test_binary_keys_qualifiers_and_values(table: hedgerow.Table) -> None:
    rows = [b"\x00", b"\x00\x01", b"a\xffb", b"\xff", b"\xff\xff\xfe", b"\xc3\x28"]
    for r in rows:
        table.put(r, {b"cf:\x00\xff": r + b"\x00", b"cf:\xe9": b"\xff" * 3})
    assert keys(table.scan()) == sorted(rows)
    assert table.row(b"\xc3\x28") == {b"cf:\x00\xff": b"\xc3\x28\x00", b"cf:\xe9": b"\xff" * 3}
    assert keys(table.scan(row_start=b"\xff")) == [b"\xff", b"\xff\xff\xfe"]
    assert keys(table.scan(row_prefix=b"\x00")) == [b"\x00", b"\x00\x01"]
    assert keys(table.scan(reverse=True, row_start=b"\xff", limit=2)) == [b"\xff", b"\xc3\x28"]
    assert table.cells(b"\xff", b"cf:\x00\xff") == [b"\xff\x00"]
    table.delete(b"a\xffb", columns=[b"cf:\xe9"])
    assert table.row(b"a\xffb") == {b"cf:\x00\xff": b"a\xffb\x00"}


def test_large_values_round_trip(table: hedgerow.Table) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB
    table.put(b"big", {b"cf:a": big, b"cf:b": big[:1000]})
    assert table.row(b"big") == {b"cf:a": big, b"cf:b": big[:1000]}
    assert list(table.scan()) == [(b"big", {b"cf:a": big, b"cf:b": big[:1000]})]


def test_extreme_timestamps(table: hedgerow.Table) -> None:
    top = 2**63 - 2
    table.put(b"r", {b"cf:a": b"zero"}, timestamp=0)
    table.put(b"r", {b"cf:a": b"top"}, timestamp=top)
    assert table.cells(b"r", b"cf:a", include_timestamp=True) == [(b"top", top), (b"zero", 0)]
    assert table.row(b"r", timestamp=1, include_timestamp=True) == {b"cf:a": (b"zero", 0)}
    assert list(table.scan(timestamp=top, include_timestamp=True)) == [
        (b"r", {b"cf:a": (b"zero", 0)})
    ]


# ---- edge cases --------------------------------------------------------------------------


def test_rows_repeats_a_repeated_key(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1"})
    assert table.rows([b"a", b"a"]) == [(b"a", {b"cf:q": b"1"}), (b"a", {b"cf:q": b"1"})]


def test_row_repeated_and_overlapping_columns(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1", b"cf:r": b"2"})
    assert table.row(b"a", columns=[b"cf:q", b"cf:q", b"cf"]) == {b"cf:q": b"1", b"cf:r": b"2"}


def test_put_of_no_columns_writes_nothing(table: hedgerow.Table) -> None:
    table.put(b"a", {})
    assert table.row(b"a") == {}


def test_cells_versions_beyond_max_versions(table: hedgerow.Table) -> None:
    for ts in range(1, 6):
        table.put(b"a", {b"cf:q": b"%d" % ts}, timestamp=ts)
    assert table.cells(b"a", b"cf:q", versions=10) == [b"5", b"4", b"3"]


def test_delete_family_with_timestamp_keeps_newer_cells(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1", b"cf:r": b"1"}, timestamp=10)
    table.put(b"a", {b"cf:q": b"2"}, timestamp=20)
    table.delete(b"a", columns=[b"cf"], timestamp=15)
    assert table.row(b"a", include_timestamp=True) == {b"cf:q": (b"2", 20)}


def test_batch_put_then_delete_of_same_cell(table: hedgerow.Table) -> None:
    with table.batch(timestamp=10) as b:
        b.put(b"a", {b"cf:q": b"1"})
        b.delete(b"a", columns=[b"cf:q"])
    assert table.row(b"a") == {}


def test_counter_inc_of_an_8_byte_put_value(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:n": (5).to_bytes(8, "big")})
    assert table.counter_inc(b"a", b"cf:n") == 6


def test_scan_columns_and_filter_together(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"x", b"cf:r": b"x", b"cf2:s": b"x"})
    table.put(b"b", {b"cf:q": b"y"})
    assert list(table.scan(columns=[b"cf:q", b"cf2"], filter="ValueFilter(=, 'binary:x')")) == [
        (b"a", {b"cf:q": b"x", b"cf2:s": b"x"})
    ]


def test_scan_reverse_filter_limit_over_small_pages(table: hedgerow.Table) -> None:
    for i in range(30):
        table.put(b"k%02d" % i, {b"cf:q": b"%d" % (i % 3)})
    got = [
        k
        for k, _ in table.scan(
            filter="ValueFilter(=, 'binary:0')", reverse=True, limit=3, batch_size=2
        )
    ]
    assert got == [b"k27", b"k24", b"k21"]


def test_row_and_rows_timestamp_with_columns(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1", b"cf2:s": b"1"}, timestamp=5)
    table.put(b"a", {b"cf:q": b"2", b"cf2:s": b"2"}, timestamp=9)
    assert table.row(b"a", columns=[b"cf:q"], timestamp=9, include_timestamp=True) == {
        b"cf:q": (b"1", 5)
    }
    assert table.rows([b"a"], columns=[b"cf2"], timestamp=6) == [(b"a", {b"cf2:s": b"1"})]


def test_delete_of_missing_row_is_a_no_op(table: hedgerow.Table) -> None:
    table.delete(b"nope")
    table.delete(b"nope", columns=[b"cf:q"])
    assert list(table.scan()) == []


def test_scan_include_timestamp_with_scan_batching(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1", b"cf:r": b"2"}, timestamp=7)
    assert list(table.scan(include_timestamp=True, scan_batching=1)) == [
        (b"a", {b"cf:q": (b"1", 7)}),
        (b"a", {b"cf:r": (b"2", 7)}),
    ]


def test_regions_of_unsplit_table(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {}})
    r = conn.table("f").regions()
    assert len(r) == 1 and r[0]["start_key"] == b"" and r[0]["end_key"] == b""
    assert isinstance(r[0]["version"], int)


def test_recreated_table_is_enabled_and_usable(conn: hedgerow.Connection) -> None:
    conn.create_table("f", {"cf": {}})
    conn.disable_table("f")
    conn.delete_table("f")
    conn.create_table("f", {"cf": {}})
    assert conn.is_table_enabled("f")
    conn.table("f").put(b"a", {b"cf:q": b"1"})
    assert conn.table("f").row(b"a") == {b"cf:q": b"1"}


def test_counter_below_zero_and_beyond_32_bits(table: hedgerow.Table) -> None:
    assert table.counter_dec(b"a", b"cf:n", 5) == -5
    assert table.counter_inc(b"a", b"cf:n", 2**40) == 2**40 - 5


def test_empty_row_stop_means_no_stop(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1"})
    table.put(b"b", {b"cf:q": b"1"})
    # HBase (and so happybase): an empty stop row is the end of the table
    assert keys(table.scan(row_start=b"", row_stop=b"")) == [b"a", b"b"]
    assert keys(table.scan(row_stop=b"")) == [b"a", b"b"]


def test_empty_row_start_means_no_start(table: hedgerow.Table) -> None:
    table.put(b"a", {b"cf:q": b"1"})
    table.put(b"b", {b"cf:q": b"1"})
    assert keys(table.scan(row_start=b"")) == [b"a", b"b"]
    assert keys(table.scan(reverse=True, row_start=b"")) == [b"b", b"a"]
    assert keys(table.scan(reverse=True, row_stop=b"a")) == [b"b"]
