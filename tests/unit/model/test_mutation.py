"""Tests for model/mutation.py: RowMutation.validate limits, error classes and messages."""

from __future__ import annotations

from typing import Any

import pytest

from hedgerow.errors import CellTooLarge, InvalidArgument, KeyTooLarge
from hedgerow.model.cell import MAX_TIMESTAMP
from hedgerow.model.mutation import (
    DeleteColumn,
    DeleteFamily,
    DeleteFamilyVersion,
    DeleteRow,
    DeleteVersion,
    Put,
    RowMutation,
    check_row,
    check_timestamp,
)
from hedgerow.model.schema import LIMITS

MiB = 1024 * 1024


def rm(row: Any, *ops: Any) -> RowMutation:
    return RowMutation(row, tuple(ops))


# ------------------------------------------------------------------ row length


@pytest.mark.parametrize("length", [1, 2, 32766, 32767])
def test_row_length_ok(length: int) -> None:
    row = b"r" * length
    assert check_row(row) is row
    rm(row, Put(b"cf", b"q", b"v")).validate()


def test_empty_row_is_key_too_large() -> None:
    with pytest.raises(KeyTooLarge, match="empty"):
        rm(b"", Put(b"cf", b"q", b"v")).validate()


@pytest.mark.parametrize("length", [32768, 40000])
def test_row_over_limit(length: int) -> None:
    with pytest.raises(KeyTooLarge) as ei:
        rm(b"r" * length, Put(b"cf", b"q", b"v")).validate()
    assert f"{length} bytes" in str(ei.value)
    assert "32767" in str(ei.value)


@pytest.mark.parametrize("row", ["row", bytearray(b"row"), None, 1])
def test_row_must_be_bytes(row: Any) -> None:
    with pytest.raises(InvalidArgument) as ei:
        rm(row, Put(b"cf", b"q", b"v")).validate()
    assert type(ei.value) is InvalidArgument
    assert type(row).__name__ in str(ei.value)


# ------------------------------------------------------------------ cell size


def test_value_at_default_limit_is_ok_and_one_more_is_too_large() -> None:
    rm(b"r", Put(b"cf", b"q", b"x" * (10 * MiB))).validate()
    with pytest.raises(CellTooLarge) as ei:
        rm(b"row-big", Put(b"cf", b"qual", b"x" * (10 * MiB + 1))).validate()
    msg = str(ei.value)
    assert "cf:qual" in msg
    assert "b'row-big'" in msg
    assert str(10 * MiB + 1) in msg and str(10 * MiB) in msg


def test_configured_max_cell_bytes() -> None:
    rm(b"r", Put(b"cf", b"q", b"x" * 10)).validate(max_cell_bytes=10)
    with pytest.raises(CellTooLarge, match=r"cf:q in row b'r' is 11 bytes.* 10 bytes"):
        rm(b"r", Put(b"cf", b"q", b"x" * 11)).validate(max_cell_bytes=10)
    # a larger configured limit is honoured too
    rm(b"r", Put(b"cf", b"q", b"x" * (10 * MiB + 1))).validate(max_cell_bytes=11 * MiB)


def test_cell_too_large_names_binary_column_readably() -> None:
    with pytest.raises(CellTooLarge) as ei:
        rm(b"\x00r", Put(b"cf", b"q\xff", b"xx")).validate(max_cell_bytes=1)
    assert "cf:q\\xff" in str(ei.value)
    assert "b'\\x00r'" in str(ei.value)


def test_value_must_be_bytes() -> None:
    with pytest.raises(InvalidArgument) as ei:
        rm(b"r", Put(b"cf", b"q", "text")).validate()  # type: ignore[arg-type]
    assert type(ei.value) is InvalidArgument
    assert "cf:q" in str(ei.value) and "str" in str(ei.value)


def test_error_classes_are_invalid_argument() -> None:
    assert issubclass(KeyTooLarge, InvalidArgument)
    assert issubclass(CellTooLarge, InvalidArgument)


# ------------------------------------------------------------------ qualifier size


