"""Writes one immutable store file ("sstable") from keys added in increasing order.

Role: the store's flush (memstore -> file) and compaction (files -> file) create
an SSTableWriter, ``add`` every (internal key, value), then ``finish`` (or
``abandon`` on error); readers open the result with sstable_reader.
Format: docs/formats/sstable.md (authoritative). Summary::

    file   := data_block* index_block* bloom_block? meta_block footer
    block  := payload block_type:u8 codec:u8 crc32c:u32le
    index  := one entry per child block: last key of the child -> handle
              (levels are added until the root fits one block; depth in footer)

Invariants: keys strictly increasing (checked when ``invariants.ENABLED``);
call order ``add* (finish | abandon)``; the file is fsynced before ``finish`` returns.
Concurrency: not thread-safe; one writer per file, used by one thread.
Hot path: ``add`` (every entry of every flush/compaction: two appends and a
size check); per block ``_flush_data_block``, whose encoding, compression,
checksum and bloom items are one or two calls into the Rust core
(``hedgerow._core``, rust/src/sstable/); see docs/formats/sstable.md#performance.
"""

from __future__ import annotations

import struct
from typing import Any

from hedgerow._core import BloomBuilder, encode_footer, seal_block, seal_entries
from hedgerow._internal import failpoints, invariants
from hedgerow.errors import ClosedError, InvalidArgument
from hedgerow.model.cell import KeyType
from hedgerow.model.keys import KEY_SUFFIX_LEN
from hedgerow.storage.fs import FileSystem, WritableFile
from hedgerow.storage.sstable_format import (
    FORMAT_VERSION,
    HANDLE,
    NULL_HANDLE,
    BlockType,
    BloomType,
    SSTableProperties,
    codec_for_name,
    encode_properties,
)

__all__ = ["SSTableWriter"]

#: The (ts, type, seq) suffix of an internal key, inverted (see keys.py).
_SUFFIX = struct.Struct(">QBQ")
assert _SUFFIX.size == KEY_SUFFIX_LEN
_U64 = (1 << 64) - 1
_INV_DELETE_TYPES = frozenset(
    255 - t for t in KeyType if t != KeyType.PUT
)  # inverted type bytes of the delete markers
_WRITE_BUFFER_BYTES = 1 << 20  # coalesce blocks into ~1 MiB writes
#: Bytes of offsets each entry adds to a block payload (one key offset, one value offset).
_ENTRY_OVERHEAD = 8
_EMPTY_BLOCK_SIZE = 4 + _ENTRY_OVERHEAD


