"""Reads one store file: point reads by row, range iteration, bloom checks.

Role: the store opens one SSTableReader per live file (its handle rationed by
the table cache, table_cache.py) and merges their ``iter_from`` streams with the memstore's; ``get_row`` serves
point reads after ``may_contain_row`` said yes.
Format: docs/formats/sstable.md (authoritative). Summary::

    file   := data_block* index_block* bloom_block? meta_block footer(56 bytes)
    block  := payload block_type:u8 codec:u8 crc32c:u32le

Open reads the footer, the root index block, the bloom block and the meta
block; lower index levels and data blocks are read on demand through the
block cache, keyed ``(file_id, offset)``. File I/O and the index walk are
here; the footer, block trailers, decompression, block decoding and seeks,
and the bloom filter are the Rust core's (``hedgerow._core``, rust/src/sstable/),
one call per block read.
Corruption: a bad magic, a footer checksum mismatch or a truncated file fails
``open`` with CorruptionError; an unknown version with FormatVersionError; a bad
block checksum fails the read that touches that block, naming path and offset.
Invariants: the reader never changes after ``open`` (until ``close``).
Concurrency: thread-safe: reads are ``pread`` calls on a RandomAccessFile and
the block cache has its own lock.
Hot path: ``get_row`` (point reads: index descent with ``Block.child`` + one
cached block's ``Block.range``); ``iter_from`` (scans); see
docs/formats/sstable.md#performance.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from hedgerow._core import Block, BlockFormatError, BloomFilter, decode_block, open_block
from hedgerow._core import parse_footer as _parse_footer
from hedgerow.errors import ClosedError, CorruptionError, storage_error
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem, RandomAccessFile
from hedgerow.storage.sstable_format import (
    BLOCK_TRAILER,
    FOOTER_SIZE,
    NULL_HANDLE,
    BlockType,
    SSTableProperties,
    decode_properties,
)

__all__ = ["Footer", "SSTableReader"]

_TRAILER_SIZE = BLOCK_TRAILER.size
#: Entries per ``Block.items`` call when iterating (see ``_iter``).
_BATCH = 64


class Footer:
    """The decoded fixed-size footer (block handles, index depth, version)."""

    __slots__ = ("meta", "index", "bloom", "index_depth", "version")

    def __init__(
        self,
        meta: tuple[int, int],
        index: tuple[int, int],
        bloom: tuple[int, int],
        index_depth: int,
        version: int,
    ) -> None:
        self.meta = meta
        self.index = index
        self.bloom = bloom
        self.index_depth = index_depth
        self.version = version

    def __repr__(self) -> str:
        return (
            f"Footer(meta={self.meta}, index={self.index}, bloom={self.bloom}, "
            f"index_depth={self.index_depth}, version={self.version})"
        )


def read_footer(file: RandomAccessFile, path: str) -> tuple[Footer, int]:
    """Read and validate the footer; return it and the file size. Raises CorruptionError."""
    size = file.size()
    if size < FOOTER_SIZE:
        raise CorruptionError(
            f"store file is {size} bytes, shorter than its {FOOTER_SIZE}-byte footer (truncated?)",
            path,
            0,
        )
    raw = file.pread(FOOTER_SIZE, size - FOOTER_SIZE)
    if len(raw) != FOOTER_SIZE:
        raise CorruptionError("short read of footer", path, size - FOOTER_SIZE)
    # magic, version, crc, handles, depth: checked in that order by the core
    mo, ms, io, is_, bo, bs, depth, version = _parse_footer(raw, size, path)
    return Footer((mo, ms), (io, is_), (bo, bs), depth, version), size


class SSTableReader:
    """An open store file.

    Reading: ``get_row(row_prefix, row_end)``; ``last_key_before(key)``; ``may_contain_row(row)``,
    ``may_contain_rowcol(row, qualifier)``.
    Scanning: ``iter_from(start_key, stop_key)`` (lazy, in key order).
    Admin: ``open`` (classmethod), ``close``, ``properties``, ``footer``, ``path``,
    ``file_id``; ``index_blocks``/``read_block`` for the dump tool.

    >>> import tempfile, os
    >>> from hedgerow.storage.fs import LocalFS
    >>> from hedgerow.storage.sstable_writer import SSTableWriter
    >>> from hedgerow.model.keys import encode_key, row_prefix, row_end
    >>> fs, path = LocalFS(), os.path.join(tempfile.mkdtemp(), "f.sst")
    >>> w = SSTableWriter(fs, path, family=b"cf", block_size_bytes=4096,
    ...                   compression="lz4", bloom_filter_type="ROW")
    >>> for r in (b"a", b"b"): w.add(encode_key(r, b"q", 5, 4, 1), r.upper())
    >>> _ = w.finish()
    >>> r = SSTableReader.open(fs, path, file_id=1, cache=BlockCache(1 << 20))
    >>> [v for _, v in r.get_row(row_prefix(b"b"), row_end(b"b"))], r.may_contain_row(b"b")
    ([b'B'], True)
    >>> r.close()
    """

    def __init__(
        self,
        file: RandomAccessFile,
        path: str,
        file_id: int,
        cache: BlockCache | None,
        cache_blocks: bool,
        footer: Footer,
        file_size: int,
    ) -> None:
        # constant after __init__ (reads from any thread)
        self.path = path
        self.file_id = file_id
        self.footer = footer
        self._file = file
        self._cache = cache
        self._cache_blocks = cache_blocks
        #: blocks go to the cache's in-memory list (the family's IN_MEMORY option)
        self.in_memory = False
        self._depth = footer.index_depth
        self._closed = False
        self._root = self._decode(footer.index, BlockType.INDEX)
        self.properties: SSTableProperties = self._read_properties(file_size)
        self._bloom: BloomFilter | None = None
        if footer.bloom != NULL_HANDLE:
            payload = self.read_block(footer.bloom, BlockType.BLOOM)
            try:
                self._bloom = BloomFilter(payload)
            except ValueError as e:
                raise CorruptionError(f"bad bloom block: {e}", path, footer.bloom[0]) from None

    @classmethod
    def open(
        cls,
        fs: FileSystem,
        path: str,
        *,
        file_id: int,
        cache: BlockCache | None,
        cache_blocks: bool = True,
        file: RandomAccessFile | None = None,
    ) -> SSTableReader:
        """Open ``path``: reads the footer, root index, bloom and meta blocks (4 preads).

        ``cache_blocks=False`` (the family's ``block_cache_enabled=False``) still looks
        blocks up in the cache but inserts only index blocks, never data blocks.
        ``file``: read through this file instead of opening ``path`` (a store passes a
        ``table_cache.CachedFile``, whose OS handle the region server's TableCache may
        close while idle); the reader closes it.
        Raises CorruptionError (bad magic, footer crc, truncation, bad root/meta/bloom
        block) or FormatVersionError (unknown version).
        """
        if file is None:
            file = fs.open_read(path)
        try:
            footer, size = read_footer(file, path)
            return cls(file, path, file_id, cache, cache_blocks, footer, size)
        except BaseException:
            file.close()
            raise

    def close(self) -> None:
        """Close the file. Cached blocks stay cached (``BlockCache.evict_file`` drops them)."""
        self._closed = True
        self._file.close()

    def _read_properties(self, file_size: int) -> SSTableProperties:
        payload = self.read_block(self.footer.meta, BlockType.META)
        try:
            props = decode_properties(payload, file_size)
        except (ValueError, TypeError) as e:
            raise CorruptionError(f"bad meta block: {e}", self.path, self.footer.meta[0]) from None
        if props.format_version != self.footer.version:
            raise CorruptionError(
                f"meta block says version {props.format_version}, footer {self.footer.version}",
                self.path,
                self.footer.meta[0],
            )
        return props

    # -- block access ------------------------------------------------------------
    def read_block(self, handle: tuple[int, int], expected: BlockType) -> bytes:
        """Read, verify and decompress one block's payload (1 pread; no cache)."""
        raw = self._read_raw(handle)
        try:
            return open_block(raw, expected)
        except BlockFormatError as e:  # crc, type, codec
            raise CorruptionError(str(e), self.path, handle[0]) from None

    def _read_raw(self, handle: tuple[int, int]) -> bytes:
        """The stored bytes and trailer of one block (1 pread), length checked."""
        if self._closed:
            raise ClosedError(f"store file {self.path} is closed")
        offset, size = handle
        try:
            raw = self._file.pread(size + _TRAILER_SIZE, offset)
        except OSError as e:  # a failing disk: StorageError naming file and offset
            raise storage_error(e, f"reading store file {self.path} at offset {offset}") from e
        if len(raw) != size + _TRAILER_SIZE:
            raise CorruptionError(
                f"short read: wanted {size + _TRAILER_SIZE} bytes, got {len(raw)} (truncated?)",
                self.path,
                offset,
            )
        return raw

    def _decode(self, handle: tuple[int, int], expected: BlockType) -> Block:
        """Read, verify, decompress and decode one block in a single core call."""
        raw = self._read_raw(handle)
        try:
            return decode_block(raw, expected)
        except BlockFormatError as e:  # crc, type, codec, malformed offsets
            raise CorruptionError(str(e), self.path, handle[0]) from None

    def _block(self, handle: tuple[int, int], expected: BlockType) -> Block:
        """A decoded block via the cache: 0 reads on a hit, 1 pread on a miss."""
        cache = self._cache
        if cache is None:
            return self._decode(handle, expected)
        key = (self.file_id, handle[0])
        cached = cache.get(key)
        if cached is not None:  # fast path: cached
            return cast(Block, cached)
        # slow path: read, verify, decode, insert (index blocks always, data if enabled)
        block = self._decode(handle, expected)
        if self._cache_blocks or expected is not BlockType.DATA:
            cache.put(key, block, block.charge, in_memory=self.in_memory)
        return block

    def _handle(self, block: Block, i: int) -> tuple[int, int]:
        try:
            return block.handle(i)
        except BlockFormatError as e:
            raise CorruptionError(str(e), self.path) from None

    def _data_handles(
        self, block: Block, level: int, start_key: bytes
    ) -> Iterator[tuple[bytes, tuple[int, int]]]:
        """(last key, handle) of every data block that may hold keys >= ``start_key``, in order."""
        first = block.seek(start_key)
        for i in range(first, len(block)):
            handle = self._handle(block, i)
            if level == 1:
                yield block.key(i), handle
            else:
                child = self._block(handle, BlockType.INDEX)
                yield from self._data_handles(child, level - 1, start_key if i == first else b"")

    # -- bloom -------------------------------------------------------------------
    def may_contain_row(self, row: bytes) -> bool:
        """False only if ``row`` is certainly absent (ROW bloom); True without a ROW bloom."""
        bloom = self._bloom
        return True if bloom is None else bloom.may_contain_row(row)

    def may_contain_rowcol(self, row: bytes, qualifier: bytes) -> bool:
        """False only if the column is certainly absent (ROWCOL bloom); True otherwise."""
        bloom = self._bloom
        return True if bloom is None else bloom.may_contain_rowcol(row, qualifier)

    # -- scanning ----------------------------------------------------------------
    def iter_from(
        self, start_key: bytes = b"", stop_key: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) with ``start_key <= key < stop_key`` in key order, lazily.

        Cost: reads (or finds cached) one block at a time; one binary search to position
        in the first block and one to cut the last. ``stop_key=None`` means no bound.
        """
        props = self.properties
        if (
            not props.entries
            or start_key > props.last_key
            or (stop_key is not None and (stop_key <= start_key or stop_key <= props.first_key))
        ):
            return iter(())
        return self._iter(start_key, stop_key)

    def _iter(self, start_key: bytes, stop_key: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        first = True
        for last_key, handle in self._data_handles(self._root, self._depth, start_key):
            block = self._block(handle, BlockType.DATA)
            i = block.seek(start_key) if first else 0
            first = False
            last = stop_key is not None and last_key >= stop_key
            j = block.seek(stop_key, i) if last and stop_key is not None else len(block)
            # entries come out of the core in batches: one call per _BATCH, and a short
            # scan (a seek that reads a few rows) does not build a whole block's tuples
            for s in range(i, j, _BATCH):
                yield from block.items(s, min(s + _BATCH, j))
            if last:
                return

    def get_row(self, row_prefix: bytes, row_end: bytes) -> list[tuple[bytes, bytes]]:
        """All entries with ``row_prefix <= key < row_end`` (one row: keys.row_prefix/row_end).

        Cost: index descent (depth-1 cached index blocks) + one data block + two
        binary searches; falls back to ``iter_from`` when the row spans blocks.
        Does not consult the bloom filter; call ``may_contain_row`` first.
        """
        props = self.properties
        if not props.entries or row_prefix > props.last_key or row_end <= props.first_key:
            return []
        # hot path: one core call per level (child) and one for the data block (range)
        block = self._root
        for _ in range(self._depth - 1):
            handle = self._child(block, row_prefix)
            if handle is None:
                return []
            block = self._block(handle, BlockType.INDEX)
        handle = self._child(block, row_prefix)
        if handle is None:
            return []
        entries, ended = self._block(handle, BlockType.DATA).range(row_prefix, row_end)
        if ended:  # fast path: the row ends inside this block
            return entries
        return list(self.iter_from(row_prefix, row_end))  # slow path: row spans blocks

    def _child(self, block: Block, key: bytes) -> tuple[int, int] | None:
        try:
            return block.child(key)
        except BlockFormatError as e:
            raise CorruptionError(str(e), self.path) from None

    def last_key_before(self, key: bytes) -> bytes | None:
        """The greatest key ``< key`` in the file, or None (reverse scans step back with this).

        Cost: like ``get_row``: index descent + one data block + one binary search. Index
        separators are exact last keys, so the entry left of the descent path at each
        level is the last key of the preceding subtree.
        """
        props = self.properties
        if not props.entries or key <= props.first_key:
            return None
        if key > props.last_key:
            return props.last_key
        best: bytes | None = None
        block = self._root
        for _ in range(self._depth - 1):
            i = block.seek(key)  # < len(block): key <= last_key
            if i:
                best = block.key(i - 1)
            block = self._block(self._handle(block, i), BlockType.INDEX)
        i = block.seek(key)
        if i:
            best = block.key(i - 1)
        data = self._block(self._handle(block, i), BlockType.DATA)
        j = data.seek(key)
        return data.key(j - 1) if j else best

    # -- dump support ------------------------------------------------------------
    def index_entries(self, level: int | None = None) -> Iterator[tuple[int, bytes, int, int]]:
        """(level, separator key, offset, size) of every index entry, root first, depth-first."""

        def walk(block: Block, lvl: int) -> Iterator[tuple[int, bytes, int, int]]:
            for i, key in enumerate(block.keys()):
                off, size = self._handle(block, i)
                yield lvl, key, off, size
                if lvl > 1:
                    yield from walk(self._block((off, size), BlockType.INDEX), lvl - 1)

        for entry in walk(self._root, self._depth):
            if level is None or entry[0] == level:
                yield entry
