"""WalEdit: the payload of one WAL record (one region, one sequence number, rows of cells).

Role: the region write path builds one WalEdit per write (a put, delete or
batch) and passes ``encode_edit`` bytes to ``WriteAheadLog.append``; recovery
gets WalEdits back from ``read_wal_dir`` and replays them into memstores.
Format: docs/formats/wal.md#edit (authoritative). Summary (msgpack, use_bin_type)::

    edit := [region:str, seq:uint, rows]
    rows := [[row:bin, cells], ...]                   (one or more)
    cells:= [[family:bin, qualifier:bin, ts_ms:int, key_type:uint, value:bin], ...]
Invariants: ``decode_edit(encode_edit(e)) == e``; key_type is a ``KeyType`` value
(model/cell.py); all cells of an edit share ``seq``.
Concurrency: pure functions; a WalEdit is treated as immutable.
Hot path: ``encode_edit`` (every logged write); measured in docs/formats/wal.md#performance.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgpack

from hedgerow.errors import CorruptionError

__all__ = ["CellTuple", "RowCells", "WalEdit", "decode_edit", "encode_edit"]

#: (family, qualifier, timestamp_ms, key_type, value)
CellTuple = tuple[bytes, bytes, int, int, bytes]
#: (row, cells)
RowCells = tuple[bytes, list[CellTuple]]


class WalEdit(NamedTuple):
    """One logged write: every cell of it carries ``seq``.

    >>> e = WalEdit("t,,1", 7, [(b"r", [(b"cf", b"q", 1000, 4, b"v")])])
    >>> decode_edit(encode_edit(e)) == e
    True
    """

    region: str
    seq: int
    rows: list[RowCells]


# msgpack.packb builds a fresh Packer per call; that is what makes it thread-safe,
# and it is still a single C call, cheaper than sharing a Packer under a lock.
_packb = msgpack.packb


def encode_edit(edit: WalEdit) -> bytes:
    """Encode ``edit`` as msgpack (one C call; no validation beyond msgpack's own types).

    Cost: about 1 µs per cell. Raises TypeError/OverflowError (from msgpack) on
    values of the wrong type, ValueError for an edit without rows.
    """
    if not edit.rows:
        raise ValueError("a WAL edit needs at least one row")
    # fast path: WalEdit is a tuple of plain lists/tuples, which msgpack packs natively
    return _packb(edit, use_bin_type=True)


def decode_edit(data: bytes | memoryview) -> WalEdit:
    """Decode and validate a WalEdit; CorruptionError (without path) if malformed."""
    try:
        obj: Any = msgpack.unpackb(data, raw=False, use_list=False)
    except Exception as e:  # msgpack raises several unrelated types
        raise CorruptionError(f"undecodable WAL edit ({type(e).__name__}: {e})") from None
    try:
        region, seq, raw_rows = obj
        if not isinstance(region, str) or type(seq) is not int or seq < 0:
            raise ValueError("bad region or seq")
        rows: list[RowCells] = []
        for row, cells in raw_rows:
            if not isinstance(row, bytes):
                raise ValueError("row is not bytes")
            for cell in cells:
                fam, qual, ts, kt, value = cell
                if not (
                    isinstance(fam, bytes)
                    and isinstance(qual, bytes)
                    and type(ts) is int
                    and type(kt) is int
                    and isinstance(value, bytes)
                ):
                    raise ValueError("bad cell")
            rows.append((row, list(cells)))
        if not rows:
            raise ValueError("edit without rows")
    except (TypeError, ValueError) as e:
        raise CorruptionError(f"malformed WAL edit: {e}") from None
    return WalEdit(region, seq, rows)
