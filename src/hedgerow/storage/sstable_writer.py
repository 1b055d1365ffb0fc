"""Writes one immutable store file ("sstable") from keys added in increasing order.

Role: the store's flush (memstore -> file) and compaction (files -> file) create
an SSTableWriter, ``add_batch`` (or ``add``) every (internal key, value), then
``finish`` (or ``abandon`` on error); readers open the result with sstable_reader.
Format: docs/formats/sstable.md (authoritative). Summary::

    file   := data_block* index_block* bloom_block? meta_block footer
    block  := payload block_type:u8 codec:u8 crc32c:u32le
    index  := one entry per child block: last key of the child -> handle
              (levels are added until the root fits one block; depth in footer)

The file is built by the Rust core (``hedgerow._core.StoreFileWriter``,
rust/src/sstable/writer.rs, RFC 0002 phase 2): blocks, index, bloom, footer and the
writes and fsync, through the core's file-system seam (the local file system with
the GIL released, or this ``fs`` object when it is a MemFS/FaultFS/test double). This
wrapper keeps the options, the meta block's property map (msgpack, with the caller's
``extra``) and the ``storage.sstable.before_sync`` failpoint.
Invariants: keys strictly increasing (checked by the core on every key; also per
``add`` when ``invariants.ENABLED``); call order ``add* (finish | abandon)``; the file
is fsynced before ``finish`` returns.
Concurrency: not thread-safe; one writer per file, used by one thread.
Hot path: ``add_batch`` (one core call per batch); ``add`` buffers ``_BATCH``
entries per core call. See docs/formats/sstable.md#performance.
"""

from __future__ import annotations

from typing import Any

from hedgerow._core import StoreFileWriter
from hedgerow._internal import failpoints, invariants
from hedgerow.errors import ClosedError, InvalidArgument
from hedgerow.model.keys import KEY_SUFFIX_LEN
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.sstable_format import (
    FORMAT_VERSION,
    BloomType,
    SSTableProperties,
    codec_for_name,
    encode_properties,
)

__all__ = ["SSTableWriter"]

#: Entries ``add`` buffers before one core call.
_BATCH = 512


class SSTableWriter:
    """Builds a store file; ``(add | add_batch)* (finish | abandon)``.

    Writing: ``add(key, value)``, ``add_batch(keys, values)``;
    ``finish(extra_properties)`` -> SSTableProperties.
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
        self._family = family
        self._compression = compression.lower()
        self._bloom_type = bloom_type
        self._created_ms = created_ms
        self._core = StoreFileWriter(fs, path, block_size_bytes, int(codec), int(bloom_type))
        self._open = True
        self._finished = False
        # entries buffered by ``add`` for the next core call
        self._keys: list[bytes] = []
        self._values: list[bytes] = []

    @property
    def entries(self) -> int:
        """Entries added so far."""
        return int(self._core.entries) + len(self._keys)

    def add(self, key: bytes, value: bytes) -> None:
        """Append one entry (buffered; the core gets ``_BATCH`` entries per call).

        REQUIRES: ``key`` is an internal key greater than every key added before.
        """
        if invariants.ENABLED:
            self._check_add(key)
        self._keys.append(key)
        self._values.append(value)
        if len(self._keys) >= _BATCH:
            self._flush_pending()

    def add_batch(self, keys: list[bytes], values: list[bytes]) -> None:
        """Append parallel lists of entries in one core call (keys increasing)."""
        if not self._open:
            raise ClosedError(f"sstable writer for {self.path} is finished")
        self._flush_pending()
        self._call_add(keys, values)

    def _call_add(self, keys: list[bytes], values: list[bytes]) -> None:
        try:
            self._core.add_batch(keys, values)
        except ValueError as e:  # order, a block past 4 GiB
            raise InvalidArgument(str(e)) from None

    def _flush_pending(self) -> None:
        if self._keys:
            keys, values = self._keys, self._values
            self._keys, self._values = [], []
            self._call_add(keys, values)

    def _check_add(self, key: bytes) -> None:
        if not self._open:
            raise ClosedError(f"sstable writer for {self.path} is finished")
        last = self._keys[-1] if self._keys else None
        assert last is None or key > last, (
            f"keys out of order in {self.path}: {key!r} after {last!r}"
        )
        assert len(key) >= KEY_SUFFIX_LEN + 4, f"not an internal key: {key!r}"

    def finish(self, extra_properties: dict[str, Any] | None = None) -> SSTableProperties:
        """Write the last data block, the index, bloom, meta block and footer; fsync; close.

        Cost: one write per ~1 MiB plus one fsync. Raises what the filesystem raises;
        then call ``abandon``.
        """
        if not self._open:
            raise ClosedError(f"sstable writer for {self.path} is already finished")
        self._flush_pending()
        stats = self._core.finish_blocks()
        self._open = False
        props = SSTableProperties(
            format_version=FORMAT_VERSION,
            family=self._family,
            bloom_type=self._bloom_type.name,
            compression=self._compression,
            created_ms=self._created_ms,
            extra=dict(extra_properties or {}),
            **stats,
        )
        size = self._core.finish(encode_properties(props))
        failpoints.hit("storage.sstable.before_sync")
        self._core.sync_close()
        self._finished = True
        return SSTableProperties(**{**props.__dict__, "file_size": size})

    def abandon(self) -> None:
        """Close and delete the partial file. Safe to call more than once; a no-op after
        a successful ``finish`` (the finished file is not partial)."""
        if self._finished:
            return
        self._open = False
        self._keys, self._values = [], []
        self._core.abandon()
