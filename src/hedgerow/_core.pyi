"""Type stubs for hedgerow._core, the compiled storage core (rust/src/lib.rs).

Kept beside the extension so mypy --strict checks every call into it; each entry mirrors a
#[pyfunction] or #[pyclass] in rust/src. docs/rfcs/0002-storage-core.md is the boundary.
"""

from collections.abc import Iterable
from typing import Any, final

from typing_extensions import disjoint_base

__version__: str
__all__ = [
    "Block",
    "BlockCache",
    "BlockFormatError",
    "BloomBuilder",
    "BloomFilter",
    "MemStore",
    "ProbeRowIter",
    "StoreFileReader",
    "StoreFileScan",
    "StoreFileWriter",
    "WalWriter",
    "__version__",
    "_fs_script",
    "_panic",
    "column_prefix",
    "compress_block",
    "decode_block",
    "decompress",
    "echo_bytes",
    "encode_block",
    "encode_footer",
    "encode_key",
    "frame_record",
    "noop",
    "open_block",
    "parse_footer",
    "probe_args5",
    "probe_copy",
    "probe_crc",
    "probe_detach",
    "probe_len",
    "probe_noop",
    "probe_row_dicts",
    "probe_row_iter",
    "probe_rows",
    "row_end",
    "row_of",
    "row_prefix",
    "scan_log",
    "seal_block",
    "seal_entries",
    "split_key",
]

def noop() -> None:
    """Does nothing; bench/boundary.py measures one call's cost."""

def echo_bytes(b: bytes) -> bytes:
    """Returns its argument; bench/boundary.py measures one bytes round trip."""

def _fs_script(fs: object, ops: list[tuple[Any, ...]]) -> list[Any]:
    """Runs file operations through the core's Fs for ``fs`` (rust/src/fs.rs); tests."""

def _panic(message: str) -> None:
    """Panics: raises ``pyo3_runtime.PanicException`` (a BaseException); for tests."""

# ---- internal keys (rust/src/keys.rs; docs/formats/keys.md) -----------------------------

def encode_key(row: bytes, qualifier: bytes, ts: int, key_type: int, seq: int) -> bytes:
    """The internal key of one cell; OverflowError for a field out of range."""

def split_key(key: bytes) -> tuple[bytes, bytes, int, int, int]:
    """``(row, qualifier, ts, type, seq)``; ValueError if ``key`` is not an internal key."""

def row_of(key: bytes) -> bytes:
    """The (unescaped) row of an internal key; ValueError if it has no terminator."""

def row_prefix(row: bytes) -> bytes:
    """The prefix, and smallest key, of every internal key of ``row``."""

def row_end(row: bytes) -> bytes:
    """A key above every internal key of ``row`` and below any later row's."""

def column_prefix(row: bytes, qualifier: bytes) -> bytes:
    """The prefix, and smallest key, of every internal key of one column."""

# ---- memstore (rust/src/memstore.rs) -----------------------------------------------------

