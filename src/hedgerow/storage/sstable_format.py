"""Store-file ("sstable") constants shared by the writer, the reader and the dump tool.

Role: imported by sstable_writer, sstable_reader and sstable_dump; holds no logic
beyond packing helpers. Blocks, bloom filters, codecs, trailers and the footer are
encoded and decoded by the Rust core (``hedgerow._core``, rust/src/sstable/).
Format: docs/formats/sstable.md (authoritative). Summary::

    file    := data_block* index_block* bloom_block? meta_block footer
    block   := payload block_type:u8 codec:u8 crc32c:u32le   (crc over payload|type|codec)
    handle  := offset:u64le size:u32le                       (size excludes the 6-byte trailer)
    footer  := meta:handle index:handle bloom:handle index_depth:u8 pad:3
               version:u32le footer_crc:u32le magic:8        (56 bytes, at end of file)

    meta    := msgpack map, see SSTableProperties (str keys; bytes stay bytes)

Invariants: every value below is persisted; never change one in place.
Concurrency: constants only.
Hot path: none (``BLOCK_TRAILER``/``HANDLE`` are used per block read).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import msgpack

from hedgerow.errors import InvalidArgument

__all__ = [
    "BLOCK_TRAILER",
    "FOOTER",
    "FOOTER_CRC_COVERS",
    "FOOTER_SIZE",
    "FORMAT_VERSION",
    "HANDLE",
    "MAGIC",
    "NULL_HANDLE",
    "BlockType",
    "BloomType",
    "Codec",
    "SSTableProperties",
    "codec_for_name",
    "decode_properties",
    "encode_properties",
]

#: First 8 bytes of sha256(b"hedgerow-sstable") = 930019e0d1599711...; stored verbatim
#: (not as an integer) as the last 8 bytes of every store file.
MAGIC = bytes.fromhex("930019e0d1599711")

#: The one format version this code writes and reads. Readers reject any other.
FORMAT_VERSION = 1

#: block_type:u8 codec:u8 crc32c:u32le, after every block's stored payload.
BLOCK_TRAILER = struct.Struct("<BBI")

#: A pointer to one block: offset:u64le size:u32le (size of the stored payload only).
HANDLE = struct.Struct("<QI")

#: Handle written for an absent block (the bloom block of a file with bloom type NONE).
NULL_HANDLE = (0, 0)

#: meta handle, root-index handle, bloom handle, index_depth, 3 pad bytes,
#: version, footer_crc (crc32c of the 44 bytes before it), magic.
FOOTER = struct.Struct("<QIQIQIB3xII8s")
FOOTER_SIZE = FOOTER.size
#: The footer crc covers footer bytes [0, FOOTER_CRC_COVERS).
FOOTER_CRC_COVERS = FOOTER_SIZE - 12

assert FOOTER_SIZE == 56


class BlockType(IntEnum):
    """What a block holds; stored in the block trailer.

    ON-DISK: never renumber; retired: none.
    """

    DATA = 1
    """Sorted (internal key, value) entries."""
    INDEX = 2
    """Sorted (separator key, child block handle) entries; leaf or upper level."""
    BLOOM = 3
    """The file's bloom filter (``_core.BloomFilter``)."""
    META = 4
    """msgpack map of file properties."""


class BloomType(IntEnum):
    """What the bloom filter was built over; stored in the bloom block header.

    ON-DISK: never renumber; retired: none.
    """

    NONE = 0
    """No bloom filter."""
    ROW = 1
    """Hash of ``keys.row_prefix(row)`` (each row added once)."""
    ROWCOL = 2
    """Hash of ``keys.column_prefix(row, qualifier)`` (each column added once)."""


class Codec(IntEnum):
    """Compression codec of one stored block (rust/src/sstable/compression.rs).

    ON-DISK: never renumber; retired: none.
    """

    NONE = 0
    """Stored uncompressed."""
    LZ4 = 1
    """lz4 block with a u32le uncompressed-size prefix."""
    ZSTD = 2
    """One zstd frame, content size in the frame header."""


_CODEC_BY_NAME = {"none": Codec.NONE, "lz4": Codec.LZ4, "zstd": Codec.ZSTD}


def codec_for_name(name: str) -> Codec:
    """Map a family's ``compression`` option ("none", "lz4", "zstd") to a codec.

    >>> codec_for_name("lz4")
    <Codec.LZ4: 1>
    """
    try:
        return _CODEC_BY_NAME[name.lower()]
    except KeyError:
        raise InvalidArgument(
            f"unknown compression {name!r}; expected one of {sorted(_CODEC_BY_NAME)}"
        ) from None


@dataclass(frozen=True)
class SSTableProperties:
    """What the meta block says about a store file (plus its size, which the reader measures).

    ``first_key``/``last_key`` are ``b""`` and the seq/ts bounds 0 for a file of no entries.
    ``extra`` is the caller's own map (e.g. ``{"max_seq": 9, "flushed_seq": 9}``); its
    values must be msgpack-encodable (None, bool, int, float, str, bytes, list, dict).
    """

    format_version: int
    family: bytes
    entries: int
    first_key: bytes
    last_key: bytes
    min_seq: int
    max_seq: int
    min_ts: int
    max_ts: int
    delete_markers: int
    bloom_type: str
    compression: str
    created_ms: int
    data_blocks: int
    index_depth: int
    raw_key_bytes: int
    raw_value_bytes: int
    file_size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


#: Persisted property names, in the order they are written (file_size is not persisted).
_PROPERTY_FIELDS = (
    "format_version",
    "family",
    "entries",
    "first_key",
    "last_key",
    "min_seq",
    "max_seq",
    "min_ts",
    "max_ts",
    "delete_markers",
    "bloom_type",
    "compression",
    "created_ms",
    "data_blocks",
    "index_depth",
    "raw_key_bytes",
    "raw_value_bytes",
    "extra",
)


def encode_properties(props: SSTableProperties) -> bytes:
    """msgpack-encode ``props`` (all fields but ``file_size``) as the meta block payload."""
    out: bytes = msgpack.packb(
        {name: getattr(props, name) for name in _PROPERTY_FIELDS}, use_bin_type=True
    )
    return out


def decode_properties(payload: bytes, file_size: int) -> SSTableProperties:
    """Inverse of :func:`encode_properties`; raises ``ValueError`` on a malformed map.

    Unknown keys are ignored (a later minor version may add properties).

    >>> p = SSTableProperties(1, b"cf", 0, b"", b"", 0, 0, 0, 0, 0, "ROW", "none", 0, 0, 1, 0, 0)
    >>> decode_properties(encode_properties(p), 56) == SSTableProperties(**{**p.__dict__, "file_size": 56})
    True
    """
    try:
        raw = msgpack.unpackb(payload, raw=False)
    except Exception as e:  # msgpack raises several unrelated types
        raise ValueError(f"meta block is not valid msgpack: {e}") from None
    if not isinstance(raw, dict):
        raise ValueError("meta block is not a msgpack map")
    missing = [name for name in _PROPERTY_FIELDS if name not in raw]
    if missing:
        raise ValueError(f"meta block lacks properties {missing}")
    return SSTableProperties(**{name: raw[name] for name in _PROPERTY_FIELDS}, file_size=file_size)
