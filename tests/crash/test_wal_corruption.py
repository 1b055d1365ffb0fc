"""Crash tests for the WAL: kill -9 a writing process, then every acknowledged edit must be there.

A child process appends at SYNC_WAL from several threads and prints each sequence
number once ``sync`` returned; the parent kills it with SIGKILL after a random
short delay, several times over the same directory (so older files end in torn
tails and are no longer the last file), then recovers and checks.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hedgerow.storage.fs import LocalFS
from hedgerow.storage.wal import WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit
from hedgerow.storage.wal_reader import RecoveryReport, read_wal_dir

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

_CHILD = r"""
import os, sys, threading
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.wal import Durability, WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit

wal_dir, base, durability = sys.argv[1], int(sys.argv[2]), Durability[sys.argv[3]]
wal = WriteAheadLog(LocalFS(), wal_dir, roll_size_bytes=32 * 1024)
os.write(1, b"ready\n")

def writer(t):
    for i in range(10**9):
        seq = base + i * 4 + t
        edit = WalEdit(f"region-{t}", seq, [(b"row%d" % seq, [(b"cf", b"q", seq, 4, b"v" * (seq % 200))])])
        wal.sync(wal.append(edit), durability)
        os.write(1, b"%d\n" % seq)  # acknowledged

threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
"""


def _run_and_kill(wal_dir: str, base: int, out: Path, delay_s: float, durability: str) -> set[int]:
    with open(out, "wb") as f:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, wal_dir, str(base), durability],
            stdout=f,
            stderr=subprocess.PIPE,
        )
    try:
        deadline = time.monotonic() + 30
        while b"ready" not in out.read_bytes():
            if child.poll() is not None:
                raise AssertionError(f"child died: {child.stderr.read().decode()}")  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "child never became ready"
            time.sleep(0.01)
        threading.Event().wait(delay_s)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        child.stderr.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL
    lines = out.read_bytes().split(b"\n")
    # the last line may be cut mid-number by the kill
    return {int(ln) for ln in lines[1:-1] if ln}


@pytest.mark.parametrize("durability", ["SYNC_WAL", "FSYNC_WAL"])
def test_every_acknowledged_edit_survives_sigkill(tmp_path: Path, durability: str) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    wal_dir = str(tmp_path / "wal")
    acked: set[int] = set()
    rounds = 5
    for r in range(rounds):
        delay = rng.uniform(0.05, 0.4)
        got = _run_and_kill(wal_dir, 10_000_000 * (r + 1), tmp_path / f"out{r}", delay, durability)
        assert got, f"seed {seed}: round {r} acknowledged nothing in {delay:.2f}s"
        acked |= got

    report = RecoveryReport()
    recovered = [e.seq for _, _, e in read_wal_dir(LocalFS(), wal_dir, report=report)]
    missing = acked - set(recovered)
    assert not missing, (
        f"seed {seed}: {len(missing)} acknowledged edits lost, e.g. {sorted(missing)[:5]}"
    )
    assert len(recovered) == len(set(recovered)), f"seed {seed}: duplicated records"
    # kill -9 never tears an os.write of a regular file, so nothing was torn or skipped
    assert report.skipped == [], f"seed {seed}: {report}"

    # the manager's own recovery sees the same, then starts a fresh file
    wal = WriteAheadLog(LocalFS(), wal_dir)
    assert [e.seq for _, _, e in wal.recover()] == recovered
    assert wal.current_file not in {
        p for p, _, _ in read_wal_dir(LocalFS(), wal_dir, below_number=0)
    }
    wal.close()


def test_torn_tails_from_partial_writes_across_restarts(tmp_path: Path) -> None:
    """A file cut mid-record by a crash, then more runs: recovery still reads everything acked."""
    fs = LocalFS()
    wal_dir = str(tmp_path / "wal")
    acked = []
    seq = 0
    for _ in range(4):
        wal = WriteAheadLog(fs, wal_dir)
        list(wal.recover())
        for _ in range(20):
            seq += 1
            wal.sync(wal.append(WalEdit("r", seq, [(b"k", [(b"cf", b"q", seq, 4, b"x" * 50)])])))
            acked.append(seq)
        path = wal.current_file
        wal.close()
        # simulate a crash that tore an unacknowledged record at the end of this file
        with open(path, "ab") as f:
            f.write(os.urandom(7))
    report = RecoveryReport()
    recovered = [e.seq for _, _, e in read_wal_dir(fs, wal_dir, report=report)]
    assert recovered == acked
    assert len(report.torn_tails) == 4


def _write_ten(wal_dir: str) -> tuple[str, list[int], list[int]]:
    """Ten FSYNC_WAL edits in one file; (path, seqs, record offsets)."""
    from hedgerow.storage.wal import Durability

    fs = LocalFS()
    wal = WriteAheadLog(fs, wal_dir)
    for seq in range(1, 11):
        edit = WalEdit("r", seq, [(b"k%d" % seq, [(b"cf", b"q", seq, 4, b"x" * 300)])])
        wal.sync(wal.append(edit), Durability.FSYNC_WAL)
    path = wal.current_file
    wal.close()
    offsets = [off for _, off, _ in read_wal_dir(fs, wal_dir)]
    return path, list(range(1, 11)), offsets


def _sector_in(data: bytes, last: int) -> int:
    """The first 512-byte boundary inside the record at ``last`` (the last one)."""
    b = (last + 9 + 511) // 512 * 512
    assert b < len(data), (last, len(data))
    return b


# what a power cut can leave where the last append (not yet fsynced) was being written
_POWER_CUT_TAILS = {
    # the length made it to disk but the payload pages did not (or hold other data)
    "complete-length-garbage": lambda d, last: d[: last + 9] + bytes(range(256)) * 2,
    "zero-filled-extension": lambda d, last: d + bytes(4096),
    "zeros-from-a-sector": lambda d, last: (
        d[: _sector_in(d, last)] + bytes(len(d) - _sector_in(d, last))
    ),
    "cut-mid-payload": lambda d, last: d[: last + 40],
}


@pytest.mark.parametrize("shape", list(_POWER_CUT_TAILS))
def test_power_cut_leftovers_at_the_wal_tail_are_torn_tails(tmp_path: Path, shape: str) -> None:
    """The WAL keeps a lenient tail rule (docs/formats/wal.md): records after its last fsync
    (SYNC_WAL/ASYNC_WAL) may be partly written after a power cut, so even a complete-length
    bad last record is a torn tail. Everything before it reads back."""
    wal_dir = str(tmp_path / "wal")
    path, seqs, offsets = _write_ten(wal_dir)
    data = Path(path).read_bytes()
    torn = _POWER_CUT_TAILS[shape](data, offsets[-1])
    Path(path).write_bytes(torn)
    report = RecoveryReport()
    got = [e.seq for _, _, e in read_wal_dir(LocalFS(), wal_dir, report=report)]
    keep = seqs if shape == "zero-filled-extension" else seqs[:-1]
    assert got == keep
    start = len(data) if shape == "zero-filled-extension" else offsets[-1]
    assert report.torn_tails == [(path, start, len(torn) - start)]
    assert report.skipped == []


def test_damaged_length_of_the_last_wal_record_is_corruption(tmp_path: Path) -> None:
    """A power cut cannot write a record whose crc matches the bytes up to the end of the
    file under a wrong length: that is a damaged length field, so even the WAL refuses it
    (naming file and offset); skip_corruption skips it."""
    from hedgerow.errors import CorruptionError

    wal_dir = str(tmp_path / "wal")
    path, seqs, offsets = _write_ten(wal_dir)
    data = bytearray(Path(path).read_bytes())
    data[offsets[-1] + 5] ^= 0x04  # length + 1024: past the end of the file
    Path(path).write_bytes(bytes(data))
    with pytest.raises(CorruptionError) as info:
        list(read_wal_dir(LocalFS(), wal_dir))
    assert (info.value.path, info.value.offset) == (path, offsets[-1])
    assert "length field" in str(info.value)
    report = RecoveryReport()
    got = [
        e.seq for _, _, e in read_wal_dir(LocalFS(), wal_dir, skip_corruption=True, report=report)
    ]
    assert got == seqs[:-1]
    assert report.skipped == [(path, offsets[-1], len(data) - offsets[-1])]
