"""Block encoding (``_core.encode_block``) and decoding (``_core.Block``), rust/src/sstable."""

from __future__ import annotations

import random
from bisect import bisect_left

import pytest

from hedgerow._core import Block, BlockFormatError, encode_block
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
    assert block.items() == []
    assert block.range(b"a", b"b") == ([], False)
    assert block.child(b"a") is None


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_and_seek_match_model(seed):
    rng = random.Random(seed)
    keys, values = _random_entries(rng, 300)
    payload = encode_block(keys, values)
    assert len(payload) == 12 + sum(map(len, keys + values)) + 8 * len(keys)
    block = Block(payload)
    assert block.keys() == keys
    assert block.items() == list(zip(keys, values, strict=True))
    assert [block.value(i) for i in range(len(keys))] == values
    for _ in range(200):
        probe = rng.randbytes(rng.randrange(0, 12))
        i = block.seek(probe)
        assert i == bisect_left(keys, probe)
        j = rng.randrange(i, len(keys) + 1)
        assert block.items(i, j) == list(zip(keys[i:j], values[i:j], strict=True))
        assert block.seek(probe, j) == max(i, j)
        hi = rng.randbytes(rng.randrange(0, 12))
        k = max(i, bisect_left(keys, hi))
        entries, ended = block.range(probe, hi)
        assert entries == list(zip(keys[i:k], values[i:k], strict=True))
        assert ended == (k < len(keys))


def test_layout_is_exact():
    # n=1 | key_off 20,21 | val_off 21,23 | "a" | "xy"
    assert encode_block([b"a"], [b"xy"]).hex() == "0100000014000000150000001500000017000000617879"


def test_index_block_handles():
    keys = [b"a", b"m", b"z"]
    handles = [(0, 100), (106, 2**32 - 1), (2**64 - 1, 0)]
    block = Block(encode_block(keys, [HANDLE.pack(*h) for h in handles]))
    assert [block.handle(i) for i in range(3)] == handles
    assert [block.child(k) for k in (b"", b"b", b"z", b"zz")] == [*handles, None]


def test_handle_of_non_handle_value_rejected():
    block = Block(encode_block([b"a"], [b"short"]))
    with pytest.raises(BlockFormatError, match="not a block handle"):
        block.handle(0)
    with pytest.raises(IndexError):
        block.key(1)


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="1 keys but 0 values"):
        encode_block([b"a"], [])
    with pytest.raises(TypeError):
        encode_block(["a"], [b"b"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x01\x00\x00",
        (5).to_bytes(4, "little") + b"\x00" * 20,  # claims more entries than fit
        (2**32 - 1).to_bytes(4, "little") + b"\x00" * 20,  # a huge count
        encode_block([b"a"], [b"b"])[:-1],  # offsets past the end
        encode_block([b"a"], [b"b"]) + b"x",  # trailing garbage
        # key offsets 28, 31, 30: every end matches, but they go backwards
        bytes.fromhex("02000000 1c000000 1f000000 1e000000 1e000000 1f000000 20000000") + b"abcd",
    ],
)
def test_malformed_payload_rejected(payload):
    with pytest.raises(BlockFormatError):
        Block(payload)
