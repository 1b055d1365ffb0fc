"""Golden bytes of the WAL and manifest formats (docs/formats/wal.md, manifest.md).

The files in tests/golden/wal/ pin the exact bytes the writers produce and the
readers accept. A diff here is a format change: it needs the doc, a version
bump or an RFC. Regenerate deliberately with ``HEDGEROW_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hedgerow.model.cell import MAX_TIMESTAMP, KeyType
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.manifest import Manifest, ManifestState
from hedgerow.storage.version_edit import FileMeta, VersionEdit
from hedgerow.storage.wal import Durability, WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit, encode_edit
from hedgerow.storage.wal_reader import read_wal_dir

GOLDEN = Path(__file__).parent / "wal"
UPDATE = os.environ.get("HEDGEROW_UPDATE_GOLDEN", "") not in ("", "0")
FS = LocalFS()

MAX_SEQ = 2**63 - 1

WAL_EDITS = [
    # an empty value and a unicode qualifier
    WalEdit(
        "t1,,1700000000000.abc",
        1,
        [(b"row1", [(b"cf", "q\u00e9\u2603".encode(), 1000, KeyType.PUT, b"")])],
    ),
    # every delete marker type (tombstones) in one edit, two rows
    WalEdit(
        "t1,,1700000000000.abc",
        2,
        [
            (
                b"row1",
                [
                    (b"cf", b"q", 1000, KeyType.DELETE, b""),
                    (b"cf", b"q", 2000, KeyType.DELETE_COLUMN, b""),
                ],
            ),
            (
                b"row2",
                [
                    (b"cf", b"", 3000, KeyType.DELETE_FAMILY, b""),
                    (b"cf", b"", 3000, KeyType.DELETE_FAMILY_VERSION, b""),
                ],
            ),
        ],
    ),
    # the largest sequence number and timestamp, binary row and value
    WalEdit(
        "t2,m,1700000000001.def",
        MAX_SEQ,
        [(b"\x00\xff", [(b"f2", b"q", MAX_TIMESTAMP, KeyType.PUT, b"\x00\x01\x02")])],
    ),
]


def _meta(n: int) -> FileMeta:
    return FileMeta(b"cf", n, 4096 * n, 100 * n, b"a", b"z\xff", 1, MAX_SEQ, -1, MAX_TIMESTAMP)


MANIFEST_EDITS = [
    VersionEdit(region_info={"table": "t1", "start": b"", "end": "m\u00e9".encode()}),
    VersionEdit(added_files=[_meta(1), _meta(2)], flushed_seq=10, next_file_number=3),
    VersionEdit(
        removed_files=[(b"cf", 1), (b"cf", 2)], added_files=[_meta(3)], flushed_seq=MAX_SEQ
    ),
]


def _to_hex(data: bytes, title: str) -> str:
    lines = [f"# {title}", f"# {len(data)} bytes; regenerate with HEDGEROW_UPDATE_GOLDEN=1"]
    for i in range(0, len(data), 32):
        lines.append(data[i : i + 32].hex())
    return "\n".join(lines) + "\n"


def _from_hex(text: str) -> bytes:
    return bytes.fromhex("".join(ln for ln in text.splitlines() if not ln.startswith("#")))


def _check(name: str, data: bytes, title: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(_to_hex(data, title))
    assert path.exists(), f"missing golden file {path}; run with HEDGEROW_UPDATE_GOLDEN=1"
    expected = _from_hex(path.read_text())
    assert data.hex() == expected.hex(), f"{name}: encoding changed (a format change?)"


def _write_wal(tmp_path: Path) -> bytes:
    d = str(tmp_path / "wal")
    wal = WriteAheadLog(FS, d)
    for e in WAL_EDITS:
        wal.sync(wal.append(e), Durability.SYNC_WAL)
    wal.close()
    return (tmp_path / "wal" / "000000000001.log").read_bytes()


def test_wal_file_golden(tmp_path: Path) -> None:
    _check(
        "wal_edits_v1.hex",
        _write_wal(tmp_path),
        "WAL file v1: empty value, tombstones, max seq, unicode qualifier",
    )


def test_wal_edit_payload_golden() -> None:
    _check("wal_edit_payload_v1.hex", encode_edit(WAL_EDITS[0]), "one WalEdit payload (msgpack)")


def test_golden_wal_file_decodes(tmp_path: Path) -> None:
    d = tmp_path / "read" / "wal"
    d.mkdir(parents=True)
    (d / "000000000001.log").write_bytes(_from_hex((GOLDEN / "wal_edits_v1.hex").read_text()))
    got = list(read_wal_dir(FS, str(d)))
    assert [e for _, _, e in got] == WAL_EDITS
    assert got[0][1] == 12 and got[2][2].seq == MAX_SEQ


def _write_manifest(d: Path) -> bytes:
    m = Manifest.open(FS, str(d), create=True)
    for _ in range(3):
        m.allocate_file_number()
    for e in MANIFEST_EDITS:
        m.apply(e)
    m.close()
    return (d / "MANIFEST-000001").read_bytes()


def test_manifest_golden(tmp_path: Path) -> None:
    _check(
        "manifest_v1.hex", _write_manifest(tmp_path / "r"), "region manifest v1 (MANIFEST-000001)"
    )


def test_golden_manifest_replays(tmp_path: Path) -> None:
    d = tmp_path / "read"
    d.mkdir()
    (d / "MANIFEST-000001").write_bytes(_from_hex((GOLDEN / "manifest_v1.hex").read_text()))
    (d / "CURRENT").write_bytes(b"MANIFEST-000001\n")
    m = Manifest.open(FS, str(d), create=False)
    assert m.state == ManifestState(
        files={b"cf": {3: _meta(3)}},
        flushed_seq=MAX_SEQ,
        next_file_number=4,
        region_info={"table": "t1", "start": b"", "end": "m\u00e9".encode()},
    )
    m.close()


def test_docs_worked_examples() -> None:
    """The byte examples in docs/formats/wal.md and manifest.md are what the code writes."""
    from hedgerow.storage.version_edit import encode_version_edit
    from hedgerow.storage.wal_format import FILE_HEADER, MANIFEST_MAGIC, WAL_MAGIC, RecordType
    from hedgerow.storage.wal_writer import frame_record

    wal = FILE_HEADER.pack(WAL_MAGIC, 1) + frame_record(
        RecordType.WAL_EDIT,
        encode_edit(WalEdit("r1", 7, [(b"row", [(b"cf", b"q", 1000, KeyType.PUT, b"v")])])),
    )
    assert wal.hex(" ") == (
        "89 48 52 57 41 4c 0d 0a 01 00 00 00 5a 50 43 18 1c 00 00 00 01 93 a2 72 31 07 91 92 "
        "c4 03 72 6f 77 91 95 c4 02 63 66 c4 01 71 cd 03 e8 04 c4 01 76"
    )
    man = FILE_HEADER.pack(MANIFEST_MAGIC, 1) + frame_record(
        RecordType.VERSION_EDIT,
        encode_version_edit(
            VersionEdit(
                added_files=[FileMeta(b"cf", 5, 4096, 100, b"a", b"z", 1, 7, 1000, 2000)],
                flushed_seq=7,
                next_file_number=6,
            )
        ),
    )
    assert man.hex(" ") == (
        "89 48 52 4d 41 4e 0d 0a 01 00 00 00 ee 95 b1 c1 1f 00 00 00 02 83 01 91 9a c4 02 63 66 "
        "05 cd 10 00 64 c4 01 61 c4 01 7a 01 07 cd 03 e8 cd 07 d0 03 07 04 06"
    )
