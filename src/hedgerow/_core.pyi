"""Type stubs for hedgerow._core, the compiled storage core (rust/src/lib.rs).

Kept beside the extension so mypy --strict checks every call into it; each entry mirrors a
#[pyfunction] or #[pyclass] in rust/src. docs/rfcs/0002-storage-core.md is the boundary.
"""

from collections.abc import Iterable
from typing import Any, final

from typing_extensions import disjoint_base

__version__: str
__all__ = [
    "MemStore",
    "ProbeRowIter",
    "__version__",
    "_fs_script",
    "_panic",
    "column_prefix",
    "echo_bytes",
    "encode_key",
    "frame_record",
    "noop",
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
