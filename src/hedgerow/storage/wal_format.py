"""Constants of the log-file framing shared by the WAL and the region manifest.

Role: imported by wal_writer (framing records), wal_reader (checking them),
wal.py and manifest.py (which magic to use); constants only.
Format: docs/formats/wal.md (authoritative), docs/formats/manifest.md. Summary::

    file   := header record*
    header := magic:8 bytes  version:u32le                          (12 bytes)
    record := crc:u32le  length:u32le  type:u8  payload:length bytes
    crc    := crc32c(type byte + payload), unmasked
Invariants: numeric values here are ON-DISK; never change or renumber them.
Concurrency: constants.
"""

from __future__ import annotations

import struct
from enum import IntEnum

__all__ = [
    "FILE_HEADER",
    "FILE_HEADER_SIZE",
    "MANIFEST_MAGIC",
    "MANIFEST_VERSION",
    "MAX_RECORD_PAYLOAD_BYTES",
    "RECORD_HEADER",
    "RECORD_HEADER_SIZE",
    "WAL_MAGIC",
    "WAL_VERSION",
    "RecordType",
]

#: WAL file magic. Built the way PNG builds its signature (RFC 2083 section 12.11):
#: a high-bit byte first (catches 7-bit transfer), the ASCII name "HRWAL",
#: then CR LF (catches newline translation). Never change it.
WAL_MAGIC = b"\x89HRWAL\r\n"
#: Region manifest file magic; same construction, name "HRMAN".
MANIFEST_MAGIC = b"\x89HRMAN\r\n"

#: Current WAL format version; readers fail fast (FormatVersionError) on any other.
WAL_VERSION = 1
#: Current manifest format version.
MANIFEST_VERSION = 1

#: magic (8 bytes) + version u32le
FILE_HEADER = struct.Struct("<8sI")
FILE_HEADER_SIZE = FILE_HEADER.size  # 12

#: crc32c u32le + payload length u32le + record type u8
RECORD_HEADER = struct.Struct("<IIB")
RECORD_HEADER_SIZE = RECORD_HEADER.size  # 9

#: Largest payload a writer produces; a length above it is corruption, not a record.
MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024


class RecordType(IntEnum):
    """The type byte of a record. ON-DISK: never renumber; retired: (none)."""

    ZERO = 0
    """Reserved: never written, so a zero-filled region never looks like a record."""
    WAL_EDIT = 1
    """WAL: a msgpack-encoded ``WalEdit`` (wal_edit.py)."""
    VERSION_EDIT = 2
    """Manifest: a msgpack-encoded ``VersionEdit`` (version_edit.py)."""
