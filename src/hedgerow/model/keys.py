"""Internal keys: a byte encoding of (row, qualifier, timestamp, type, seq) that sorts correctly.

Role: every store (one column family of one region) orders its cells by the
internal key; the memstore, store files, block index and merging iterator all
compare keys as plain bytes, so every comparison runs in C or Rust (``bisect``,
the memstore's ``BTreeMap``) rather than in a Python ``__lt__``.
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
The key functions are the compiled core's (rust/src/keys.rs, byte-identical with the
``bytes.replace`` chain they replaced and faster per call; bench/bench_keys.py on this
project's 2-core VM, a 16-byte row, ns per call Python -> Rust: ``encode_key`` 357 -> 115,
``split_key`` 554 -> 156, ``row_of`` 219 -> 82, ``row_prefix``/``row_end`` 120 -> 71).
They raise OverflowError for a timestamp, type or seq out of its field's range and
ValueError for bytes that are not an internal key. ``escape``/``unescape`` stay here:
one ``bytes.replace`` each.
"""

from __future__ import annotations

import struct

from hedgerow._core import column_prefix, encode_key, row_end, row_of, row_prefix, split_key

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
_ESC_FROM = b"\x00"
_ESC_TO = b"\x00\xff"
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


decode_key = split_key
