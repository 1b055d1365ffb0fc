"""Reads one store file: point reads by row, range iteration, bloom checks.

Role: the store opens one SSTableReader per live file (its handle rationed by
the table cache, table_cache.py) and merges their ``iter_from`` streams with the memstore's; ``get_row`` serves
point reads after ``may_contain_row`` said yes.
Format: docs/formats/sstable.md (authoritative). Summary::

    file   := data_block* index_block* bloom_block? meta_block footer(56 bytes)
    block  := payload block_type:u8 codec:u8 crc32c:u32le

Open reads the footer, the root index block, the bloom block and the meta
block; lower index levels and data blocks are read on demand through the
block cache, keyed ``(file_id, offset)``. The read path is the Rust core's
``StoreFileReader`` (rust/src/sstable/reader.rs, RFC 0002 phase 2): block reads
through the core's file seam (the local file system natively, with the GIL released
on a cache miss, or the given Python file object), the block cache
(``_core.BlockCache``), the index descent, ``get_row`` and ``last_key_before`` in one
call each and ``iter_from`` one call per data block. This module keeps the open
sequence (footer, meta block properties, bloom filter) and the dump helpers.
Corruption: a bad magic, a footer checksum mismatch or a truncated file fails
``open`` with CorruptionError; an unknown version with FormatVersionError; a bad
block checksum fails the read that touches that block, naming path and offset.
Invariants: the reader never changes after ``open`` (until ``close``).
Concurrency: thread-safe: reads are ``pread`` calls on a RandomAccessFile and
the block cache has its own lock.
Hot path: ``get_row`` (point reads: one core call); ``iter_from`` (scans: one core
call per data block or ``_BATCH`` entries); see docs/formats/sstable.md#performance.
"""

from __future__ import annotations

from collections.abc import Iterator

from hedgerow._core import Block, BlockFormatError, BloomFilter, StoreFileReader
from hedgerow._core import parse_footer as _parse_footer
from hedgerow.errors import CorruptionError
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem, RandomAccessFile
from hedgerow.storage.sstable_format import (
    FOOTER_SIZE,
    NULL_HANDLE,
    BlockType,
    SSTableProperties,
    decode_properties,
)

__all__ = ["Footer", "SSTableReader"]

#: Most entries per core call when iterating (see ``_iter``).
_BATCH = 128


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


def read_footer(file: RandomAccessFile | StoreFileReader, path: str) -> tuple[Footer, int]:
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
    ``file_id``, ``in_memory``; ``index_entries``/``read_block`` for the dump tool.

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
        core: StoreFileReader,
        file: RandomAccessFile | None,
        path: str,
        file_id: int,
        footer: Footer,
        file_size: int,
    ) -> None:
        # constant after __init__ (reads from any thread)
        self.path = path
        self.file_id = file_id
        self.footer = footer
        self._core = core
        self._file = file
        self._depth = footer.index_depth
        self.properties: SSTableProperties = self._read_properties(file_size)
        props = self.properties
        core.set_index(footer.index, self._depth, props.first_key, props.last_key, props.entries)
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
        close while idle); the reader closes it. Without it the core opens ``path`` on
        ``fs`` (natively for the local file system).
        Raises CorruptionError (bad magic, footer crc, truncation, bad root/meta/bloom
        block) or FormatVersionError (unknown version).
        """
        try:
            core = StoreFileReader(fs, path, file_id, cache, cache_blocks, file)
            footer, size = read_footer(core, path)
            return cls(core, file, path, file_id, footer, size)
        except BaseException:
            if file is not None:
                file.close()
            raise

    @property
    def in_memory(self) -> bool:
        """Blocks go to the cache's in-memory list (the family's IN_MEMORY option)."""
        return self._core.in_memory

    @in_memory.setter
    def in_memory(self, value: bool) -> None:
        self._core.in_memory = value

    def close(self) -> None:
        """Close the file. Cached blocks stay cached (``BlockCache.evict_file`` drops them)."""
        self._core.close()
        if self._file is not None:
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
        return self._core.read_block(handle, expected)

    def _block(self, handle: tuple[int, int], expected: BlockType) -> Block:
        """A decoded block via the cache: 0 reads on a hit, 1 pread on a miss."""
        return self._core.block_at(handle, expected)

    def _handle(self, block: Block, i: int) -> tuple[int, int]:
        try:
            return block.handle(i)
        except BlockFormatError as e:
            raise CorruptionError(str(e), self.path) from None

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

        Cost: reads (or finds cached) one block at a time: one core call per data block
        (or per ``_BATCH`` entries). ``stop_key=None`` means no bound.
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
        # entries come out of the core in batches (never past one data block), so a short
        # scan (a seek that reads a few rows) does not build a whole block's tuples
        next_batch = self._core.scan(start_key, stop_key).next_batch
        while batch := next_batch(_BATCH):
            yield from batch

    def get_row(self, row_prefix: bytes, row_end: bytes) -> list[tuple[bytes, bytes]]:
        """All entries with ``row_prefix <= key < row_end`` (one row: keys.row_prefix/row_end).

        Cost: one core call: index descent (cached index blocks) + one data block (more
        when the row spans blocks) + two binary searches.
        Does not consult the bloom filter; call ``may_contain_row`` first.
        """
        return self._core.get_row(row_prefix, row_end)

    def last_key_before(self, key: bytes) -> bytes | None:
        """The greatest key ``< key`` in the file, or None (reverse scans step back with this).

        Cost: like ``get_row``: index descent + one data block + one binary search.
        """
        return self._core.last_key_before(key)

    # -- dump support ------------------------------------------------------------
    def index_entries(self, level: int | None = None) -> Iterator[tuple[int, bytes, int, int]]:
        """(level, separator key, offset, size) of every index entry, root first, depth-first."""

        def walk(block: Block, lvl: int) -> Iterator[tuple[int, bytes, int, int]]:
            for i, key in enumerate(block.keys()):
                off, size = self._handle(block, i)
                yield lvl, key, off, size
                if lvl > 1:
                    yield from walk(self._block((off, size), BlockType.INDEX), lvl - 1)

        for entry in walk(self._core.root, self._depth):
            if level is None or entry[0] == level:
                yield entry
