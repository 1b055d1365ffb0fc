"""Decoded, immutable data/index block: a sorted key list searched with ``bisect``.

Role: sstable_reader builds a Block from a checksum-verified, decompressed
payload and shares it through the block cache; iterators and point reads
search it.
Format: docs/formats/sstable.md#field-grammar (authoritative). Summary::

    payload := n:u32le key_off:u32le*(n+1) val_off:u32le*(n+1) key_bytes* value_bytes*

Decoding slices all keys once (one list comprehension, ~0.1 us per key) so
that a lookup is one C-level ``bisect`` over a list; values are sliced only
when asked for.
Invariants: ``keys`` strictly increasing; offsets monotonic and inside the payload.
Concurrency: immutable after ``__init__``; shareable between threads.
Hot path: ``Block.seek`` (every point read), ``Block.items`` (every scan);
see docs/formats/sstable.md#performance.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from itertools import pairwise

from hedgerow.storage.sstable_format import HANDLE

__all__ = ["Block", "BlockFormatError"]

_U32 = struct.Struct("<I")
_BIG_ENDIAN_HOST = sys.byteorder == "big"
#: Rough per-entry memory of the decoded key list (bytes object header + list slot).
_PER_KEY_OVERHEAD = 41
_HANDLE_UNPACK = HANDLE.unpack_from


class BlockFormatError(ValueError):
    """The payload is not a well-formed block (the reader turns this into CorruptionError)."""


class Block:
    """One decoded block.

    Reading: ``seek(key)`` -> index of first entry >= key; ``keys[i]``;
    ``value(i)``; ``handle(i)`` for index blocks.
    Scanning: ``items(i, j)`` -> iterator of (key, value) for entries i..j-1.
    Admin: ``charge`` (approximate bytes of memory, for the block cache).

    >>> from hedgerow.storage.block_builder import encode_block
    >>> b = Block(encode_block([b"a", b"c"], [b"1", b"2"]))
    >>> b.seek(b"b"), b.keys[1], b.value(1), list(b.items(0, 2))
    (1, b'c', b'2', [(b'a', b'1'), (b'c', b'2')])
    """

    __slots__ = ("data", "keys", "_voff", "charge")

    def __init__(self, data: bytes) -> None:
        size = len(data)
        if size < 12:
            raise BlockFormatError(f"block payload of {size} bytes is too short")
        n = _U32.unpack_from(data, 0)[0]
        base = 4 + 8 * (n + 1)
        if base > size:
            raise BlockFormatError(f"block claims {n} entries but has only {size} bytes")
        offs = array("I")
        offs.frombytes(memoryview(data)[4:base])
        if _BIG_ENDIAN_HOST:  # pragma: no cover - no big-endian CI host
            offs.byteswap()
        key_off = offs[: n + 1]
        val_off = offs[n + 1 :]
        if key_off[0] != base or key_off[n] != val_off[0] or val_off[n] != size:
            raise BlockFormatError("block offsets do not match the payload size")
        # constant after __init__
        self.data = data
        self.keys: list[bytes] = [data[a:b] for a, b in pairwise(key_off)]
        self._voff = val_off
        self.charge = size + (val_off[0] - base) + _PER_KEY_OVERHEAD * n + 8 * n + 200

    def __len__(self) -> int:
        return len(self.keys)

    def seek(self, key: bytes) -> int:
        """Index of the first entry whose key is >= ``key`` (``len(self)`` if none). O(log n) in C."""
        return bisect_left(self.keys, key)

    def value(self, i: int) -> bytes:
        """The value of entry ``i``."""
        voff = self._voff
        return self.data[voff[i] : voff[i + 1]]

    def values(self, i: int, j: int) -> list[bytes]:
        """Values of entries ``i .. j-1`` as a list (one comprehension)."""
        data = self.data  # hoisted: local lookups in the comprehension
        return [data[a:b] for a, b in pairwise(self._voff[i : j + 1])]

    def items(self, i: int = 0, j: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) pairs of entries ``i .. j-1`` in order."""
        if j is None:
            j = len(self.keys)
        if i >= j:
            return iter(())
        return zip(self.keys[i:j], self.values(i, j), strict=True)

    def handle(self, i: int) -> tuple[int, int]:
        """Entry ``i``'s value decoded as a block handle (offset, size): for index blocks."""
        voff = self._voff
        if voff[i + 1] - voff[i] != HANDLE.size:
            raise BlockFormatError(f"index entry {i} is not a block handle")
        off_size: tuple[int, int] = _HANDLE_UNPACK(self.data, voff[i])
        return off_size

    def _check(self) -> None:
        """Assert every invariant; dumps the offending state on failure."""
        keys = self.keys
        for a, b in pairwise(keys):
            assert a < b, f"block keys out of order: {a!r} >= {b!r}"
        voff = self._voff
        for a2, b2 in pairwise(voff):
            assert a2 <= b2, f"value offsets not monotonic: {list(voff)!r}"
