"""Block encoding (block_builder.encode_block) and decoding (block.Block)."""

from __future__ import annotations

import random
from bisect import bisect_left

import pytest

from hedgerow.storage.block import Block, BlockFormatError
from hedgerow.storage.block_builder import BlockBuilder, encode_block
from hedgerow.storage.sstable_format import HANDLE


def _random_entries(rng: random.Random, n: int) -> tuple[list[bytes], list[bytes]]:
    keys = sorted({rng.randbytes(rng.randrange(0, 12)) for _ in range(n)})
    values = [rng.randbytes(rng.choice([0, 0, 1, 5, 40])) for _ in keys]
    return keys, values


def test_empty_block_round_trip():
    payload = encode_block([], [])
    assert len(payload) == 12
    block = Block(payload)
    assert len(block) == 0
    assert block.seek(b"anything") == 0
    assert list(block.items()) == []


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_and_seek_match_model(seed):
    rng = random.Random(seed)
    keys, values = _random_entries(rng, 300)
    builder = BlockBuilder()
    for k, v in zip(keys, values, strict=True):
        builder.add(k, v)
    payload = builder.finish()
    assert builder.estimated_size() == len(payload)
    block = Block(payload)
    block._check()
    assert block.keys == keys
    assert list(block.items()) == list(zip(keys, values, strict=True))
    assert [block.value(i) for i in range(len(keys))] == values
    for _ in range(200):
        probe = rng.randbytes(rng.randrange(0, 12))
        i = block.seek(probe)
        assert i == bisect_left(keys, probe)
        j = rng.randrange(i, len(keys) + 1)
        assert list(block.items(i, j)) == list(zip(keys[i:j], values[i:j], strict=True))


def test_builder_reset_and_layout_is_exact():
    b = BlockBuilder()
    b.add(b"k1", b"")
    b.reset()
    assert len(b) == 0
    b.add(b"a", b"xy")
    payload = b.finish()
    # n=1 | key_off 20,21 | val_off 21,23 | "a" | "xy"
    assert payload.hex() == "0100000014000000150000001500000017000000617879"


def test_index_block_handles():
    keys = [b"a", b"m", b"z"]
    handles = [(0, 100), (106, 2**32 - 1), (2**64 - 1, 0)]
    block = Block(encode_block(keys, [HANDLE.pack(*h) for h in handles]))
    assert [block.handle(i) for i in range(3)] == handles


def test_handle_of_non_handle_value_rejected():
    block = Block(encode_block([b"a"], [b"short"]))
    with pytest.raises(BlockFormatError):
        block.handle(0)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x01\x00\x00",
        (5).to_bytes(4, "little") + b"\x00" * 20,  # claims more entries than fit
        encode_block([b"a"], [b"b"])[:-1],  # offsets past the end
        encode_block([b"a"], [b"b"]) + b"x",  # trailing garbage
    ],
)
def test_malformed_payload_rejected(payload):
    with pytest.raises(BlockFormatError):
        Block(payload)
