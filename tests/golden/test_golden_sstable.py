"""Golden bytes of the store-file format (docs/formats/sstable.md).

The files in tests/golden/sstable/ pin the exact bytes SSTableWriter produces
and SSTableReader accepts. A diff here is a format change: it needs the doc, a
version bump or an RFC. Regenerate deliberately with ``HEDGEROW_UPDATE_GOLDEN=1``.
Cases cover the empty value, delete markers (tombstones), the largest sequence
number and timestamp, a unicode (utf-8) qualifier and a 0x00 byte in a row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hedgerow.model.cell import MAX_TIMESTAMP, KeyType
from hedgerow.model.keys import encode_key, row_end, row_prefix
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.sstable_writer import SSTableWriter

GOLDEN = Path(__file__).parent / "sstable"
UPDATE = os.environ.get("HEDGEROW_UPDATE_GOLDEN", "") not in ("", "0")
FS = LocalFS()
MAX_SEQ = 2**63 - 1

BASIC = [  # in key order: the escaped row b"row\x00\xff2" sorts before b"row1"
    # the largest sequence number and timestamp; a 0x00 byte in the row
    (encode_key(b"row\x002", b"", MAX_TIMESTAMP, KeyType.DELETE_FAMILY, MAX_SEQ), b""),
    (encode_key(b"row\x002", b"q", MAX_TIMESTAMP, KeyType.PUT, MAX_SEQ - 1), b"\x00\xff"),
    # a unicode qualifier (q, e-acute, snowman) with an empty value
    (encode_key(b"row1", "q\u00e9\u2603".encode(), 1000, KeyType.PUT, 1), b""),
    # a delete marker (tombstone) sorts before the put it masks at the same ts
    (encode_key(b"row1", b"x", 2000, KeyType.DELETE_COLUMN, 3), b""),
    (encode_key(b"row1", b"x", 2000, KeyType.PUT, 2), b"v"),
]
assert sorted(BASIC) == BASIC

MANY = sorted(
    [
        *BASIC,
        *(
            (encode_key(b"r%02d" % i, b"c", 5, KeyType.PUT, 10 + i), b"value-%02d" % i * 4)
            for i in range(12)
        ),
    ]
)

CASES = {
    # name: (entries, block_size_bytes, compression, bloom_filter_type)
    "basic_none_row_v1": (BASIC, 4096, "none", "ROW"),
    "multilevel_none_rowcol_v1": (MANY, 64, "none", "ROWCOL"),
    "lz4_nobloom_v1": (MANY, 1024, "lz4", "NONE"),
}


def _build(path: Path, name: str) -> bytes:
    entries, block_size, compression, bloom = CASES[name]
    w = SSTableWriter(
        FS,
        str(path),
        family=b"cf",
        block_size_bytes=block_size,
        compression=compression,
        bloom_filter_type=bloom,
        created_ms=1700000000000,
    )
    for k, v in entries:
        w.add(k, v)
    w.finish({"flushed_seq": MAX_SEQ, "note": "golden \u2603"})
    return path.read_bytes()


def _to_hex(data: bytes, title: str) -> str:
    lines = [f"# {title}", f"# {len(data)} bytes; regenerate with HEDGEROW_UPDATE_GOLDEN=1"]
    lines += [data[i : i + 32].hex() for i in range(0, len(data), 32)]
    return "\n".join(lines) + "\n"


def _from_hex(text: str) -> bytes:
    return bytes.fromhex("".join(ln for ln in text.splitlines() if not ln.startswith("#")))


@pytest.mark.parametrize("name", sorted(CASES))
def test_writer_produces_pinned_bytes(tmp_path, name):
    data = _build(tmp_path / f"{name}.sst", name)
    golden = GOLDEN / f"{name}.hex"
    if UPDATE:
        entries, block_size, compression, bloom = CASES[name]
        title = (
            f"store file v1: {len(entries)} entries, block_size={block_size}, "
            f"compression={compression}, bloom={bloom}"
        )
        golden.write_text(_to_hex(data, title))
    assert data == _from_hex(golden.read_text()), f"{name}: format changed (see module docstring)"


@pytest.mark.parametrize("name", sorted(CASES))
def test_reader_accepts_pinned_bytes(tmp_path, name):
    entries, _, compression, bloom = CASES[name]
    path = tmp_path / f"{name}.sst"
    path.write_bytes(_from_hex((GOLDEN / f"{name}.hex").read_text()))
    r = SSTableReader.open(FS, str(path), file_id=1, cache=BlockCache(1 << 20))
    try:
        assert list(r.iter_from()) == entries
        p = r.properties
        assert (p.entries, p.first_key, p.last_key) == (len(entries), entries[0][0], entries[-1][0])
        assert (p.max_seq, p.max_ts, p.delete_markers) == (MAX_SEQ, MAX_TIMESTAMP, 2)
        assert (p.compression, p.bloom_type, p.created_ms) == (compression, bloom, 1700000000000)
        assert p.extra == {"flushed_seq": MAX_SEQ, "note": "golden \u2603"}
        assert r.get_row(row_prefix(b"row\x002"), row_end(b"row\x002")) == BASIC[:2]
        assert r.may_contain_row(b"row1")
        assert r.may_contain_rowcol(b"row1", "q\u00e9\u2603".encode())
    finally:
        r.close()


def test_multilevel_case_has_a_multi_level_index(tmp_path):
    path = tmp_path / "m.sst"
    path.write_bytes(_from_hex((GOLDEN / "multilevel_none_rowcol_v1.hex").read_text()))
    r = SSTableReader.open(FS, str(path), file_id=1, cache=None)
    assert r.properties.index_depth >= 2
    r.close()
