"""Internal keys: a byte encoding of (row, qualifier, timestamp, type, seq) that sorts correctly.

Role: every store (one column family of one region) orders its cells by the
internal key; the memstore, store files, block index and merging iterator all
compare keys as plain ``bytes``, so every comparison runs in C (``bisect``,
``sortedcontainers``) rather than in a Python ``__lt__``.
Format: docs/formats/keys.md (authoritative). Summary::

    internal_key := esc(row) TERM esc(qualifier) TERM inv_ts:u64be inv_type:u8 inv_seq:u64be
    esc(b)       := b with every 0x00 replaced by 0x00 0xFF
    TERM         := 0x00 0x01
    inv_ts       := 2**64 - 1 - timestamp       (newest first)
    inv_type     := 255 - type                  (delete markers before puts at equal ts)
    inv_seq      := 2**64 - 1 - seq             (later write first)

The family is not part of the key: a store holds exactly one family.
Byte order of encoded keys equals HBase's cell order (row asc, qualifier asc,
timestamp desc, type desc, sequence desc) because ``esc`` preserves order and
``TERM`` sorts below every escaped byte pair.
Invariants: ``decode(encode(x)) == x``; ``a < b`` iff ``encode(a) < encode(b)``.
Concurrency: pure functions.
Hot path: ``encode_key`` (every write), ``split_key`` (every read); see bench/engine.py.
"""

from __future__ import annotations

import struct

__all__ = [
    "KEY_SUFFIX_LEN",
    "KEY_SUFFIX_STRUCT",
    "TERM",
    "column_prefix",
    "decode_key",
    "encode_key",
    "escape",
    "row_end",
    "row_of",
    "row_prefix",
    "split_key",
    "unescape",
]

TERM = b"\x00\x01"
_ROW_END = b"\x00\x02"
_ESC_FROM = b"\x00"
_ESC_TO = b"\x00\xff"
_U64 = (1 << 64) - 1
_SUFFIX = struct.Struct(">QBQ")
#: Length of the fixed (ts, type, seq) suffix of every internal key.
KEY_SUFFIX_LEN = _SUFFIX.size
#: The suffix's struct (inv_ts, inv_type, inv_seq), for loops that inline split_key.
KEY_SUFFIX_STRUCT = _SUFFIX


def escape(b: bytes) -> bytes:
    """Order-preserving, prefix-free escape: 0x00 becomes 0x00 0xFF."""
    return b.replace(_ESC_FROM, _ESC_TO)


def unescape(b: bytes) -> bytes:
    """Inverse of :func:`escape`."""
    return b.replace(_ESC_TO, _ESC_FROM)


def encode_key(row: bytes, qualifier: bytes, ts: int, key_type: int, seq: int) -> bytes:
    """Encode one cell coordinate as an internal key.

    >>> encode_key(b"r", b"q", 1, 4, 7).hex()
    '720001710001fffffffffffffffefbfffffffffffffff8'
    """
    # fast path: bytes.replace returns its argument unchanged when there is no 0x00
    return (
        row.replace(_ESC_FROM, _ESC_TO)
        + TERM
        + qualifier.replace(_ESC_FROM, _ESC_TO)
        + TERM
        + _SUFFIX.pack(_U64 - ts, 255 - key_type, _U64 - seq)
    )


def row_prefix(row: bytes) -> bytes:
    """The prefix every internal key of ``row`` starts with; also the smallest such key."""
    return row.replace(_ESC_FROM, _ESC_TO) + TERM


def row_end(row: bytes) -> bytes:
    """A key greater than every internal key of ``row`` and smaller than any later row's."""
    return row.replace(_ESC_FROM, _ESC_TO) + _ROW_END


def column_prefix(row: bytes, qualifier: bytes) -> bytes:
    """The prefix of every internal key of one column; the smallest key of that column."""
    return row.replace(_ESC_FROM, _ESC_TO) + TERM + qualifier.replace(_ESC_FROM, _ESC_TO) + TERM


def row_of(key: bytes) -> bytes:
    """The (unescaped) row of an internal key."""
    return key[: key.find(TERM)].replace(_ESC_TO, _ESC_FROM)


def split_key(key: bytes) -> tuple[bytes, bytes, int, int, int]:
    """Decode an internal key into ``(row, qualifier, ts, type, seq)``.

    >>> split_key(encode_key(b"a\\x00b", b"", 5, 12, 9))
    (b'a\\x00b', b'', 5, 12, 9)
    """
    i = key.find(TERM)
    j = key.find(TERM, i + 2)
    inv_ts, inv_type, inv_seq = _SUFFIX.unpack_from(key, j + 2)
    return (
        key[:i].replace(_ESC_TO, _ESC_FROM),
        key[i + 2 : j].replace(_ESC_TO, _ESC_FROM),
        _U64 - inv_ts,
        255 - inv_type,
        _U64 - inv_seq,
    )


decode_key = split_key