@pytest.mark.parametrize(
    "make",
    [
        lambda q: Put(b"cf", q, b"v"),
        lambda q: DeleteVersion(b"cf", q),
        lambda q: DeleteColumn(b"cf", q),
    ],
)
def test_qualifier_limit(make: Any) -> None:
    limit = LIMITS["max_qualifier_bytes"]
    assert limit == 64 * 1024
    rm(b"r", make(b"q" * limit)).validate()
    with pytest.raises(InvalidArgument) as ei:
        rm(b"row7", make(b"q" * (limit + 1))).validate()
    assert type(ei.value) is InvalidArgument
    msg = str(ei.value)
    assert str(limit + 1) in msg and "b'row7'" in msg and str(limit) in msg


def test_qualifier_must_be_bytes() -> None:
    with pytest.raises(InvalidArgument, match="qualifier must be bytes"):
        rm(b"r", Put(b"cf", "q", b"v")).validate()  # type: ignore[arg-type]


def test_family_must_be_bytes() -> None:
    with pytest.raises(InvalidArgument, match="family must be bytes"):
        rm(b"r", DeleteFamily("cf")).validate()  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="family must be bytes"):
        rm(b"r", Put("cf", b"q", b"v")).validate()  # type: ignore[arg-type]


def test_oversized_value_with_str_qualifier_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        rm(b"r", Put(b"cf", "q", b"xx")).validate(max_cell_bytes=1)  # type: ignore[arg-type]


# ------------------------------------------------------------------ timestamps


@pytest.mark.parametrize("ts", [0, 1, 1_700_000_000_000, MAX_TIMESTAMP - 1])
def test_timestamp_ok(ts: int) -> None:
    assert check_timestamp(ts) == ts
    rm(
        b"r",
        Put(b"cf", b"q", b"v", ts),
        DeleteVersion(b"cf", b"q", ts),
        DeleteColumn(b"cf", b"q", ts),
        DeleteFamily(b"cf", ts),
        DeleteFamilyVersion(b"cf", ts),
        DeleteRow(ts),
    ).validate()


def test_none_timestamp_means_server_time() -> None:
    rm(b"r", Put(b"cf", b"q", b"v", None), DeleteRow(None), DeleteFamily(b"cf")).validate()


@pytest.mark.parametrize("ts", ["1", 1.0, 1.5, True, False, b"1", [1]])
def test_timestamp_bad_type(ts: Any) -> None:
    with pytest.raises(InvalidArgument, match="timestamp must be an int") as ei:
        rm(b"r", Put(b"cf", b"q", b"v", ts)).validate()
    assert type(ei.value) is InvalidArgument


@pytest.mark.parametrize("ts", [-1, -(2**63), MAX_TIMESTAMP, 2**63, 2**64])
@pytest.mark.parametrize(
    "make",
    [
        lambda ts: Put(b"cf", b"q", b"v", ts),
        lambda ts: DeleteVersion(b"cf", b"q", ts),
        lambda ts: DeleteColumn(b"cf", b"q", ts),
        lambda ts: DeleteFamily(b"cf", ts),
        lambda ts: DeleteFamilyVersion(b"cf", ts),
        lambda ts: DeleteRow(ts),
    ],
)
def test_timestamp_out_of_range(ts: int, make: Any) -> None:
    with pytest.raises(InvalidArgument, match="out of range") as ei:
        rm(b"r", make(ts)).validate()
    assert type(ei.value) is InvalidArgument
    assert str(ts) in str(ei.value)


def test_timestamp_error_names_row_and_column() -> None:
    with pytest.raises(InvalidArgument) as ei:
        rm(b"row9", Put(b"cf", b"v1", b"x"), Put(b"cf", b"qq", b"v", -1)).validate()
    assert "row9" in str(ei.value) and "qq" in str(ei.value)


# ------------------------------------------------------------------ cell count


def test_cell_count_limit() -> None:
    limit = LIMITS["max_cells_per_mutation"]
    ops = tuple(Put(b"cf", b"q%d" % i, b"") for i in range(limit + 1))
    RowMutation(b"r", ops[:limit]).validate()
    with pytest.raises(InvalidArgument) as ei:
        RowMutation(b"many", ops).validate()
    assert str(limit + 1) in str(ei.value) and "b'many'" in str(ei.value)


def test_mutation_is_immutable() -> None:
    m = rm(b"r", Put(b"cf", b"q", b"v"))
    with pytest.raises(AttributeError):
        m.row = b"x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        m.ops[0].value = b"x"  # type: ignore[misc]
