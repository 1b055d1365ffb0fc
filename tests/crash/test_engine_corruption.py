"""Corrupted files seen through the engine: a clear CorruptionError naming the file, and no more harm.

Store files: one byte flipped inside a data block of a closed data directory;
reads that need that block fail naming the file, everything else still works.
WAL: a child process writes at SYNC_WAL with flushing effectively disabled and
is killed with SIGKILL, so its edits exist only in ``<dir>/WALs/rs0/*.log``; the
parent then damages the log and reopens.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_reader import SSTableReader


def _flip(path: str, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


# ---- store files --------------------------------------------------------------------------------


def _data_blocks(path: str) -> list[tuple[bytes, int, int]]:
    """(last key, offset, size) of each data block of a store file."""
    r = SSTableReader.open(LocalFS(), path, file_id=0, cache=None)
    try:
        return [(key, off, size) for _lvl, key, off, size in r.index_entries(level=1)]
    finally:
        r.close()


def test_flipped_byte_in_store_file_data_block(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path, background=False) as c:
        c.create_table("t", {"cf": {"block_size": 1024}}, split_keys=[b"m"])
        c.create_table("u", {"cf": {}})
        t, u = c.table("t"), c.table("u")
        for i in range(100):
            t.put(b"a%02d" % i, {b"cf:q": b"%02d" % i + b"v" * 100})
            t.put(b"n%02d" % i, {b"cf:q": b"%02d" % i + b"w" * 100})
            u.put(b"a%02d" % i, {b"cf:q": b"u%02d" % i})
        region_dir = c.backend.region_server.online("t").regions[0].dir  # type: ignore[attr-defined]
    ssts = glob.glob(os.path.join(region_dir, "**", "*.sst"), recursive=True)
    assert len(ssts) == 1, ssts
    sst = ssts[0]
    assert sst.startswith(os.path.join(path, "tables"))
    blocks = _data_blocks(sst)
    assert len(blocks) > 3  # 1 KiB blocks of ~130-byte cells
    _, off, size = blocks[0]
    _flip(sst, off + size // 2)

    with hedgerow.connect(path, background=False) as c:
        t, u = c.table("t"), c.table("u")
        for _ in range(2):  # a failed read is not cached as good
            with pytest.raises(hedgerow.CorruptionError) as ei:
                t.row(b"a00")
            assert sst in str(ei.value)
            assert ei.value.path == sst
            assert ei.value.offset == off
        with pytest.raises(hedgerow.CorruptionError, match=str(sst)):
            list(t.scan())
        # rows in later blocks of the same file, the other region and the other table are fine
        assert t.row(b"a99") == {b"cf:q": b"99" + b"v" * 100}
        assert t.row(b"n00") == {b"cf:q": b"00" + b"w" * 100}
        assert [k for k, _ in t.scan(row_start=b"m")] == [b"n%02d" % i for i in range(100)]
        assert len(list(u.scan())) == 100
        assert u.row(b"a00") == {b"cf:q": b"u00"}
        # writes still work, and reads of the new data do not touch the bad block
        t.put(b"zz", {b"cf:q": b"new"})
        assert t.row(b"zz") == {b"cf:q": b"new"}


# ---- WAL ----------------------------------------------------------------------------------------

N_ROWS = 30

_WAL_CHILD = textwrap.dedent(
    """
    import sys, hedgerow
    conn = hedgerow.connect(sys.argv[1], flush_size_bytes=1 << 30, background=False)
    conn.create_table("t", {"cf": {}})
    conn.create_table("other", {"cf": {}})
    t = conn.table("t")
    for i in range(int(sys.argv[2])):
        t.put(b"row%02d" % i, {b"cf:q": b"value-%02d" % i})
    conn.table("other").put(b"x", {b"cf:q": b"y"})
    print("acked", flush=True)
    sys.stdin.read()  # wait to be killed
    """
)


def _crash_writer(path: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WAL_CHILD, path, str(N_ROWS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line == b"acked\n", line + proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None:
                f.close()
    assert proc.returncode == -signal.SIGKILL


def _records(log: str) -> list[tuple[int, int]]:
    """(offset, total length) of every record of a WAL file (docs/formats/wal.md)."""
    data = Path(log).read_bytes()
    pos, out = 12, []
    while pos + 9 <= len(data):
        (length,) = struct.unpack_from("<I", data, pos + 4)
        out.append((pos, 9 + length))
        pos += 9 + length
    assert pos == len(data)
    return out


@pytest.fixture(scope="module")
def crashed_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    path = str(tmp_path_factory.mktemp("wal") / "db")
    _crash_writer(path)
    # nothing was flushed: the acknowledged writes exist only in the WAL (hbase:meta's own
    # region is flushed after every change of the region map, so it has store files)
    for table in ("t", "other"):
        assert glob.glob(os.path.join(path, "tables", table, "**", "*.sst"), recursive=True) == []
    return path


@pytest.fixture
def db(crashed_dir: str, tmp_path: Path) -> Iterator[tuple[str, str, list[tuple[int, int]]]]:
    """A fresh copy of the crashed directory: (path, its WAL file, the WAL's records)."""
    path = str(tmp_path / "db")
    shutil.copytree(crashed_dir, path)
    logs = [
        p
        for p in sorted(glob.glob(os.path.join(path, "WALs", "rs0", "*.log")))
        if os.path.getsize(p) > 12
    ]
    assert len(logs) == 1, logs
    recs = _records(logs[0])
    data = Path(logs[0]).read_bytes()
    # one record per put; the rows are in write order
    row_recs = [r for r in recs if re.search(rb"row\d\d", data[r[0] : r[0] + r[1]])]
    assert len(row_recs) == N_ROWS
    yield path, logs[0], recs


def _rows(c: hedgerow.Connection) -> dict[bytes, bytes]:
    return {k: v[b"cf:q"] for k, v in c.table("t").scan()}  # type: ignore[index]


def test_crashed_wal_recovers_everything(db: tuple[str, str, list[tuple[int, int]]]) -> None:
    path, _log, _recs = db
    with hedgerow.connect(path) as c:
        assert _rows(c) == {b"row%02d" % i: b"value-%02d" % i for i in range(N_ROWS)}
        assert c.table("other").row(b"x") == {b"cf:q": b"y"}


def _record_of_row(log: str, recs: list[tuple[int, int]], row: bytes) -> tuple[int, int]:
    data = Path(log).read_bytes()
    (rec,) = [r for r in recs if row in data[r[0] : r[0] + r[1]]]
    return rec


# where to flip a byte, relative to the record start: crc, length (low byte, and the
# high byte: an impossible length), type, payload
FLIP_AT = {"crc": 1, "length-low": 4, "length-high": 7, "type": 8, "payload": -3}


@pytest.mark.parametrize("where", list(FLIP_AT))
def test_corrupt_wal_record_in_the_middle_refuses_to_open(
    db: tuple[str, str, list[tuple[int, int]]], where: str
) -> None:
    path, log, recs = db
    off, length = _record_of_row(log, recs, b"row03")
    rel = FLIP_AT[where]
    _flip(log, off + (rel if rel >= 0 else length + rel))
    with pytest.raises(hedgerow.CorruptionError) as ei:
        hedgerow.connect(path)
    msg = str(ei.value)
    assert log in msg
    assert f"offset {off}" in msg
    assert ei.value.path == log
    assert ei.value.offset == off
    # the refused open released the lock and left the log alone: it fails the same way again
    with pytest.raises(hedgerow.CorruptionError, match=f"offset {off}"):
        hedgerow.connect(path)


@pytest.mark.parametrize("where", ["length-high", "payload"])
def test_corrupt_wal_skip_keeps_records_after_the_bad_one(
    db: tuple[str, str, list[tuple[int, int]]], where: str
) -> None:
    path, log, recs = db
    off, length = _record_of_row(log, recs, b"row03")
    rel = FLIP_AT[where]
    _flip(log, off + (rel if rel >= 0 else length + rel))
    expected = {b"row%02d" % i: b"value-%02d" % i for i in range(N_ROWS) if i != 3}
    with hedgerow.connect(path, skip_corrupt_wal=True) as c:
        assert _rows(c) == expected
        assert c.table("other").row(b"x") == {b"cf:q": b"y"}
    # recovery made the survivors durable: a normal open now works and sees them
    with hedgerow.connect(path) as c:
        assert _rows(c) == expected


@pytest.mark.parametrize("keep", ["all-but-3", "5-header-bytes", "header+1", "flipped"])
def test_torn_wal_tail_opens_and_loses_only_the_torn_record(
    db: tuple[str, str, list[tuple[int, int]]], keep: str
) -> None:
    path, log, recs = db
    last_off, last_len = recs[-1]
    data = Path(log).read_bytes()
    assert b"row" not in data[last_off : last_off + last_len]  # the put to "other"
    assert b"row29" in data[recs[-2][0] : last_off]
    if keep == "flipped":  # a bad checksum in the last record is a torn write too
        _flip(log, last_off + last_len - 2)
    else:
        size = {
            "all-but-3": last_off + last_len - 3,
            "5-header-bytes": last_off + 5,
            "header+1": last_off + 10,
        }[keep]
        os.truncate(log, size)
    with hedgerow.connect(path) as c:
        # the last record (the put to "other") is torn; every row before it is there
        assert _rows(c) == {b"row%02d" % i: b"value-%02d" % i for i in range(N_ROWS)}
        assert c.table("other").row(b"x") == {}
        c.table("other").put(b"x", {b"cf:q": b"again"})
    with hedgerow.connect(path) as c:
        assert c.table("other").row(b"x") == {b"cf:q": b"again"}
        assert len(_rows(c)) == N_ROWS


# ---- region manifest ----------------------------------------------------------------------------

M_ROWS = 50


@pytest.fixture
def flushed(tmp_path: Path) -> tuple[str, str, int, int]:
    """A closed directory whose table's rows live only in a store file.

    Returns (data dir, the region's manifest, offset and length of its last record: the
    flush's edit that adds the store file, fsynced before the flush returned)."""
    path = str(tmp_path / "db")
    with hedgerow.connect(path, background=False) as c:
        c.create_table("t", {"cf": {}})
        t = c.table("t")
        for i in range(M_ROWS):
            t.put(b"row%02d" % i, {b"cf:q": b"value-%02d" % i})
        region_dir = c.backend.region_server.online("t").regions[0].dir  # type: ignore[attr-defined]
    hedgerow.connect(path).close()  # deletes the replayed WAL: rows live only in the store file
    assert not any(b"row00" in p.read_bytes() for p in Path(path, "WALs", "rs0").iterdir())
    manifest = os.path.join(region_dir, Path(region_dir, "CURRENT").read_text().strip())
    recs = _records(manifest)
    off, length = recs[-1]
    assert b"cf" in Path(manifest).read_bytes()[off : off + length]  # adds the cf store file
    return path, manifest, off, length


# byte (relative to the last record) and bit to flip: crc, length (+256: past the end of the
# file), length (smaller), type, first payload byte, last payload byte
MANIFEST_FLIPS = {
    "crc": (2, 3),
    "length-past-eof": (5, 0),
    "length-smaller": (4, 1),
    "type": (8, 0),
    "payload-first": (9, 4),
    "payload-last": (-1, 6),
}


@pytest.mark.parametrize("where", list(MANIFEST_FLIPS))
def test_bit_flip_in_the_last_manifest_record_refuses_to_open(
    flushed: tuple[str, str, int, int], where: str
) -> None:
    """Issue 11 finding 8: this record was fsynced before the flush returned and the WAL
    that held its rows was then deleted; dropping it as a torn tail opened a table of 0
    rows. Now the open fails naming the manifest and the record's offset."""
    path, manifest, off, length = flushed
    rel, bit = MANIFEST_FLIPS[where]
    at = off + (rel if rel >= 0 else length + rel)
    data = bytearray(Path(manifest).read_bytes())
    data[at] ^= 1 << bit
    Path(manifest).write_bytes(bytes(data))
    for _ in range(2):  # the refused open changed nothing: it fails the same way again
        with pytest.raises(hedgerow.CorruptionError) as ei:
            hedgerow.connect(path)
        assert (ei.value.path, ei.value.offset) == (manifest, off)
        assert manifest in str(ei.value) and f"offset {off}" in str(ei.value)
    assert Path(manifest).read_bytes() == bytes(data)


# what a crash during a later manifest append can leave after the last record
MANIFEST_TORN = {
    "5-header-bytes": lambda rec: rec[:5],
    "header": lambda rec: rec[:9],
    "header+1": lambda rec: rec[:10],
    "all-but-3": lambda rec: rec[:-3],
    "zero-filled": lambda rec: bytes(4096),
}


@pytest.mark.parametrize("shape", list(MANIFEST_TORN))
def test_torn_manifest_tail_is_dropped_and_every_row_is_there(
    flushed: tuple[str, str, int, int], shape: str
) -> None:
    path, manifest, off, length = flushed
    data = Path(manifest).read_bytes()
    # a copy of the last record stands for the append that never finished
    Path(manifest).write_bytes(data + MANIFEST_TORN[shape](data[off : off + length]))
    with hedgerow.connect(path) as c:
        assert _rows(c) == {b"row%02d" % i: b"value-%02d" % i for i in range(M_ROWS)}
        c.table("t").put(b"new", {b"cf:q": b"x"})
    # the torn manifest was replaced before anything was appended to it
    assert not os.path.exists(manifest)
    with hedgerow.connect(path) as c:
        assert len(_rows(c)) == M_ROWS + 1
