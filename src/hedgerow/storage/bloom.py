"""Per-file bloom filter over rows or row+column: builder (writer side) and reader.

Role: sstable_writer feeds each finished data block's keys to a BloomBuilder
and stores ``finish()`` as the file's bloom block; sstable_reader loads it at
open and answers ``may_contain_row`` / ``may_contain_rowcol`` so point reads
skip files that cannot hold the row.
Format: docs/formats/sstable.md#field-grammar (authoritative). Summary::

    bloom   := bloom_type:u8 k:u8 hash_fn:u8 pad:u8 num_items:u32le bits:bytes
    item    := keys.row_prefix(row)              (ROW)
             | keys.column_prefix(row, qual)     (ROWCOL)
    hash_fn 1: h = xxh3_64(item); a = h mod 2**32; b = h >> 32
               bit_i = (a + i*b) mod m, i = 0..k-1, m = 8*len(bits)
    bit p   := bits[p >> 3] >> (p & 7) & 1

Invariants: no false negatives; ~1% false positives at 10 bits per item, k=7.
Consecutive equal items are added once (the keys arrive sorted).
Concurrency: a BloomBuilder is not thread-safe; a BloomFilter is immutable.
Hot path: ``BloomFilter.may_contain`` (every point read, ~1 us);
``BloomBuilder.finish`` (every flush: C-level map passes, ~2-3 us per item).
"""

from __future__ import annotations

import struct
from array import array
from collections import deque
from itertools import groupby, repeat
from operator import add, and_, mod, rshift

from xxhash import xxh3_64_intdigest

from hedgerow.model.keys import KEY_SUFFIX_LEN, TERM, column_prefix, row_prefix
from hedgerow.storage.sstable_format import BloomType

__all__ = [
    "DEFAULT_BITS_PER_ITEM",
    "DEFAULT_NUM_PROBES",
    "HASH_XXH3_DOUBLE",
    "BloomBuilder",
    "BloomFilter",
    "items_of_keys",
]

#: bloom_type:u8 k:u8 hash_fn:u8 pad:u8 num_items:u32le
_HEADER = struct.Struct("<BBBxI")
#: hash_fn id of the only scheme so far (ON-DISK: never renumber).
HASH_XXH3_DOUBLE = 1
#: 10 bits per item with 7 probes: (1 - e**-0.7)**7 = 0.82% false positives.
DEFAULT_BITS_PER_ITEM = 10
DEFAULT_NUM_PROBES = 7
_M32 = 0xFFFFFFFF
_CHUNK = 1 << 16  # hashes processed per pass in finish(); bounds temporary lists
_TO_ASCII01 = bytes.maketrans(b"\x00\x01", b"01")


def items_of_keys(bloom_type: BloomType, keys: list[bytes]) -> list[bytes]:
    """The bloom items of a sorted list of internal keys, one per distinct row (or column).

    >>> from hedgerow.model.keys import encode_key
    >>> ks = [encode_key(b"r", b"a", 2, 4, 1), encode_key(b"r", b"a", 1, 4, 1)]
    >>> items_of_keys(BloomType.ROW, ks), items_of_keys(BloomType.ROWCOL, ks)
    ([b'r\\x00\\x01'], [b'r\\x00\\x01a\\x00\\x01'])
    """
    if bloom_type == BloomType.ROW:
        # the first TERM in an internal key ends the escaped row (escape never emits 00 01)
        items = [k[: k.find(TERM) + 2] for k in keys]
    elif bloom_type == BloomType.ROWCOL:
        items = [k[:-KEY_SUFFIX_LEN] for k in keys]
    else:
        return []
    return [x for x, _ in groupby(items)]


