"""Per-call cost of the compiled core's key and record functions next to pure Python.

Issue 13 moved internal keys (rust/src/keys.rs) and log-record framing
(rust/src/wal_record.rs) into ``hedgerow._core``; a PyO3 call costs some 50-100 ns, so
each function was kept in Rust only if it is not slower than the Python it replaced.
The Python versions below are the ones that were deleted (a ``bytes.replace`` chain and
``struct``; ``crc32c`` package plus ``struct`` for framing), kept here as the reference:
the benchmark also checks both give the same bytes. Each figure is the best of 5
repetitions of 200,000 calls (``timeit``), in ns per call; a 16-byte row, a one-byte
qualifier and, for framing, a 159-byte payload (the WAL's one-cell edit).

    python bench/bench_keys.py
"""

from __future__ import annotations

import struct
import timeit
from collections.abc import Callable
from typing import Any

import crc32c

from hedgerow import _core

_U64 = (1 << 64) - 1
_SUFFIX = struct.Struct(">QBQ")
_RECORD = struct.Struct("<IIB")
_TERM = b"\x00\x01"


def py_encode_key(row: bytes, qualifier: bytes, ts: int, key_type: int, seq: int) -> bytes:
    return (
        row.replace(b"\x00", b"\x00\xff")
        + _TERM
        + qualifier.replace(b"\x00", b"\x00\xff")
        + _TERM
        + _SUFFIX.pack(_U64 - ts, 255 - key_type, _U64 - seq)
    )


def py_split_key(key: bytes) -> tuple[bytes, bytes, int, int, int]:
    i = key.find(_TERM)
    j = key.find(_TERM, i + 2)
    inv_ts, inv_type, inv_seq = _SUFFIX.unpack_from(key, j + 2)
    return (
        key[:i].replace(b"\x00\xff", b"\x00"),
        key[i + 2 : j].replace(b"\x00\xff", b"\x00"),
        _U64 - inv_ts,
        255 - inv_type,
        _U64 - inv_seq,
    )


def py_row_of(key: bytes) -> bytes:
    return key[: key.find(_TERM)].replace(b"\x00\xff", b"\x00")


def py_row_prefix(row: bytes) -> bytes:
    return row.replace(b"\x00", b"\x00\xff") + _TERM


def py_row_end(row: bytes) -> bytes:
    return row.replace(b"\x00", b"\x00\xff") + b"\x00\x02"


_TYPE_CRC = {1: crc32c.crc32c(b"\x01")}


def py_frame_record(record_type: int, payload: bytes) -> bytes:
    crc = crc32c.crc32c(payload, _TYPE_CRC[record_type])
    return _RECORD.pack(crc, len(payload), record_type) + payload


def ns_per_call(fn: Callable[..., Any], *args: Any) -> float:
    n = 200_000
    best = min(timeit.repeat(lambda: fn(*args), number=n, repeat=5))
    return best / n * 1e9


def main() -> None:
    row, qual = b"row-000123456789", b"q"
    key = py_encode_key(row, qual, 1_700_000_000_000, 4, 12345)
    payload = bytes(range(159))
    cases: list[tuple[str, Callable[..., Any], Callable[..., Any], tuple[Any, ...]]] = [
        ("encode_key", py_encode_key, _core.encode_key, (row, qual, 1_700_000_000_000, 4, 12345)),
        ("split_key", py_split_key, _core.split_key, (key,)),
        ("row_of", py_row_of, _core.row_of, (key,)),
        ("row_prefix", py_row_prefix, _core.row_prefix, (row,)),
        ("row_end", py_row_end, _core.row_end, (row,)),
        ("frame_record", py_frame_record, _core.frame_record, (1, payload)),
    ]
    print(f"{'function':<14}{'python ns':>10}{'rust ns':>10}")
    for name, py, rs, args in cases:
        assert py(*args) == rs(*args), name
        print(f"{name:<14}{ns_per_call(py, *args):>10.0f}{ns_per_call(rs, *args):>10.0f}")


if __name__ == "__main__":
    main()
