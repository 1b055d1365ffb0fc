"""Block compression codecs: ids persisted in block trailers, and compress/decompress.

Role: sstable_writer compresses each block payload; sstable_reader decompresses
after the checksum has been verified.
Format: docs/formats/sstable.md#field-grammar. Summary::

    codec 0 NONE : payload stored as is
    codec 1 LZ4  : lz4 block format, preceded by the uncompressed size u32le
                   (``lz4.block.compress(store_size=True)``)
    codec 2 ZSTD : one zstd frame with the content size in its header

Invariants: ``decompress(c, compress_block(c, x)[1]) == x``; a block whose
compressed form saves less than 1/8 of its size is stored with codec NONE.
Concurrency: pure functions; the codec libraries release no shared state
(module-level ``zstandard.compress``/``decompress`` build a context per call).
Hot path: ``decompress`` on every block-cache miss; see bench in docs/formats/sstable.md.
"""

from __future__ import annotations

from enum import IntEnum

import lz4.block
import zstandard

from hedgerow.errors import InvalidArgument

__all__ = ["Codec", "codec_for_name", "compress_block", "decompress"]

_ZSTD_LEVEL = 3  # zstd's default level: good ratio at ~300 MB/s


class Codec(IntEnum):
    """Compression codec of one stored block.

    ON-DISK: never renumber; retired: none.
    """

    NONE = 0
    """Stored uncompressed."""
    LZ4 = 1
    """lz4 block with a u32le uncompressed-size prefix."""
    ZSTD = 2
    """One zstd frame, content size in the frame header."""


_BY_NAME = {"none": Codec.NONE, "lz4": Codec.LZ4, "zstd": Codec.ZSTD}


def codec_for_name(name: str) -> Codec:
    """Map a family's ``compression`` option ("none", "lz4", "zstd") to a codec.

    >>> codec_for_name("lz4")
    <Codec.LZ4: 1>
    """
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise InvalidArgument(
            f"unknown compression {name!r}; expected one of {sorted(_BY_NAME)}"
        ) from None


def compress_block(codec: Codec, raw: bytes) -> tuple[Codec, bytes]:
    """Compress ``raw`` with ``codec``; return the codec actually used and the stored bytes.

    Falls back to ``Codec.NONE`` when compression saves less than 1/8 (as leveldb does),
    so incompressible blocks cost no decompression time on read.

    >>> compress_block(Codec.ZSTD, b"x")
    (<Codec.NONE: 0>, b'x')
    """
    if codec is Codec.NONE:
        return codec, raw
    if codec is Codec.LZ4:
        out: bytes = lz4.block.compress(raw, store_size=True)
    elif codec is Codec.ZSTD:
        out = zstandard.compress(raw, _ZSTD_LEVEL)
    else:  # pragma: no cover - IntEnum is closed
        raise InvalidArgument(f"unknown codec {codec!r}")
    if len(out) >= len(raw) - (len(raw) >> 3):
        return Codec.NONE, raw
    return codec, out


def decompress(codec: int, stored: bytes) -> bytes:
    """Undo :func:`compress_block`; raises ``ValueError`` on an unknown codec or bad input.

    >>> decompress(Codec.LZ4, compress_block(Codec.LZ4, b"ab" * 100)[1]) == b"ab" * 100
    True
    """
    if codec == Codec.NONE:
        return stored
    if codec == Codec.LZ4:
        try:
            out: bytes = lz4.block.decompress(stored)
        except lz4.block.LZ4BlockError as e:
            raise ValueError(f"lz4: {e}") from None
        return out
    if codec == Codec.ZSTD:
        try:
            out = zstandard.decompress(stored)
        except zstandard.ZstdError as e:
            raise ValueError(f"zstd: {e}") from None
        return out
    raise ValueError(f"unknown compression codec {codec}")