class BloomBuilder:
    """Collects item hashes and encodes the filter; ``(add_keys | add)* finish``.

    >>> b = BloomBuilder(BloomType.ROW)
    >>> b.add(b"r1\\x00\\x01"); b.add(b"r1\\x00\\x01"); b.num_items
    1
    >>> f = BloomFilter(b.finish())
    >>> f.may_contain(b"r1\\x00\\x01")
    True
    """

    __slots__ = ("bloom_type", "_bits_per_item", "_k", "_hashes", "_last")

    def __init__(
        self,
        bloom_type: BloomType,
        *,
        bits_per_item: int = DEFAULT_BITS_PER_ITEM,
        num_probes: int = DEFAULT_NUM_PROBES,
    ) -> None:
        if not 1 <= num_probes <= 30 or bits_per_item < 1:
            raise ValueError("bloom needs 1..30 probes and >= 1 bit per item")
        # constant after __init__
        self.bloom_type = bloom_type
        self._bits_per_item = bits_per_item
        self._k = num_probes
        # mutable state
        self._hashes = array("Q")
        self._last: bytes | None = None

    @property
    def num_items(self) -> int:
        return len(self._hashes)

    def add(self, item: bytes) -> None:
        """Add one item (skipped when equal to the previous item)."""
        if item != self._last:
            self._hashes.append(xxh3_64_intdigest(item))
            self._last = item

    def add_keys(self, keys: list[bytes]) -> None:
        """Add the items of a sorted run of internal keys (one data block's keys)."""
        items = items_of_keys(self.bloom_type, keys)
        if not items:
            return
        if items[0] == self._last:
            del items[0]
            if not items:
                return
        self._hashes.extend(map(xxh3_64_intdigest, items))
        self._last = items[-1]

    def finish(self) -> bytes:
        """Encode the filter block payload.

        Cost: k C-level ``map`` passes over the hashes (no per-probe bytecode): bits
        are first set as one byte per bit, then packed with ``int(..., 2)``.
        """
        n = len(self._hashes)
        m = max(64, ((n * self._bits_per_item + 7) // 8) * 8)
        flags = bytearray(m)  # one byte per bit; packed at the end
        set_flag = flags.__setitem__
        hashes = self._hashes
        for start in range(0, n, _CHUNK):
            chunk = hashes[start : start + _CHUNK]
            cur = list(map(and_, chunk, repeat(_M32)))
            step = list(map(rshift, chunk, repeat(32)))
            for i in range(self._k):
                if i:
                    cur = list(map(add, cur, step))
                deque(map(set_flag, map(mod, cur, repeat(m)), repeat(1)), 0)
        # flags[p] becomes bit p: reversed ASCII '0'/'1' string read as base 2 (linear time)
        packed = int(flags.translate(_TO_ASCII01)[::-1], 2).to_bytes(m // 8, "little")
        header = _HEADER.pack(self.bloom_type, self._k, HASH_XXH3_DOUBLE, min(n, _M32))
        return header + packed


class BloomFilter:
    """A loaded bloom filter; immutable.

    Reading: ``may_contain(item)``, ``may_contain_row(row)``, ``may_contain_rowcol(row, q)``.
    """

    __slots__ = ("bloom_type", "num_items", "_k", "_m", "_bits")

    def __init__(self, payload: bytes) -> None:
        if len(payload) < _HEADER.size + 8:
            raise ValueError(f"bloom block of {len(payload)} bytes is too short")
        bloom_type, k, hash_fn, num_items = _HEADER.unpack_from(payload, 0)
        if hash_fn != HASH_XXH3_DOUBLE:
            raise ValueError(f"unknown bloom hash function {hash_fn}")
        if not 1 <= k <= 30:
            raise ValueError(f"bad bloom probe count {k}")
        # constant after __init__
        self.bloom_type = BloomType(bloom_type)
        self.num_items: int = num_items
        self._k: int = k
        self._bits = payload[_HEADER.size :]
        self._m = len(self._bits) * 8

    def may_contain(self, item: bytes) -> bool:
        """False only if ``item`` was certainly never added. ~k Python steps, early exit."""
        h = xxh3_64_intdigest(item)
        a = h & _M32
        b = h >> 32
        m = self._m
        bits = self._bits  # hoisted for the loop
        for _ in range(self._k):
            p = a % m
            if not (bits[p >> 3] >> (p & 7)) & 1:
                return False
            a += b
        return True

    def may_contain_row(self, row: bytes) -> bool:
        """For a ROW filter: could ``row`` be in the file? (True for other filter types.)"""
        if self.bloom_type != BloomType.ROW:
            return True
        return self.may_contain(row_prefix(row))

    def may_contain_rowcol(self, row: bytes, qualifier: bytes) -> bool:
        """For a ROWCOL filter: could column ``row``/``qualifier`` be in the file?"""
        if self.bloom_type != BloomType.ROWCOL:
            return True
        return self.may_contain(column_prefix(row, qualifier))
