"""Log-file writer: frames records (crc, length, type) and appends them to a file.

Role: ``frame_record`` is called by the WAL manager (wal.py) on every append and
by the manifest (manifest.py) on every edit; ``LogWriter`` creates a manifest log file
(header first) and appends already-framed bytes to it. (The WAL's own files are written
by the compiled core's ``WalWriter``, rust/src/wal_writer.rs; the manifest moves there
in RFC 0002 phase 5.)
Format: docs/formats/wal.md#field-grammar (authoritative). Summary::

    header := magic:8 bytes  version:u32le
    record := crc32c(type + payload):u32le  len(payload):u32le  type:u8  payload
Invariants: every byte written after the header is a whole number of framed
records; a file is written by exactly one LogWriter, from offset 0.
Concurrency: ``frame_record`` is a pure function; a LogWriter is not thread-safe
(the WAL manager lets only its write leader touch it).
Hot path: ``frame_record`` (every logged write); measured in docs/formats/wal.md#performance.
``frame_record`` is the compiled core's (rust/src/wal_record.rs; byte-identical, one crc
pass and one copy: 273 -> 82 ns for a 159-byte payload, bench/bench_keys.py); ValueError for a payload over
MAX_RECORD_PAYLOAD_BYTES.
"""

from __future__ import annotations

from hedgerow._core import frame_record
from hedgerow.storage.fs import FileSystem, WritableFile
from hedgerow.storage.wal_format import FILE_HEADER

__all__ = ["LogWriter", "frame_record"]


class LogWriter:
    """Appends framed records to one new log file.

    Writing: ``write(framed)`` (page cache), ``sync()`` (fdatasync), ``close()``.
    REQUIRES: ``path`` does not hold data that must be kept (it is truncated).
    Call order: ``create (write | sync)* close``.
    """

    def __init__(self, file: WritableFile) -> None:
        # constant after __init__
        self.file = file
        self.path = file.path

    @classmethod
    def create(cls, fs: FileSystem, path: str, magic: bytes, version: int) -> LogWriter:
        """Create (truncate) ``path`` and write the file header; not synced yet."""
        if len(magic) != 8:
            raise ValueError("a log file magic is 8 bytes")
        f = fs.open_write(path, append=False)
        try:
            f.write(FILE_HEADER.pack(magic, version))
        except BaseException:
            f.close()
            raise
        return cls(f)

    def write(self, framed: bytes | bytearray | memoryview) -> None:
        """Append already-framed records; in the OS when this returns."""
        self.file.write(framed)

    def add_record(self, record_type: int, payload: bytes) -> None:
        """Frame and append one record."""
        self.file.write(frame_record(record_type, payload))

    def sync(self) -> None:
        self.file.sync()

    def size(self) -> int:
        """Bytes in the file so far, header included."""
        return self.file.tell()

    def close(self) -> None:
        self.file.close()
