"""Block codecs (``_core.compress_block`` / ``decompress``, rust/src/sstable/compression.rs).

The stored bytes must stay what python-lz4 (``lz4.block.compress(store_size=True)``) and
python-zstandard (level 3) produced before the move to Rust, so files written by either
read back and the golden files keep matching.
"""

from __future__ import annotations

import random

import lz4.block
import pytest
import zstandard

from hedgerow._core import BlockFormatError, compress_block, decompress
from hedgerow.errors import InvalidArgument
from hedgerow.storage.sstable_format import Codec, codec_for_name


def _payloads() -> list[bytes]:
    rng = random.Random(7)
    out = [b"ab" * 100, bytes(5000), b"row1\x00\x01x\x00\x01" * 300]
    for n in (700, 4096, 65536):
        # half random, half repetitive, like the format's benchmark values
        out.append(b"".join(rng.randbytes(8) + b"abcdefgh" for _ in range(n // 16)))
    return out


@pytest.mark.parametrize("payload", _payloads(), ids=len)
def test_python_libraries_read_what_the_core_writes_and_back(payload):
    codec, stored = compress_block(Codec.LZ4, payload)
    assert codec == Codec.LZ4
    assert lz4.block.decompress(stored) == payload
    assert decompress(Codec.LZ4, lz4.block.compress(payload, store_size=True)) == payload
    codec, stored = compress_block(Codec.ZSTD, payload)
    assert codec == Codec.ZSTD
    assert zstandard.decompress(stored) == payload
    assert decompress(Codec.ZSTD, zstandard.compress(payload, 3)) == payload


@pytest.mark.parametrize("payload", _payloads(), ids=len)
def test_output_is_byte_identical_to_the_python_libraries(payload):
    assert compress_block(Codec.LZ4, payload)[1] == lz4.block.compress(payload, store_size=True)
    assert compress_block(Codec.ZSTD, payload)[1] == zstandard.compress(payload, 3)


def test_small_or_incompressible_blocks_are_stored_raw():
    assert compress_block(Codec.ZSTD, b"x") == (Codec.NONE, b"x")
    noise = random.Random(1).randbytes(1000)
    assert compress_block(Codec.LZ4, noise) == (Codec.NONE, noise)
    assert compress_block(Codec.NONE, b"ab" * 100) == (Codec.NONE, b"ab" * 100)


@pytest.mark.parametrize(
    ("codec", "stored", "message"),
    [
        (9, b"abc", "unknown compression codec 9"),
        (Codec.LZ4, b"ab", "lz4"),
        (Codec.LZ4, b"\xff\xff\xff\xff\x00", "lz4"),
        (Codec.ZSTD, b"not a frame", "zstd"),
        (Codec.ZSTD, zstandard.compress(b"ab" * 100, 3)[:-3], "zstd"),
    ],
)
def test_bad_input_is_an_error(codec, stored, message):
    with pytest.raises(BlockFormatError, match=message):
        decompress(codec, stored)


def test_codec_names():
    assert codec_for_name("LZ4") is Codec.LZ4
    with pytest.raises(InvalidArgument, match="unknown compression 'gzip'"):
        codec_for_name("gzip")
