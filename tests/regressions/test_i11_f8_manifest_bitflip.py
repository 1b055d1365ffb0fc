"""Issue 11, finding 8 (first half): a bit flip in the last, fsynced manifest record.

2026-12: the log reader treated any bad record with nothing valid after it as a torn
tail, so one flipped bit in a region manifest's last record (here the flush that
added the only store file; the WAL holding those rows was deleted after it) was
dropped with a warning, and the table opened and read 0 rows. A torn write is now
only a record cut off by the end of the file or zero-filled; a complete record that
fails its checksum is corruption: ``CorruptionError`` naming the manifest and the
record's offset (docs/formats/manifest.md#corruption-and-recovery-rules).

Fails on the old code: the open succeeds and ``scan`` returns [] (checked by
reverting src/hedgerow/storage/wal_reader.py).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

import hedgerow


def _last_record(manifest: str) -> int:
    data = Path(manifest).read_bytes()
    pos = last = 12
    while pos < len(data):
        last = pos
        pos += 9 + struct.unpack_from("<I", data, pos + 4)[0]
    assert pos == len(data)
    return last


def test_one_bit_flip_in_the_last_manifest_record_is_an_error_not_an_empty_table(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path, background=False) as c:
        c.create_table("users", {"cf": {}})
        t = c.table("users")
        for i in range(20):
            t.put(b"user%02d" % i, {b"cf:name": b"n%02d" % i})
        region_dir = c.backend.region_server.online("users").regions[0].dir  # type: ignore[attr-defined]
    # a clean reopen deletes the WAL files it replayed: the rows now live only in the
    # store file that the manifest's last record (the flush's edit) adds
    hedgerow.connect(path).close()
    assert not any(b"user00" in p.read_bytes() for p in Path(path, "WALs", "rs0").iterdir())
    manifest = os.path.join(region_dir, Path(region_dir, "CURRENT").read_text().strip())
    off = _last_record(manifest)
    data = bytearray(Path(manifest).read_bytes())
    data[off + 20] ^= 0x10  # one bit inside the payload
    Path(manifest).write_bytes(bytes(data))

    try:
        c = hedgerow.connect(path)
    except hedgerow.CorruptionError as e:
        err = e
    else:  # the old code: opened, and the table silently read 0 rows
        rows = list(c.table("users").scan())
        c.close()
        pytest.fail(f"opened with a damaged manifest and read {len(rows)} of 20 rows")
    assert (err.path, err.offset) == (manifest, off)
    assert manifest in str(err) and f"offset {off}" in str(err)