class SSTableWriter:
    """Builds a store file; ``add* (finish | abandon)``.

    Writing: ``add(key, value)``; ``finish(extra_properties)`` -> SSTableProperties.
    Admin: ``abandon()`` closes and deletes a partial file; ``entries``; ``path``.

    >>> import tempfile, os
    >>> from hedgerow.storage.fs import LocalFS
    >>> from hedgerow.model.keys import encode_key
    >>> path = os.path.join(tempfile.mkdtemp(), "f.sst")
    >>> w = SSTableWriter(LocalFS(), path, family=b"cf", block_size_bytes=4096,
    ...                   compression="none", bloom_filter_type="ROW")
    >>> w.add(encode_key(b"r", b"q", 1, 4, 1), b"v")
    >>> w.finish({"flushed_seq": 1}).entries
    1
    """

    def __init__(
        self,
        fs: FileSystem,
        path: str,
        *,
        family: bytes,
        block_size_bytes: int,
        compression: str,
        bloom_filter_type: str,
        created_ms: int = 0,
    ) -> None:
        if block_size_bytes < 1:
            raise InvalidArgument(f"block_size_bytes must be positive, got {block_size_bytes}")
        try:
            bloom_type = BloomType[bloom_filter_type.upper()]
        except KeyError:
            raise InvalidArgument(
                f"unknown bloom_filter_type {bloom_filter_type!r}; expected NONE, ROW or ROWCOL"
            ) from None
        codec = codec_for_name(compression)
        # constant after __init__
        self.path = path
        self._fs = fs
        self._family = family
        self._block_size = block_size_bytes
        self._codec = codec
        self._compression = compression.lower()
        self._bloom_type = bloom_type
        self._created_ms = created_ms
        self._file: WritableFile | None = fs.open_write(path)
        self._finished = False
        # current data block (hot: bound appends hoisted into attributes)
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._keys_append = self._keys.append
        self._values_append = self._values.append
        self._block_bytes = _EMPTY_BLOCK_SIZE
        self._last_key = b""
        # whole-file state
        self._bloom = BloomBuilder(bloom_type) if bloom_type != BloomType.NONE else None
        self._index_keys: list[bytes] = []
        self._index_handles: list[bytes] = []
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._offset = 0
        self._entries = 0
        self._first_key = b""
        self._raw_key_bytes = 0
        self._raw_value_bytes = 0
        self._min_inv_ts = _U64
        self._max_inv_ts = -1
        self._min_inv_seq = _U64
        self._max_inv_seq = -1
        self._delete_markers = 0

    @property
    def entries(self) -> int:
        """Entries added so far."""
        return self._entries + len(self._keys)

    def add(self, key: bytes, value: bytes) -> None:
        """Append one entry. O(1); one block is encoded and written every ~block_size bytes.

        REQUIRES: ``key`` is an internal key greater than every key added before.
        """
        if invariants.ENABLED:
            self._check_add(key)
        self._keys_append(key)
        self._values_append(value)
        self._block_bytes += len(key) + len(value) + _ENTRY_OVERHEAD
        if self._block_bytes >= self._block_size:
            self._flush_data_block()

    def _check_add(self, key: bytes) -> None:
        if self._file is None:
            raise ClosedError(f"sstable writer for {self.path} is finished")
        last = self._keys[-1] if self._keys else self._last_key
        assert self.entries == 0 or key > last, (
            f"keys out of order in {self.path}: {key!r} after {last!r}"
        )
        assert len(key) >= KEY_SUFFIX_LEN + 4, f"not an internal key: {key!r}"

    def _flush_data_block(self) -> None:
        keys = self._keys
        values = self._values
        if not keys:
            return
        # file statistics from the keys' fixed suffixes: C-level passes, no per-key bytecode
        inv_ts, inv_type, inv_seq = zip(
            *_SUFFIX.iter_unpack(b"".join([k[-KEY_SUFFIX_LEN:] for k in keys])), strict=True
        )
        self._min_inv_ts = min(self._min_inv_ts, min(inv_ts))
        self._max_inv_ts = max(self._max_inv_ts, max(inv_ts))
        self._min_inv_seq = min(self._min_inv_seq, min(inv_seq))
        self._max_inv_seq = max(self._max_inv_seq, max(inv_seq))
        self._delete_markers += sum(map(_INV_DELETE_TYPES.__contains__, inv_type))
        self._raw_key_bytes += sum(map(len, keys))
        self._raw_value_bytes += sum(map(len, values))
        if self._bloom is not None:
            self._bloom.add_keys(keys)
        if not self._entries:
            self._first_key = keys[0]
        self._entries += len(keys)
        self._last_key = keys[-1]
        handle = self._write_entries(keys, values, BlockType.DATA)
        self._index_keys.append(keys[-1])
        self._index_handles.append(HANDLE.pack(*handle))
        self._keys = []
        self._values = []
        self._keys_append = self._keys.append
        self._values_append = self._values.append
        self._block_bytes = _EMPTY_BLOCK_SIZE

    def _write_block(self, payload: bytes, block_type: BlockType) -> tuple[int, int]:
        """Compress, checksum and buffer one block; return its handle (offset, size)."""
        return self._buffer(*seal_block(payload, block_type, self._codec))

    def _write_entries(
        self, keys: list[bytes], values: list[bytes], block_type: BlockType
    ) -> tuple[int, int]:
        """Encode, compress, checksum and buffer one data or index block (one core call)."""
        try:
            sealed = seal_entries(keys, values, block_type, self._codec)
        except ValueError as e:  # the payload would reach 4 GiB (u32 offsets)
            raise InvalidArgument(str(e)) from None
        return self._buffer(*sealed)

    def _buffer(self, sealed: bytes, size: int) -> tuple[int, int]:
        """Buffer a sealed block (stored bytes + trailer); return its handle."""
        offset = self._offset
        self._out.append(sealed)
        n = len(sealed)
        self._offset += n
        self._out_bytes += n
        if self._out_bytes >= _WRITE_BUFFER_BYTES:
            self._drain()
        return offset, size

    def _drain(self) -> None:
        assert self._file is not None
        if self._out:
            self._file.write(b"".join(self._out))
            self._out = []
            self._out_bytes = 0

    def _write_index(self) -> tuple[tuple[int, int], int]:
        """Write the index levels bottom-up; return (root handle, depth)."""
        keys, handles = self._index_keys, self._index_handles
        depth = 1
        per_entry = _ENTRY_OVERHEAD + HANDLE.size
        while len(keys) > 1 and (
            _EMPTY_BLOCK_SIZE + sum(map(len, keys)) + per_entry * len(keys) > self._block_size
        ):
            upper_keys: list[bytes] = []
            upper_handles: list[bytes] = []
            start = 0
            size = _EMPTY_BLOCK_SIZE
            for i, k in enumerate(keys):
                size += len(k) + per_entry
                # close a block when full, but keep >= 2 entries per block so levels shrink
                if (size >= self._block_size and i - start >= 1) or i == len(keys) - 1:
                    handle = self._write_entries(
                        keys[start : i + 1], handles[start : i + 1], BlockType.INDEX
                    )
                    upper_keys.append(k)
                    upper_handles.append(HANDLE.pack(*handle))
                    start = i + 1
                    size = _EMPTY_BLOCK_SIZE
            keys, handles = upper_keys, upper_handles
            depth += 1
        return self._write_entries(keys, handles, BlockType.INDEX), depth

    def finish(self, extra_properties: dict[str, Any] | None = None) -> SSTableProperties:
        """Write the last data block, the index, bloom, meta block and footer; fsync; close.

        Cost: one write per ~1 MiB plus one fsync. Raises what the filesystem raises;
        then call ``abandon``.
        """
        if self._file is None:
            raise ClosedError(f"sstable writer for {self.path} is already finished")
        self._flush_data_block()
        index_handle, depth = self._write_index()
        bloom_handle = NULL_HANDLE
        if self._bloom is not None:
            bloom_handle = self._write_block(self._bloom.finish(), BlockType.BLOOM)
        empty = self._entries == 0
        props = SSTableProperties(
            format_version=FORMAT_VERSION,
            family=self._family,
            entries=self._entries,
            first_key=self._first_key,
            last_key=self._last_key,
            min_seq=0 if empty else _U64 - self._max_inv_seq,
            max_seq=0 if empty else _U64 - self._min_inv_seq,
            min_ts=0 if empty else _U64 - self._max_inv_ts,
            max_ts=0 if empty else _U64 - self._min_inv_ts,
            delete_markers=self._delete_markers,
            bloom_type=self._bloom_type.name,
            compression=self._compression,
            created_ms=self._created_ms,
            data_blocks=len(self._index_keys),
            index_depth=depth,
            raw_key_bytes=self._raw_key_bytes,
            raw_value_bytes=self._raw_value_bytes,
            extra=dict(extra_properties or {}),
        )
        meta_handle = self._write_block(encode_properties(props), BlockType.META)
        footer = encode_footer(meta_handle, index_handle, bloom_handle, depth)
        self._out.append(footer)
        self._offset += len(footer)
        self._drain()
        failpoints.hit("storage.sstable.before_sync")
        file = self._file
        file.sync()
        file.close()
        self._file = None
        self._finished = True
        return SSTableProperties(**{**props.__dict__, "file_size": self._offset})

    def abandon(self) -> None:
        """Close and delete the partial file. Safe to call more than once; a no-op after
        a successful ``finish`` (the finished file is not partial)."""
        if self._finished:
            return
        file, self._file = self._file, None
        try:
            if file is not None:
                file.close()
        finally:
            self._fs.remove(self.path)
