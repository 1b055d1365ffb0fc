"""Encoder for data and index blocks: an entry count, two offset arrays, a keys blob, a values blob.

Role: sstable_writer feeds each data block's entries (and each index level's
separator -> handle entries) here and stores the payload it returns.
Format: docs/formats/sstable.md#field-grammar (authoritative). Summary::

    payload := n:u32le key_off:u32le*(n+1) val_off:u32le*(n+1) key_bytes* value_bytes*
    key i   := payload[key_off[i] : key_off[i+1]]     (offsets from payload start)
    value i := payload[val_off[i] : val_off[i+1]]     key_off[n] == val_off[0]

No prefix compression: a reader slices every key with C-level operations and
binary-searches the list with ``bisect``; the block codec (lz4/zstd) removes the
redundancy that prefix compression would have.
Invariants: keys added in strictly increasing byte order (checked by the
writer when ``invariants.ENABLED``); payload < 4 GiB.
Concurrency: a BlockBuilder is not thread-safe; ``encode_block`` is a pure function.
Hot path: ``encode_block`` once per block written (flush, compaction); see
the measurement in docs/formats/sstable.md#performance.
"""

from __future__ import annotations

import struct
import sys
from array import array
from itertools import accumulate

from hedgerow.errors import InvalidArgument

__all__ = ["BlockBuilder", "encode_block", "entry_overhead"]

_U32 = struct.Struct("<I")
_BIG_ENDIAN_HOST = sys.byteorder == "big"
assert array("I").itemsize == 4, "array('I') must be 4 bytes wide on this platform"

#: Bytes of offsets each entry adds to a payload (one key offset, one value offset).
entry_overhead = 8


def encode_block(keys: list[bytes], values: list[bytes]) -> bytes:
    """Encode parallel lists of keys and values as one block payload.

    REQUIRES: ``len(keys) == len(values)``; keys sorted (not checked here).
    Cost: a handful of C-level passes over the lists; no per-entry Python bytecode.

    >>> p = encode_block([b"a", b"bc"], [b"", b"v"])
    >>> [p[i : i + 4].hex() for i in range(0, 28, 4)], p[28:]
    (['02000000', '1c000000', '1d000000', '1f000000', '1f000000', '1f000000', '20000000'], b'abcv')
    """
    n = len(keys)
    base = 4 + 8 * (n + 1)
    try:
        key_off = array("I", accumulate(map(len, keys), initial=base))
        val_off = array("I", accumulate(map(len, values), initial=key_off[-1]))
    except OverflowError:
        raise InvalidArgument("block payload would exceed 4 GiB") from None
    if _BIG_ENDIAN_HOST:  # pragma: no cover - no big-endian CI host
        key_off.byteswap()
        val_off.byteswap()
    parts = [_U32.pack(n), key_off.tobytes(), val_off.tobytes()]
    parts += keys
    parts += values
    return b"".join(parts)


class BlockBuilder:
    """Accumulates one block's entries; ``(add* finish reset)*``.

    Writing: ``add`` appends one entry, ``estimated_size`` is the payload size
    ``finish`` would produce, ``finish`` returns the payload, ``reset`` empties.

    >>> b = BlockBuilder()
    >>> b.add(b"k", b"v"); b.estimated_size()
    22
    >>> len(b.finish())
    22
    """

    __slots__ = ("keys", "values", "_size")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.values: list[bytes] = []
        self._size = 4 + entry_overhead  # count + the two leading offsets

    def add(self, key: bytes, value: bytes) -> None:
        """Append one entry. REQUIRES: ``key`` greater than every key added before."""
        self.keys.append(key)
        self.values.append(value)
        self._size += len(key) + len(value) + entry_overhead

    def estimated_size(self) -> int:
        """Exact size in bytes of the payload ``finish`` would return now."""
        return self._size

    def __len__(self) -> int:
        return len(self.keys)

    def finish(self) -> bytes:
        """Return the encoded payload of the entries added so far."""
        return encode_block(self.keys, self.values)

    def reset(self) -> None:
        """Forget all entries."""
        self.keys = []
        self.values = []
        self._size = 4 + entry_overhead
