"""Log-file writer: frames records (crc, length, type) and appends them to a file.

Role: ``frame_record`` is called by the WAL manager (wal.py) on every append and
by the manifest (manifest.py) on every edit; ``LogWriter`` creates a log file
(header first) and appends already-framed bytes to it.
Format: docs/formats/wal.md#field-grammar (authoritative). Summary::

    header := magic:8 bytes  version:u32le
    record := crc32c(type + payload):u32le  len(payload):u32le  type:u8  payload
Invariants: every byte written after the header is a whole number of framed
records; a file is written by exactly one LogWriter, from offset 0.
Concurrency: ``frame_record`` is a pure function; a LogWriter is not thread-safe
(the WAL manager lets only its write leader touch it).
Hot path: ``frame_record`` (every logged write); measured in docs/formats/wal.md#performance.
"""

from __future__ import annotations

import crc32c as _crc32c_mod

from hedgerow.storage.fs import FileSystem, WritableFile
from hedgerow.storage.wal_format import (
    FILE_HEADER,
    MAX_RECORD_PAYLOAD_BYTES,
    RECORD_HEADER,
    RecordType,
)

__all__ = ["LogWriter", "frame_record", "record_crc"]

_crc32c = _crc32c_mod.crc32c
_pack_header = RECORD_HEADER.pack
# crc32c of the type byte alone, per type: the payload's crc continues from it, so
# covering the type byte costs no concatenation.
_TYPE_CRC: dict[int, int] = {int(t): _crc32c(bytes([t])) for t in RecordType}


def record_crc(record_type: int, payload: bytes | bytearray | memoryview) -> int:
    """crc32c over the type byte followed by the payload (what the record header stores)."""
    seed = _TYPE_CRC.get(record_type)
    if seed is None:
        seed = _crc32c(bytes([record_type]))
    return int(_crc32c(payload, seed))


def frame_record(record_type: int, payload: bytes) -> bytes:
    """Return ``header + payload`` for one record (one crc pass, one concatenation).

    >>> frame_record(RecordType.WAL_EDIT, b"").hex()
    '52d016a00000000001'
    """
    n = len(payload)
    if n > MAX_RECORD_PAYLOAD_BYTES:
        raise ValueError(f"record payload of {n} bytes is over {MAX_RECORD_PAYLOAD_BYTES}")
    return _pack_header(int(_crc32c(payload, _TYPE_CRC[record_type])), n, record_type) + payload


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