@disjoint_base
class MemStore:
    """A sorted map of internal key to value; concurrent readers, one writer at a time."""

    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    @property
    def size_bytes(self) -> int:
        """Key and value bytes plus 120 per entry (the flush threshold's unit)."""
    @property
    def frozen(self) -> bool:
        """True once ``freeze`` ran."""
    def add(self, key: bytes, value: bytes) -> None:
        """Insert one entry; RuntimeError when frozen."""
    def add_many(self, entries: Iterable[tuple[bytes, bytes]]) -> int:
        """Insert entries under one lock hold; returns the bytes added."""
    def add_cells(self, cells: Iterable[tuple[bytes, bytes, int, int, bytes]], seq: int) -> int:
        """Insert ``(row, qualifier, ts, type, value)`` cells written at ``seq``."""
    def remove_cells(self, cells: Iterable[tuple[bytes, bytes, int, int, bytes]], seq: int) -> None:
        """Take out what ``add_cells(cells, seq)`` inserted (a failed write)."""
    def remove_many(self, keys: Iterable[bytes]) -> None:
        """Take out entries a failed write inserted (allowed when frozen)."""
    def freeze(self) -> None:
        """Make the memstore read-only (a flush snapshot)."""
    def scan(
        self, lo: bytes, include_lo: bool, stop: bytes | None, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` entries from ``lo`` (inclusive or not) below ``stop``."""
    def items(self, start: bytes, stop: bytes) -> list[tuple[bytes, bytes]]:
        """Every entry with ``start <= key < stop``."""
    def last_key_before(self, key: bytes) -> bytes | None:
        """The greatest key ``< key``."""
    def first_key(self) -> bytes | None: ...
    def last_key(self) -> bytes | None: ...
    def _check(self) -> None:
        """AssertionError when the size accounting does not match the entries."""

# ---- log records (rust/src/wal_record.rs; docs/formats/wal.md) ---------------------------

def frame_record(record_type: int, payload: bytes) -> bytes:
    """``header + payload`` of one record; ValueError over MAX_RECORD_PAYLOAD_BYTES."""

def scan_log(
    data: bytes, pos: int, record_types: bytes, lenient_tail: bool
) -> tuple[list[tuple[int, int, int]], tuple[str, int, str, str, int] | None]:
    """Walk records from ``pos``: ``(offset, type, end)`` each, then where it stopped:
    None (clean end), ``("torn", pos, reason, why, eof)`` or
    ``("corrupt", pos, detail, "", resume)``."""

# ---- the WAL's current file (rust/src/wal_writer.rs) -------------------------------------

@final
class WalWriter:
    """One open write-ahead log file, written through the core's Fs (native or a Python
    FileSystem). I/O runs without the GIL where the RFC 0002 GIL rule asks."""

    @staticmethod
    def create(
        fs: object,
        path: str,
        dir: str,
        magic: bytes,
        version: int,
        records: bytes | None = None,
    ) -> WalWriter:
        """A new durable file: header + ``records``, fdatasynced, ``dir`` synced; on
        failure no file is left and the file system's error is raised."""
    @property
    def path(self) -> str: ...
    @property
    def native(self) -> bool:
        """True when I/O goes through the native file system (GIL released)."""
    def write(self, data: bytes | bytearray) -> None:
        """Append whole framed records (in the OS on return)."""
    def sync(self) -> None:
        """fdatasync everything written; runs beside a concurrent write when native."""
    def truncate(self, size: int) -> None:
        """Cut the file to ``size`` bytes; the write position moves there."""
    def size(self) -> int:
        """Bytes in the file, header included."""
    def close(self) -> None: ...

# ---- boundary probes (rust/src/bench_probe.rs; bench/boundary.py, RFC 0002) -------------

def probe_noop() -> None:
    """One bare crossing."""

def probe_args5(a: int, b: int, c: int, d: int, e: int) -> int:
    """Five u64 arguments parsed; returns their xor."""

def probe_len(b: bytes) -> int:
    """Borrows ``b`` and returns its length."""

def probe_copy(b: bytes) -> bytes:
    """A fresh copy of ``b``."""

def probe_detach() -> None:
    """Releases the GIL and takes it back."""

def probe_crc(b: bytes, detach: bool) -> int:
    """CRC-32C of ``b``, with the GIL released around it when ``detach``."""

def probe_rows(buf: bytes, n: int, key_len: int, value_len: int) -> list[tuple[bytes, bytes]]:
    """``n`` (key, value) pairs sliced from ``buf`` (n keys, then n values); ValueError
    when they do not fit."""

def probe_row_dicts(
    buf: bytes, n: int, key_len: int, value_len: int, column: bytes
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """Like ``probe_rows``, each row ``(key, {column: value})``."""

@final
class ProbeRowIter:
    """Yields ``probe_rows``' pairs one ``__next__`` call at a time."""

    def __iter__(self) -> ProbeRowIter: ...
    def __next__(self) -> tuple[bytes, bytes]: ...

def probe_row_iter(buf: bytes, n: int, key_len: int, value_len: int) -> ProbeRowIter:
    """A ``ProbeRowIter`` over a copy of ``buf``; ValueError when the rows do not fit."""

# ---- store files (rust/src/sstable/; docs/formats/sstable.md) ----------------------------

class BlockFormatError(ValueError):
    """A block, bloom or compressed payload is malformed (the reader raises CorruptionError)."""

@final
class Block:
    """One decoded data or index block; immutable, shared through the block cache."""

    def __new__(cls, payload: bytes) -> Block:
        """Decode a verified, decompressed payload; BlockFormatError if malformed."""
    def __len__(self) -> int: ...
    @property
    def charge(self) -> int:
        """Approximate bytes of memory held (the block cache's charge)."""
    def seek(self, key: bytes, lo: int = 0) -> int:
        """Index of the first entry at or after ``lo`` whose key is ``>= key``."""
    def key(self, i: int) -> bytes:
        """Key ``i``; IndexError when out of range."""
    def value(self, i: int) -> bytes:
        """Value ``i``; IndexError when out of range."""
    def keys(self) -> list[bytes]:
        """Every key, in order."""
    def items(self, i: int = 0, j: int | None = None) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` of entries ``i .. j-1``, clamped to the block."""
    def range(self, lo: bytes, hi: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
        """Entries with ``lo <= key < hi``, and whether the block holds a key ``>= hi``."""
    def handle(self, i: int) -> tuple[int, int]:
        """Entry ``i``'s value as ``(offset, size)``; BlockFormatError if not a handle."""
    def child(self, key: bytes) -> tuple[int, int] | None:
        """Handle of the first entry whose separator is ``>= key``; None past the end."""

def decode_block(raw: bytes, expected: int) -> Block:
    """Verify (crc, type), decompress and decode stored bytes + trailer; BlockFormatError."""

def open_block(raw: bytes, expected: int) -> bytes:
    """Verify and decompress stored bytes + trailer; the payload. BlockFormatError."""

def encode_block(keys: list[bytes], values: list[bytes]) -> bytes:
    """One block payload of parallel key and value lists; ValueError at 4 GiB."""

def seal_block(payload: bytes, block_type_id: int, codec_id: int) -> tuple[bytes, int]:
    """Compress and append the trailer: ``(bytes to write, handle size)``."""

def seal_entries(
    keys: list[bytes], values: list[bytes], block_type_id: int, codec_id: int
) -> tuple[bytes, int]:
    """``seal_block(encode_block(keys, values), block_type_id, codec_id)`` in one call."""

def compress_block(codec_id: int, raw: bytes) -> tuple[int, bytes]:
    """``(codec used, stored bytes)``; NONE when compressing saves less than 1/8."""

def decompress(codec_id: int, stored: bytes) -> bytes:
    """Undo ``compress_block``; BlockFormatError on an unknown codec or bad input."""

def parse_footer(
    raw: bytes, file_size: int, path: str
) -> tuple[int, int, int, int, int, int, int, int]:
    """``(meta_off, meta_size, index_off, index_size, bloom_off, bloom_size, depth, version)``;
    raises hedgerow.errors.CorruptionError or FormatVersionError naming ``path``."""

def encode_footer(
    meta: tuple[int, int], index: tuple[int, int], bloom: tuple[int, int], index_depth: int
) -> bytes:
    """The 56-byte footer of the current version."""

@final
class BloomBuilder:
    """Collects a file's bloom items; ``(add | add_keys)* finish``."""

    def __new__(
        cls, bloom_type: int, bits_per_item: int = 10, num_probes: int = 7
    ) -> BloomBuilder: ...
    @property
    def bloom_type(self) -> int: ...
    @property
    def num_items(self) -> int: ...
    def add(self, item: bytes) -> None:
        """Add one item (skipped when equal to the previous one)."""
    def add_keys(self, keys: list[bytes]) -> None:
        """Add the items of a sorted run of internal keys."""
    def finish(self) -> bytes:
        """The bloom block payload."""

@final
class BloomFilter:
    """A loaded bloom filter (immutable)."""

    def __new__(cls, payload: bytes) -> BloomFilter:
        """Decode a bloom block payload; BlockFormatError if malformed."""
    @property
    def bloom_type(self) -> int: ...
    @property
    def num_items(self) -> int: ...
    def may_contain(self, item: bytes) -> bool: ...
    def may_contain_row(self, row: bytes) -> bool: ...
    def may_contain_rowcol(self, row: bytes, qualifier: bytes) -> bool: ...

# ---- store files, file level (rust/src/sstable/py_store.rs; RFC 0002 phase 2) ----

@final
class BlockCache:
    """Sharded LRU ``(file_id, offset) -> block`` bounded by bytes (rust/src/sstable/cache.rs)."""

    def __new__(cls, capacity_bytes: int, *, in_memory_fraction: float = 0.25) -> BlockCache: ...
    def get(self, key: tuple[int, int]) -> object | None: ...
    def put(
        self, key: tuple[int, int], value: object, charge_bytes: int, *, in_memory: bool = False
    ) -> None: ...
    def evict_file(self, file_id: int) -> int: ...
    def clear(self) -> None: ...
    @property
    def capacity_bytes(self) -> int: ...
    @property
    def in_memory_capacity(self) -> int: ...
    @property
    def shards(self) -> int: ...
    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def evictions(self) -> int: ...
    @property
    def used_bytes(self) -> int: ...
    def __len__(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def cached_keys(self) -> list[tuple[int, int]]: ...
    def check(self) -> None: ...

@final
class StoreFileWriter:
    """``add_batch* finish_blocks finish(meta_payload) sync_close`` or ``abandon``."""

    def __new__(
        cls, fs: object, path: str, block_size: int, codec: int, bloom_type: int
    ) -> StoreFileWriter: ...
    @property
    def path(self) -> str: ...
    @property
    def entries(self) -> int: ...
    def add_batch(self, keys: list[bytes], values: list[bytes]) -> None: ...
    def finish_blocks(self) -> dict[str, Any]: ...
    def finish(self, meta_payload: bytes) -> int: ...
    def sync_close(self) -> None: ...
    def abandon(self) -> None: ...

@final
class StoreFileReader:
    """The read path of one store file (rust/src/sstable/reader.rs)."""

    in_memory: bool
    def __new__(
        cls,
        fs: object,
        path: str,
        file_id: int,
        cache: BlockCache | None,
        cache_blocks: bool,
        file: object | None = None,
    ) -> StoreFileReader: ...
    def size(self) -> int: ...
    def pread(self, n: int, offset: int) -> bytes: ...
    def read_block(self, handle: tuple[int, int], expected: int) -> bytes: ...
    def block_at(self, handle: tuple[int, int], expected: int) -> Block: ...
    def set_index(
        self, root: tuple[int, int], depth: int, first_key: bytes, last_key: bytes, entries: int
    ) -> None: ...
    @property
    def root(self) -> Block: ...
    def get_row(self, row_prefix: bytes, row_end: bytes) -> list[tuple[bytes, bytes]]: ...
    def scan(self, start: bytes, stop: bytes | None = None) -> StoreFileScan: ...
    def last_key_before(self, key: bytes) -> bytes | None: ...
    def close(self) -> None: ...

@final
class StoreFileScan:
    """A lazy range scan; ``next_batch(max)`` is ``[]`` at the end."""

    def next_batch(self, max: int) -> list[tuple[bytes, bytes]]: ...
